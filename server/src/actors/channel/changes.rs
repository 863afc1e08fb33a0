//! Changes to the channel's messages (edits, deletions), checked by the
//! connection that asked: stored first (`crate::durable`), then delivered
//! to every member, on every server.

use actix::prelude::*;
use bytes::Bytes;
use chat_shared::change::Change;
use chat_shared::frames::{ErrorCode, ErrorFrame};
use chat_shared::subjects;

use super::ChannelActor;
use crate::durable::change_key;
use crate::publisher::Outgoing;

/// A member's change to a message of this channel, allowed by the
/// connection; answered once it is stored.
#[derive(Message)]
#[rtype(result = "Result<(), ErrorFrame>")]
pub struct Amend {
    pub change: Change,
    /// The client's id for it: a retry is stored and delivered once.
    pub reference: Option<String>,
}

impl ChannelActor {
    /// Delivers a change to every member, once (by its de-duplication key).
    pub(super) fn deliver_change(&mut self, json: &str, key: Option<&str>) {
        if key.is_some_and(|k| !self.recent.first_time(k)) {
            return;
        }
        self.fan_out(json.to_owned().into(), None, None);
    }
}

impl Handler<Amend> for ChannelActor {
    type Result = ResponseActFuture<Self, Result<(), ErrorFrame>>;

    fn handle(&mut self, amend: Amend, _: &mut Self::Context) -> Self::Result {
        // A closed channel can still be tidied: deletions go through.
        if self.closed && !matches!(amend.change, Change::Deleted { .. }) {
            let refused = self.closed_error();
            return Box::pin(fut::ready(Err(refused)));
        }
        let json = amend.change.to_json();
        let key = change_key(amend.change.by(), amend.reference.as_deref());
        let mut headers = self.link.origin();
        headers.push((subjects::MSG_ID_HEADER.to_owned(), key.clone()));
        // Signed: only what a server checked is taken as a change.
        headers.push(self.link.key.header(json.as_bytes()));
        let out = Outgoing {
            subject: subjects::msg(&self.name),
            headers,
            payload: Bytes::from(json.clone()),
        };
        let durability = self.link.durability.clone();
        let change = amend.change;
        let stored = async move { durability.persist_change(&change, out).await };
        Box::pin(stored.into_actor(self).map(move |stored, act, _| {
            if let Err(e) = stored {
                tracing::warn!(error = %e, "a change could not be stored");
                return Err(ErrorFrame::new(
                    ErrorCode::Unavailable,
                    "The change could not be stored; try again in a moment.",
                ));
            }
            // Distributed, every server delivers it from the stream.
            if !act.link.durability.delivers_from_stream() {
                act.deliver_change(&json, Some(&key));
            }
            Ok(())
        }))
    }
}
