//! History requests: `chat.history.<channel>` with `{"before"?,"since"?,"limit"?}`.

use std::collections::BTreeMap;

use bytes::Bytes;
use chat_shared::bus::{respond, Bus, Envelope};
use chat_shared::message::is_message_id;
use chat_shared::message::Message;
use chat_shared::store::{HistoryQuery, Store};
use chat_shared::subjects::{self, HistoryReply, HistoryRequest, ReplyError};

use crate::tail::StreamTail;

/// Most messages one page returns.
pub const MAX_PAGE: u32 = 100;
/// Most messages a catch-up (`since`) returns at once.
pub const MAX_SINCE: u32 = 1000;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;

fn error(code: &str, message: &str) -> HistoryReply {
    HistoryReply::Error {
        error: ReplyError {
            code: code.to_owned(),
            message: message.to_owned(),
        },
    }
}

/// The reply to one history request. With a `since`, messages still on
/// their way to the archive are read from the stream (`tail`) and merged in.
pub async fn reply(
    store: &dyn Store,
    tail: Option<&StreamTail>,
    envelope: &Envelope,
) -> HistoryReply {
    let Some(channel) = subjects::channel_of(&envelope.subject) else {
        return error("invalid_channel", "That is not a valid channel name.");
    };
    let request: HistoryRequest = if envelope.payload.is_empty() {
        HistoryRequest::default()
    } else {
        match serde_json::from_slice(&envelope.payload) {
            Ok(r) => r,
            Err(e) => return error("invalid_request", &format!("Bad history request: {e}")),
        }
    };
    let ids_ok = [&request.before, &request.since]
        .iter()
        .all(|id| id.as_deref().is_none_or(is_message_id));
    if !ids_ok {
        return error("invalid_request", "before and since must be message ids.");
    }
    let max = if request.since.is_some() {
        MAX_SINCE
    } else {
        MAX_PAGE
    };
    let query = HistoryQuery {
        before: request.before,
        since: request.since,
        limit: request.limit.unwrap_or(DEFAULT_PAGE).clamp(1, max),
    };
    match store.channel(&channel).await {
        Ok(Some(_)) => {}
        Ok(None) => return error("no_such_channel", "There is no such channel."),
        Err(e) => {
            tracing::error!(error = %e, "history lookup failed");
            return error("unavailable", "History is unavailable right now.");
        }
    }
    let stored = match store.messages(&channel, &query).await {
        Ok(messages) => messages,
        Err(e) => {
            tracing::error!(error = %e, channel = %channel, "history query failed");
            return error("unavailable", "History is unavailable right now.");
        }
    };
    let (Some(tail), Some(since)) = (tail, &query.since) else {
        return HistoryReply::Messages { messages: stored };
    };
    match tail.after(&channel, since, query.limit as usize).await {
        Ok(recent) => {
            let merged: BTreeMap<String, Message> = stored
                .into_iter()
                .chain(recent)
                .map(|m| (m.id.clone(), m))
                .collect();
            HistoryReply::Messages {
                messages: merged.into_values().take(query.limit as usize).collect(),
            }
        }
        Err(e) => {
            tracing::error!(error = %e, channel = %channel, "reading the stream failed");
            error("unavailable", "History is unavailable right now.")
        }
    }
}

/// Answers one history request on the bus.
pub async fn answer(
    bus: &dyn Bus,
    store: &dyn Store,
    tail: Option<&StreamTail>,
    envelope: &Envelope,
) {
    let body = reply(store, tail, envelope).await;
    let payload = Bytes::from(serde_json::to_vec(&body).expect("replies serialize"));
    if let Err(e) = respond(bus, envelope, payload).await {
        tracing::warn!(error = %e, subject = %envelope.subject, "could not answer history request");
    }
}
