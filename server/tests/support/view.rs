//! A client's view of a channel, built from frames by the rules every client
//! follows (as the browser UI does): messages by id; an edit replaces the
//! text unless the message is deleted or has a later edit; a deletion
//! empties it for good; a reaction puts or takes back one person's emoji.
//! Used to check that a client catching up sees what a fresh join sees.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Client, Ws};

#[derive(Default, Debug, Clone, PartialEq)]
pub struct View {
    pub messages: BTreeMap<String, Value>,
    /// The newest message id the server sent: where a catch-up starts.
    pub cursor: Option<String>,
}

impl View {
    /// Applies one frame of `channel`; other frames are ignored.
    pub fn apply(&mut self, f: &Value, channel: &str) {
        if f["channel"] != channel && f["message"]["channel"] != channel {
            return;
        }
        match f["type"].as_str() {
            Some("joined") => {
                for m in f["history"].as_array().into_iter().flatten() {
                    self.add(m);
                }
            }
            Some("message") => self.add(&f["message"]),
            Some("edited") => {
                if let Some(m) = self.messages.get_mut(f["id"].as_str().unwrap()) {
                    let later = m["edited_at"]
                        .as_str()
                        .is_none_or(|at| at <= f["edited_at"].as_str().unwrap());
                    if m["deleted"] != true && later {
                        m["text"] = f["text"].clone();
                        m["edited_at"] = f["edited_at"].clone();
                    }
                }
            }
            Some("deleted") => {
                if let Some(m) = self.messages.get_mut(f["id"].as_str().unwrap()) {
                    m["text"] = json!("");
                    m["deleted"] = json!(true);
                    m.as_object_mut().unwrap().remove("reactions");
                }
            }
            Some("reaction") => {
                if let Some(m) = self.messages.get_mut(f["id"].as_str().unwrap()) {
                    if m["deleted"] == true {
                        return;
                    }
                    react(m, f["emoji"].as_str().unwrap(), &f["user"], f["on"] == true);
                }
            }
            _ => {}
        }
    }

    fn add(&mut self, m: &Value) {
        let id = m["id"].as_str().unwrap().to_owned();
        if self.cursor.as_ref().is_none_or(|c| *c < id) {
            self.cursor = Some(id.clone());
        }
        self.messages.insert(id, m.clone());
    }

    /// Reads every frame `ws` has for `channel` within `wait` into the view.
    pub async fn read(&mut self, ws: &mut Ws, channel: &str, wait: Duration) {
        for f in ws.drain(wait).await {
            self.apply(&f, channel);
        }
    }

    /// The view of someone joining `channel` now, afresh.
    pub async fn fresh(client: &Client, channel: &str) -> View {
        let mut view = View::default();
        let joined = client.ws().await.join(channel).await;
        view.apply(&joined, channel);
        view
    }

    /// Compares with `other` message by message, field by field.
    pub fn assert_same(&self, other: &View, what: &str) {
        let ids: Vec<_> = self.messages.keys().collect();
        let theirs: Vec<_> = other.messages.keys().collect();
        assert_eq!(ids, theirs, "{what}: the same messages");
        for (id, m) in &self.messages {
            let o = &other.messages[id];
            for field in [
                "user",
                "text",
                "ts",
                "edited_at",
                "deleted",
                "reactions",
                "reply_to",
                "bot",
            ] {
                let (a, b) = (normal(&m[field]), normal(&o[field]));
                assert_eq!(a, b, "{what}: message {id} field {field}: {m} vs {o}");
            }
        }
    }
}

/// Absent, null, false and empty compare equal (fields are left out when empty).
fn normal(v: &Value) -> Value {
    match v {
        Value::Bool(false) => Value::Null,
        Value::Object(o) if o.is_empty() => Value::Null,
        other => other.clone(),
    }
}

fn react(m: &mut Value, emoji: &str, user: &Value, on: bool) {
    if !m["reactions"].is_object() {
        m["reactions"] = json!({});
    }
    let reactions = m["reactions"].as_object_mut().unwrap();
    let users = reactions.entry(emoji).or_insert_with(|| json!([]));
    let list = users.as_array_mut().unwrap();
    let had = list.iter().position(|u| u == user);
    match (on, had) {
        (true, None) => list.push(user.clone()),
        (false, Some(i)) => {
            list.remove(i);
        }
        _ => {}
    }
    if list.is_empty() {
        reactions.remove(emoji);
    }
}

/// One send, edit, delete or reaction as a frame, with a fresh ref.
pub fn frame(kind: &str, channel: &str, id: &str, extra: Value) -> Value {
    let reference = format!("r-{}", chat_shared::message::next_id());
    let mut f = json!({"type": kind, "channel": channel, "id": id, "ref": reference});
    for (k, v) in extra.as_object().unwrap() {
        f[k] = v.clone();
    }
    f
}

/// The catch-up check: `bob` watches `channel` while its author (on `a`)
/// sends, edits and reacts ([`Watching::start`]), drops off, misses a mix of
/// sends, edits, deletions and reactions to messages old and new
/// ([`Watching::miss`]), and catches up with `since`; his view then equals
/// a fresh join's, field by field ([`Watching::catch_up`]).
pub struct Watching {
    seen: View,
    ids: Vec<String>,
    channel: String,
}

fn ok(f: Value) {
    assert_eq!(f["type"], "ack", "{f}");
}

impl Watching {
    pub async fn start(a: &mut Ws, bob: &Client, channel: &str) -> Watching {
        let mut b = bob.ws().await;
        let mut seen = View::default();
        seen.apply(&b.join(channel).await, channel);
        let mut ids = Vec::new();
        for text in ["one", "two", "three"] {
            ids.push(a.say(channel, text).await);
        }
        ok(b.answer(frame(
            "react",
            channel,
            &ids[0],
            json!({"emoji": "👍", "on": true}),
        ))
        .await);
        ok(a.answer(frame(
            "edit",
            channel,
            &ids[1],
            json!({"text": "two, edited"}),
        ))
        .await);
        ok(a.answer(frame(
            "react",
            channel,
            &ids[2],
            json!({"emoji": "🎉", "on": true}),
        ))
        .await);
        seen.read(&mut b, channel, Duration::from_millis(500)).await;
        assert!(
            ids.iter().all(|id| seen.messages.contains_key(id)),
            "bob saw the first three"
        );
        Watching {
            seen,
            ids,
            channel: channel.to_owned(),
        }
    }

    /// What happens while bob is away.
    pub async fn miss(&mut self, a: &mut Ws) {
        let (channel, ids) = (self.channel.as_str(), &mut self.ids);
        for text in ["four", "five"] {
            ids.push(a.say(channel, text).await);
        }
        for f in [
            frame("edit", channel, &ids[0], json!({"text": "one, edited"})),
            frame(
                "edit",
                channel,
                &ids[1],
                json!({"text": "two, edited twice"}),
            ),
            frame("delete", channel, &ids[2], json!({})),
            frame("edit", channel, &ids[3], json!({"text": "four, edited"})),
            frame("delete", channel, &ids[4], json!({})),
            frame(
                "react",
                channel,
                &ids[0],
                json!({"emoji": "🔥", "on": true}),
            ),
            frame(
                "react",
                channel,
                &ids[1],
                json!({"emoji": "👀", "on": true}),
            ),
            frame(
                "react",
                channel,
                &ids[1],
                json!({"emoji": "👀", "on": false}),
            ),
            frame(
                "react",
                channel,
                &ids[3],
                json!({"emoji": "✅", "on": true}),
            ),
        ] {
            ok(a.answer(f).await);
        }
    }

    /// Bob catches up; his view equals `dave`'s fresh one.
    pub async fn catch_up(mut self, bob: &Client, dave: &Client) {
        let (channel, ids) = (self.channel.as_str(), &self.ids);
        let mut b = bob.ws().await;
        let since = self.seen.cursor.clone().unwrap();
        b.send(json!({"type": "join", "channel": channel, "since": since}))
            .await;
        self.seen
            .read(&mut b, channel, Duration::from_millis(1500))
            .await;
        let fresh = View::fresh(dave, channel).await;
        assert!(
            ids.iter().all(|id| fresh.messages.contains_key(id)),
            "all five"
        );
        assert_eq!(fresh.messages[&ids[2]]["deleted"], true);
        let reactions = &fresh.messages[&ids[0]]["reactions"];
        let counts = ["👍", "🔥"].map(|e| reactions[e].as_array().map(Vec::len));
        assert_eq!(counts, [Some(1), Some(1)], "{reactions}");
        self.seen.assert_same(&fresh, "after catching up");
    }
}

/// [`Watching`] from start to end.
pub async fn catch_up_equals_fresh_join(a: &mut Ws, bob: &Client, dave: &Client, channel: &str) {
    let mut watching = Watching::start(a, bob, channel).await;
    watching.miss(a).await;
    watching.catch_up(bob, dave).await;
}
