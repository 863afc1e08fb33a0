//! The history a join starts with: asked of the archivers on
//! `chat.history.<channel>` (they also see messages not yet archived). When
//! no archiver answers, the last page is read from the archive and the
//! stream's unarchived messages (`chat_shared::history::page`); a catch-up
//! (`since`) is refused where the archive may lag, since only an archiver
//! reads the stream's tail for it.

use std::time::Duration;

use chat_shared::bus::{json_payload, Bus, BusKey};
use chat_shared::frames::{ErrorCode, ErrorFrame};
use chat_shared::message::Message;
use chat_shared::names::ChannelName;
use chat_shared::payloads::HistoryReply;
use chat_shared::store::{HistoryQuery, Store};
use chat_shared::subjects;

/// The last page of `channel`, or everything after `since` (up to a catch-up's
/// worth), oldest first. `key` checks messages read back from the stream.
pub async fn for_join(
    bus: &dyn Bus,
    store: &dyn Store,
    key: &BusKey,
    channel: &ChannelName,
    since: Option<String>,
    timeout: Duration,
) -> Result<Vec<Message>, ErrorFrame> {
    let query = HistoryQuery::for_join(since);
    match from_archivers(bus, channel, &query, timeout).await {
        Ok(answer) => answer,
        Err(Unanswered) if query.since.is_some() && bus.archive_may_lag() => {
            // The archive alone may lack what the stream stored lately: an
            // answer from it could look whole and miss messages.
            Err(ErrorFrame::new(
                ErrorCode::Unavailable,
                "History is unavailable right now; try again shortly.",
            ))
        }
        Err(Unanswered) => chat_shared::history::page(bus, store, key, channel, &query)
            .await
            .map_err(|e| {
                tracing::warn!(channel = %channel, error = %e, "history unavailable");
                ErrorFrame::new(
                    ErrorCode::Unavailable,
                    "History is unavailable right now; try joining again shortly.",
                )
            }),
    }
}

/// No archiver answered a history request.
#[derive(Debug)]
struct Unanswered;

/// `query` asked of the archivers (who also read the stream for messages not
/// yet stored); their answer, or `Unanswered`.
async fn from_archivers(
    bus: &dyn Bus,
    channel: &ChannelName,
    query: &HistoryQuery,
    timeout: Duration,
) -> Result<Result<Vec<Message>, ErrorFrame>, Unanswered> {
    let payload = json_payload(&query.to_request());
    let reply = match bus
        .request(&subjects::history(channel), Vec::new(), payload, timeout)
        .await
    {
        Ok(reply) => reply,
        Err(e) => {
            tracing::warn!(channel = %channel, error = %e, "history request failed");
            return Err(Unanswered);
        }
    };
    Ok(
        match serde_json::from_slice::<HistoryReply>(&reply.payload) {
            Ok(HistoryReply::Messages { messages }) => Ok(messages),
            Ok(HistoryReply::Error { error }) => {
                tracing::warn!(channel = %channel, code = ?error.code, "history request refused");
                Err(ErrorFrame::new(ErrorCode::Unavailable, error.message))
            }
            Err(e) => {
                tracing::warn!(channel = %channel, error = %e, "unreadable history reply");
                Err(ErrorFrame::new(
                    ErrorCode::Unavailable,
                    "That is unavailable right now; try again shortly.",
                ))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chat_shared::bus::{respond, LocalBus};
    use chat_shared::names::MessageText;
    use chat_shared::payloads::{HistoryRequest, ReplyCode};
    use chat_shared::store::SqliteStore;
    use futures::StreamExt;
    use tokio::sync::mpsc;

    use super::*;

    const WAIT: Duration = Duration::from_secs(2);

    fn key() -> BusKey {
        BusKey::derive(&[7; 64])
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("chat.db")).unwrap();
        (dir, store)
    }

    fn message(text: &str) -> Message {
        let text = MessageText::parse(text).unwrap();
        Message::new(ChannelName::general(), "alice", text, false)
    }

    /// An archiver stand-in: answers every history request with `reply`
    /// and reports the requests it got.
    async fn archiver(bus: &LocalBus, reply: Bytes) -> mpsc::UnboundedReceiver<HistoryRequest> {
        let mut requests = bus
            .queue_subscribe(subjects::HISTORY_ALL, subjects::ARCHIVER_QUEUE)
            .await
            .unwrap();
        let (seen, rx) = mpsc::unbounded_channel();
        let bus = bus.clone();
        tokio::spawn(async move {
            while let Some(r) = requests.next().await {
                let _ = seen.send(serde_json::from_slice(&r.payload).unwrap());
                respond(&bus, &r, reply.clone()).await.unwrap();
            }
        });
        rx
    }

    #[tokio::test]
    async fn with_no_archiver_the_last_page_comes_from_the_store() {
        let (_dir, store) = store();
        let sent: Vec<Message> = (0..60).map(|i| message(&format!("m{i}"))).collect();
        store.insert_messages(&sent).await.unwrap();
        let bus = LocalBus::new();
        let got = for_join(&bus, &store, &key(), &ChannelName::general(), None, WAIT)
            .await
            .unwrap();
        assert_eq!(got.len(), HistoryQuery::DEFAULT_PAGE as usize);
        assert_eq!(got, sent[10..].to_vec(), "the newest page, oldest first");
    }

    #[tokio::test]
    async fn an_archivers_answer_wins_and_a_catch_up_asks_for_everything_since() {
        let (_dir, store) = store();
        let bus = LocalBus::new();
        let answer = vec![message("from the archiver")];
        let reply = json_payload(&HistoryReply::Messages {
            messages: answer.clone(),
        });
        let mut requests = archiver(&bus, reply).await;
        let since = Some(message("older").id);
        let got = for_join(
            &bus,
            &store,
            &key(),
            &ChannelName::general(),
            since.clone(),
            WAIT,
        )
        .await;
        assert_eq!(got.unwrap(), answer);
        let asked = requests.recv().await.unwrap();
        assert_eq!(asked.since, since);
        assert_eq!(asked.limit, Some(HistoryQuery::MAX_CATCH_UP));
    }

    #[tokio::test]
    async fn a_refusal_or_an_unreadable_reply_is_unavailable() {
        let (_dir, store) = store();
        let general = ChannelName::general();
        for (reply, message) in [
            (
                json_payload(&HistoryReply::error(ReplyCode::Unavailable, "db down")),
                "db down",
            ),
            (
                Bytes::from_static(b"not json"),
                "That is unavailable right now; try again shortly.",
            ),
        ] {
            let bus = LocalBus::new();
            let _requests = archiver(&bus, reply).await;
            let e = for_join(&bus, &store, &key(), &general, None, WAIT)
                .await
                .unwrap_err();
            assert_eq!(
                (e.code, e.message.as_str()),
                (ErrorCode::Unavailable, message)
            );
        }
    }
}
