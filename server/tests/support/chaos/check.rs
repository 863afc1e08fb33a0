//! The accounting at the end of a chaos run: what the clients sent and were
//! acknowledged, what PostgreSQL holds, and what each client's view holds.

use std::collections::{HashMap, HashSet};

use super::client::ChaosClient;
use super::control::texts;

/// A row of the archive's `messages` table.
pub struct Row {
    pub id: String,
    pub user: String,
    pub text: String,
}

impl Row {
    /// From the fields `id, username, text`.
    pub fn from_fields(fields: &[String]) -> Self {
        Row {
            id: fields[0].clone(),
            user: fields[1].clone(),
            text: fields[2].clone(),
        }
    }
}

/// The counts, and every broken promise in words.
#[derive(Default)]
pub struct Report {
    pub sent: usize,
    pub acked: usize,
    pub never_acked: usize,
    /// The clients' messages in the archive, and of those the never acked.
    pub stored: usize,
    pub stored_unacked: usize,
    /// Extra rows with a (user, text) already stored.
    pub duplicates: usize,
    /// Acked messages missing from the archive.
    pub lost: usize,
    pub bot_replies: usize,
    /// Acked messages missing from at least one final view, and shown
    /// more than once (under another id) in at least one.
    pub unseen: usize,
    pub seen_twice: usize,
    /// Pairs of a sender's acked messages whose ids are out of send order.
    pub out_of_order: usize,
    pub problems: Vec<String>,
}

/// Up to 5 examples of a problem, and how many there were.
fn some(examples: &[String]) -> String {
    let shown: Vec<&str> = examples.iter().take(5).map(String::as_str).collect();
    format!("{} (e.g. {})", examples.len(), shown.join("; "))
}

/// The first `since` a client rejoined with that was past `id`: the join
/// that could not bring it back.
fn rejoined_past(rejoins: &[String], id: &str) -> String {
    rejoins
        .iter()
        .find(|since| since.as_str() > id)
        .cloned()
        .unwrap_or_else(|| "(never past it)".into())
}

impl Report {
    pub fn new(clients: &[ChaosClient], rows: &[Row]) -> Self {
        let mut report = Report::default();
        for c in clients {
            report.sent += c.sends.len();
            report.acked += c.sends.iter().filter(|s| s.id.is_some()).count();
        }
        report.never_acked = report.sent - report.acked;
        report.bot_replies = rows.iter().filter(|r| r.user == "stockbot").count();
        report.archive(clients, rows);
        let stored: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        report.views(clients, &stored);
        report.order(clients);
        if report.bot_replies == 0 {
            report.problems.push("the bots answered no command".into());
        }
        report
    }

    /// Every acked message is stored once, as sent; nothing is stored twice.
    fn archive(&mut self, clients: &[ChaosClient], rows: &[Row]) {
        let names: HashSet<&str> = clients.iter().map(|c| c.name.as_str()).collect();
        let by_id: HashMap<&str, &Row> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        for row in rows.iter().filter(|r| names.contains(r.user.as_str())) {
            *seen.entry((&row.user, &row.text)).or_default() += 1;
        }
        self.stored = seen.values().sum();
        self.duplicates = seen.values().map(|n| n - 1).sum();
        let (mut lost, mut wrong, mut doubled) = (Vec::new(), Vec::new(), Vec::new());
        for ((user, text), n) in &seen {
            if *n > 1 {
                doubled.push(format!("{user} {text:?} stored {n} times"));
            }
        }
        for c in clients {
            for s in &c.sends {
                let Some(id) = &s.id else {
                    self.stored_unacked += usize::from(seen.contains_key(&(&c.name, &s.text)));
                    continue;
                };
                match by_id.get(id.as_str()) {
                    None => lost.push(format!("{} {:?} (id {id})", c.name, s.text)),
                    Some(r) if r.user != c.name || r.text != s.text => wrong.push(format!(
                        "id {id}: sent by {} as {:?}, stored as {}: {:?}",
                        c.name, s.text, r.user, r.text
                    )),
                    Some(_) => {}
                }
            }
        }
        self.lost = lost.len();
        self.problem(&lost, "acked messages are not in PostgreSQL");
        self.problem(&wrong, "acked messages are stored otherwise than sent");
        self.problem(&doubled, "messages are stored more than once");
    }

    /// Every acked message is in every client's final view exactly once.
    fn views(&mut self, clients: &[ChaosClient], stored: &HashSet<&str>) {
        let (mut unseen, mut seen_twice) = (HashSet::new(), HashSet::new());
        for viewer in clients {
            if !viewer.stats.final_join {
                let what = format!("{} could not reconnect and rejoin at the end", viewer.name);
                self.problems.push(what);
            }
            let counts = texts(&viewer.view);
            let (mut missing, mut twice) = (Vec::new(), Vec::new());
            for c in clients {
                for s in &c.sends {
                    let Some(id) = &s.id else { continue };
                    match viewer.view.get(id) {
                        Some(v) if v.text == s.text => {}
                        _ => missing.push(format!(
                            "{} {:?} (id {id}; {} rejoined since {})",
                            c.name,
                            s.text,
                            viewer.name,
                            rejoined_past(&viewer.stats.rejoins, id)
                        )),
                    }
                    let n = counts.get(&(c.name.as_str(), s.text.as_str()));
                    if viewer.view.get(id).is_none_or(|v| v.text != s.text) {
                        unseen.insert(id);
                    }
                    if n.copied().unwrap_or(0) > 1 {
                        seen_twice.insert(id);
                        let ids: Vec<String> = viewer
                            .view
                            .iter()
                            .filter(|(_, v)| v.user == c.name && v.text == s.text)
                            .map(|(id, _)| {
                                let kept = if stored.contains(id.as_str()) {
                                    "stored"
                                } else {
                                    "not stored"
                                };
                                format!("{id} {kept}")
                            })
                            .collect();
                        twice.push(format!("{} {:?} as {}", c.name, s.text, ids.join(", ")));
                    }
                }
            }
            let whose = format!("in the final view of {}", viewer.name);
            if !missing.is_empty() {
                let what = format!("acked messages are missing {whose}");
                let trail = viewer.stats.trail.join("\n  ");
                self.problems.push(format!(
                    "{what}: {}\n  its connections:\n  {trail}",
                    some(&missing)
                ));
            }
            self.problem(
                &twice,
                &format!("acked messages show more than once {whose}"),
            );
        }
        self.unseen = unseen.len();
        self.seen_twice = seen_twice.len();
    }

    /// Each sender's acked messages have ids in the order they were sent, so
    /// a view (ordered by id, as the UI orders it) shows them in that order.
    fn order(&mut self, clients: &[ChaosClient]) {
        let mut out_of_order = Vec::new();
        for c in clients {
            let acked: Vec<(&str, &str)> = c
                .sends
                .iter()
                .filter_map(|s| Some((s.id.as_deref()?, s.text.as_str())))
                .collect();
            for pair in acked.windows(2) {
                if pair[0].0 >= pair[1].0 {
                    out_of_order.push(format!(
                        "{}: {:?} ({}) was sent before {:?} ({})",
                        c.name, pair[0].1, pair[0].0, pair[1].1, pair[1].0
                    ));
                }
            }
        }
        self.out_of_order = out_of_order.len();
        self.problem(&out_of_order, "a sender's messages are out of order");
    }

    fn problem(&mut self, examples: &[String], what: &str) {
        if !examples.is_empty() {
            self.problems.push(format!("{what}: {}", some(examples)));
        }
    }
}
