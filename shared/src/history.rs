//! A page of a channel's history (paging back, or the last page a join
//! starts with) that misses nothing while the archive lags: what the archive
//! holds, and what the stream stored that the archivers have not yet
//! acknowledged as archived.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::bus::inbound::{self, Inbound};
use crate::bus::read_back::Then;
use crate::bus::{Bus, BusKey};
use crate::change::Change;
use crate::message::Message;
use crate::names::ChannelName;
use crate::store::{HistoryQuery, Store, StoreError};
use crate::subjects;

/// How long reading the unarchived messages may take before the page is
/// refused (an error, never a page with a hole).
const UNARCHIVED_WITHIN: Duration = Duration::from_secs(5);

/// The page `query` (which has no `since`) asks for, oldest first: the
/// newest `limit` messages before `query.before` (or of all), from the
/// archive and from the stream's unarchived messages (each checked as bus
/// input is, with `key`), each once.
pub async fn page(
    bus: &dyn Bus,
    store: &dyn Store,
    key: &BusKey,
    channel: &ChannelName,
    query: &HistoryQuery,
) -> Result<Vec<Message>, StoreError> {
    debug_assert!(query.since.is_none(), "a catch-up is not a page");
    let limit = query.limit as usize;
    let mut newest = BTreeMap::new();
    let mut changes = Vec::new();
    // The stream first: the archive read after it then holds everything up
    // to where the archivers' acknowledgements stood when it was read.
    let mut take = |envelope, _| {
        let m = match inbound::receive_any(&envelope, key) {
            Ok(Inbound::Message(m)) => m,
            Ok(Inbound::Change(c)) => {
                changes.push(c);
                return Then::More;
            }
            Err(_) => return Then::More,
        };
        let wanted = m.channel == *channel && query.before.as_ref().is_none_or(|b| m.id < *b);
        if wanted {
            newest.insert(m.id.clone(), m);
            if newest.len() > limit {
                newest.pop_first();
            }
        }
        Then::More
    };
    unarchived(bus, channel, &mut take).await?;
    let stored = store.messages(channel, query).await?;
    let mut page = newest_of(stored, newest, limit);
    // Changes not archived yet, in the stream's order (applying one the
    // archive holds too changes nothing).
    apply_in_order(&mut page, &changes);
    Ok(page)
}

/// Applies `changes`, in order, to those of `messages` (sorted by id) they name.
pub fn apply_in_order(messages: &mut [Message], changes: &[Change]) {
    for change in changes {
        if let Ok(i) = messages.binary_search_by(|m| m.id.as_str().cmp(change.id())) {
            change.apply(&mut messages[i]);
        }
    }
}

/// The message `id` of `channel` (checked as bus input is, with `key`, when
/// read from the stream): archived, or still on its way to the archive.
pub async fn find(
    bus: &dyn Bus,
    store: &dyn Store,
    key: &BusKey,
    channel: &ChannelName,
    id: &str,
) -> Result<Option<Message>, StoreError> {
    // Most are archived: the archive first, with no round trip to NATS.
    if let Some(m) = store.message(channel, id).await? {
        return Ok(Some(m));
    }
    let mut found = None;
    let mut take = |envelope, _| match inbound::receive(&envelope, key) {
        Ok(m) if m.id == id && m.channel == *channel => {
            found = Some(m);
            Then::Stop
        }
        _ => Then::More,
    };
    unarchived(bus, channel, &mut take).await?;
    match found {
        Some(m) => Ok(Some(m)),
        // Archived (and so acknowledged) between the two reads.
        None => store.message(channel, id).await,
    }
}

/// How far before a catch-up's `since` changes are looked for: changes are
/// stamped by the clocks of the servers that took them, ids by others'.
const CLOCK_MARGIN_MS: i64 = 30_000;
/// Changes a catch-up returns, at most, of each kind from the archive.
pub const MAX_CHANGES: u32 = 5_000;

/// What changed in the messages of `channel` a client had when it held
/// everything up to `since`, so that after the messages it missed its view
/// equals a fresh join's: each changed message's deletion or current text
/// and each person's current reactions, from the archive, then what the
/// stream holds that the archivers have not acknowledged (for any message),
/// each target once, at its latest.
pub async fn changes_since(
    bus: &dyn Bus,
    store: &dyn Store,
    key: &BusKey,
    channel: &ChannelName,
    since: &str,
) -> Result<Vec<Change>, StoreError> {
    let since_ms = ulid::Ulid::from_string(since)
        .map_err(|e| StoreError::Internal(format!("since is not an id: {e}")))?
        .timestamp_ms();
    let from = i64::try_from(since_ms).unwrap_or(i64::MAX) - CLOCK_MARGIN_MS;
    let mut unarchived_changes = Vec::new();
    let mut take = |envelope: crate::bus::Envelope, _| {
        // Only changes matter here: messages are not checked (a client
        // far behind would pay for thousands of signatures per join).
        if crate::change::is_change(&envelope.payload) {
            if let Ok(Inbound::Change(c)) = inbound::receive_any(&envelope, key) {
                unarchived_changes.push(c);
            }
        }
        Then::More
    };
    unarchived(bus, channel, &mut take).await?;
    let archived = store
        .changes_since(channel, since, from, MAX_CHANGES)
        .await?;
    Ok(latest_of(archived.into_iter().chain(unarchived_changes)))
}

/// Each change's target (a message's text or deletion, or one person's
/// reaction with one emoji) once, at its latest change; in first-seen order.
fn latest_of(changes: impl IntoIterator<Item = Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for c in changes {
        let target = match &c {
            Change::Edited { id, .. } => (id.clone(), String::new(), "edit".to_owned()),
            Change::Deleted { id, .. } => (id.clone(), String::new(), "delete".to_owned()),
            Change::Reaction {
                id, emoji, user, ..
            } => (id.clone(), emoji.clone(), user.clone()),
        };
        match index.get(&target) {
            Some(&i) => {
                let later = match (&out[i], &c) {
                    (Change::Edited { edited_at: a, .. }, Change::Edited { edited_at: b, .. })
                    | (Change::Reaction { at: a, .. }, Change::Reaction { at: b, .. }) => b >= a,
                    _ => false,
                };
                if later {
                    out[i] = c;
                }
            }
            None => {
                index.insert(target, out.len());
                out.push(c);
            }
        }
    }
    out
}

/// Hands `take` the channel's messages the archivers have not acknowledged.
async fn unarchived(
    bus: &dyn Bus,
    channel: &ChannelName,
    take: &mut (dyn FnMut(crate::bus::Envelope, chrono::DateTime<chrono::Utc>) -> Then + Send),
) -> Result<(), StoreError> {
    bus.read_unarchived(&subjects::msg(channel), UNARCHIVED_WITHIN, take)
        .await
        .map_err(|e| StoreError::Unavailable(format!("unarchived messages: {e}")))
}

/// The newest `limit` of both, each once, oldest first.
fn newest_of(
    stored: Vec<Message>,
    mut unarchived: BTreeMap<String, Message>,
    limit: usize,
) -> Vec<Message> {
    if unarchived.is_empty() {
        return stored;
    }
    unarchived.extend(stored.into_iter().map(|m| (m.id.clone(), m)));
    let skip = unarchived.len().saturating_sub(limit);
    unarchived.into_values().skip(skip).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::MessageText;

    fn messages(n: usize) -> Vec<Message> {
        (0..n)
            .map(|i| {
                let text = MessageText::parse(&format!("m{i}")).unwrap();
                Message::new(ChannelName::general(), "alice", text, false)
            })
            .collect()
    }

    #[test]
    fn the_newest_of_archived_and_unarchived_each_once_oldest_first() {
        let all = messages(8);
        let stored = all[..5].to_vec();
        // The archive's newest two are also still unacknowledged.
        let unarchived: BTreeMap<_, _> =
            all[3..].iter().map(|m| (m.id.clone(), m.clone())).collect();
        assert_eq!(newest_of(stored.clone(), unarchived.clone(), 4), all[4..]);
        assert_eq!(newest_of(stored.clone(), unarchived, 50), all);
        assert_eq!(newest_of(stored.clone(), BTreeMap::new(), 4), stored);
    }
}
