//! History requests: `chat.history.<channel>` with `{"before"?,"since"?,"limit"?}`.

use std::collections::BTreeMap;

use chat_shared::bus::{json_payload, respond, Bus, BusKey, Envelope};
use chat_shared::message::{is_message_id, Message};
use chat_shared::names::ChannelName;
use chat_shared::payloads::{HistoryReply, HistoryRequest, ReplyCode};
use chat_shared::store::{HistoryQuery, Store};
use chat_shared::subjects;

use crate::tail::StreamTail;
use chat_shared::log_text::shown;

const UNAVAILABLE: &str = "History is unavailable right now.";

/// Where answers come from: the archive, the stream's unarchived messages
/// (through the bus, checked with `key`), and for a `since`, the stream's
/// tail (distributed mode).
pub struct Sources<'a> {
    pub bus: &'a dyn Bus,
    pub store: &'a dyn Store,
    pub tail: Option<&'a StreamTail>,
    pub key: &'a BusKey,
}

/// The reply to one history request. Messages still on their way to the
/// archive are read from the stream and merged in.
pub async fn reply(sources: &Sources<'_>, envelope: &Envelope) -> HistoryReply {
    match read(sources, envelope).await {
        Ok(messages) => HistoryReply::Messages { messages },
        Err(error) => error,
    }
}

async fn read(sources: &Sources<'_>, envelope: &Envelope) -> Result<Vec<Message>, HistoryReply> {
    let (channel, query) = parse(envelope)?;
    let store = sources.store;
    match store.channel(&channel).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let e = HistoryReply::error(ReplyCode::NoSuchChannel, "There is no such channel.");
            return Err(e);
        }
        Err(e) => {
            tracing::error!(error = %e, "history lookup failed");
            return Err(HistoryReply::error(ReplyCode::Unavailable, UNAVAILABLE));
        }
    }
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, channel = %channel, "history query failed");
        HistoryReply::error(ReplyCode::Unavailable, UNAVAILABLE)
    };
    let Some(since) = &query.since else {
        let (bus, key) = (sources.bus, sources.key);
        let page = chat_shared::history::page(bus, store, key, &channel, &query).await;
        return page.map_err(|e| failed(&e));
    };
    let stored = store
        .messages(&channel, &query)
        .await
        .map_err(|e| failed(&e))?;
    match sources.tail {
        Some(tail) => {
            let recent = tail.after(&channel, since, query.limit as usize).await;
            let recent = recent.map_err(|e| failed(&format!("reading the stream: {e}")))?;
            Ok(merge(stored, recent, since, query.limit as usize))
        }
        None => Ok(stored),
    }
}

/// The channel (from the subject) and the query (from the payload).
fn parse(envelope: &Envelope) -> Result<(ChannelName, HistoryQuery), HistoryReply> {
    let Some(channel) = subjects::channel_of(&envelope.subject) else {
        let e = HistoryReply::error(
            ReplyCode::InvalidChannel,
            "That is not a valid channel name.",
        );
        return Err(e);
    };
    let request: HistoryRequest = if envelope.payload.is_empty() {
        HistoryRequest::default()
    } else {
        serde_json::from_slice(&envelope.payload).map_err(|e| {
            HistoryReply::error(
                ReplyCode::InvalidRequest,
                format!("Bad history request: {e}"),
            )
        })?
    };
    let ids_ok = [&request.before, &request.since]
        .iter()
        .all(|id| id.as_deref().is_none_or(is_message_id));
    if !ids_ok {
        let e = HistoryReply::error(
            ReplyCode::InvalidRequest,
            "before and since must be message ids.",
        );
        return Err(e);
    }
    Ok((channel, HistoryQuery::from_request(request)))
}

/// Stored and still-streaming messages, each once, oldest first, at most
/// `limit`. Of a message in both, the stored one: it is as changed since
/// (a change is archived only after its message).
fn merge(stored: Vec<Message>, recent: Vec<Message>, since: &str, limit: usize) -> Vec<Message> {
    let merged: BTreeMap<String, Message> = recent
        .into_iter()
        .chain(stored)
        .map(|m| (m.id.clone(), m))
        .collect();
    // Those stored late with an earlier id come first and do not count
    // against the limit, which is for the messages after `since`.
    let late = merged.range(..since.to_owned()).count();
    merged.into_values().take(late + limit).collect()
}

/// Answers one history request on the bus.
pub async fn answer(sources: &Sources<'_>, envelope: &Envelope) {
    crate::metrics::history_request();
    let body = reply(sources, envelope).await;
    if let Err(e) = respond(sources.bus, envelope, json_payload(&body)).await {
        tracing::warn!(error = %e, subject = %shown(&envelope.subject), "could not answer history request");
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chat_shared::names::MessageText;

    use super::*;

    fn request(subject: &str, payload: &'static str) -> Envelope {
        Envelope {
            subject: subject.to_owned(),
            reply: None,
            headers: Vec::new(),
            payload: Bytes::from_static(payload.as_bytes()),
        }
    }

    fn code(result: Result<(ChannelName, HistoryQuery), HistoryReply>) -> ReplyCode {
        match result {
            Err(HistoryReply::Error { error }) => error.code,
            other => panic!("expected an error reply, got {other:?}"),
        }
    }

    #[test]
    fn a_request_names_its_channel_in_the_subject_and_may_be_empty() {
        let (channel, query) = parse(&request("chat.history.general", "")).unwrap();
        assert_eq!(channel, ChannelName::general());
        assert_eq!(query, HistoryQuery::latest(HistoryQuery::DEFAULT_PAGE));
        let (_, query) = parse(&request("chat.history.general", r#"{"limit":5000}"#)).unwrap();
        assert_eq!(query.limit, HistoryQuery::MAX_PAGE);
    }

    #[test]
    fn bad_channels_payloads_and_ids_get_their_codes() {
        let bad_channel = parse(&request("chat.history.Not Valid", ""));
        assert_eq!(code(bad_channel), ReplyCode::InvalidChannel);
        let bad_json = parse(&request("chat.history.general", "{"));
        assert_eq!(code(bad_json), ReplyCode::InvalidRequest);
        let bad_id = parse(&request("chat.history.general", r#"{"since":"yesterday"}"#));
        assert_eq!(code(bad_id), ReplyCode::InvalidRequest);
    }

    #[test]
    fn merging_keeps_each_message_once_oldest_first_up_to_the_limit_after_since() {
        let text = MessageText::parse("m").unwrap();
        let m: Vec<Message> = (0..5)
            .map(|_| Message::new(ChannelName::general(), "a", text.clone(), false))
            .collect();
        // Since m[1]: the archive has what came after it, the stream also
        // m[0], stored late.
        let since = m[1].id.clone();
        let stored = vec![m[2].clone(), m[3].clone()];
        let recent = vec![m[4].clone(), m[0].clone(), m[3].clone(), m[2].clone()];
        let all = vec![m[0].clone(), m[2].clone(), m[3].clone(), m[4].clone()];
        assert_eq!(merge(stored.clone(), recent.clone(), &since, 10), all);
        assert_eq!(
            merge(stored, recent, &since, 2),
            all[..3].to_vec(),
            "the late one does not count against the limit"
        );
    }
}
