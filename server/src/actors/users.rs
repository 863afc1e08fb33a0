//! Frames addressed to a person rather than a channel (read markers today):
//! published on `chat.user.<name>`, and delivered by each server to that
//! person's connections there. A server subscribes to a user's subject while
//! the user has a connection on it, and only then, so it receives the
//! traffic of its own users alone.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;
use chat_shared::bus::{Bus, Envelope};
use chat_shared::subjects;
use futures::StreamExt;

use super::registry::Registry;
use super::{DirectFrame, Removed};
use chat_shared::frames::ErrorCode;
use chat_shared::people::ToPerson;

/// The subscriptions of the users connected here, by lower-case name.
#[derive(Default)]
pub struct UserSubscriptions {
    live: HashMap<String, SpawnHandle>,
}

/// A frame for a user's connections arrived from the bus.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UserEnvelope(pub Envelope);

impl UserSubscriptions {
    /// Subscribes to `user`'s subject unless it is already.
    pub fn open(&mut self, user: &str, bus: Arc<dyn Bus>, ctx: &mut Context<Registry>) {
        let key = user.to_ascii_lowercase();
        if self.live.contains_key(&key) {
            return;
        }
        let (me, subject) = (ctx.address(), subjects::user(&key));
        let forward = async move {
            match bus.subscribe(&subject).await {
                Ok(mut sub) => {
                    while let Some(envelope) = sub.next().await {
                        me.do_send(UserEnvelope(envelope));
                    }
                }
                Err(e) => {
                    tracing::warn!(subject = %subject, error = %e, "could not subscribe to a user's frames")
                }
            }
        };
        let handle = ctx.spawn(fut::wrap_future(forward));
        self.live.insert(key, handle);
    }

    /// Unsubscribes from `user`'s subject.
    pub fn close(&mut self, user: &str, ctx: &mut Context<Registry>) {
        if let Some(handle) = self.live.remove(&user.to_ascii_lowercase()) {
            ctx.cancel_future(handle);
        }
    }
}

impl Handler<UserEnvelope> for Registry {
    type Result = ();

    fn handle(&mut self, UserEnvelope(envelope): UserEnvelope, _: &mut Self::Context) {
        let Some(user) = envelope.subject.strip_prefix(subjects::USER_PREFIX) else {
            return;
        };
        let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(&envelope.payload) else {
            tracing::warn!("dropping a malformed user frame");
            return;
        };
        let Ok(text) = std::str::from_utf8(&envelope.payload) else {
            return;
        };
        let frame = ByteString::from(text.to_owned());
        if parsed["type"] == "kicked" {
            return self.remove_from(user, &envelope.payload, frame);
        }
        let from = envelope.header(subjects::CONN_HEADER);
        for (conn, recipient) in self.connections_of(user) {
            if from != Some(self.conn_tag(conn).as_str()) {
                recipient.do_send(DirectFrame(frame.clone()));
            }
        }
    }
}

impl Registry {
    /// Makes each of `user`'s connections here leave the channel a
    /// `kicked` frame names, and tells them.
    fn remove_from(&self, user: &str, payload: &[u8], frame: ByteString) {
        let Ok(ToPerson::Kicked {
            channel, banned, ..
        }) = serde_json::from_slice(payload)
        else {
            tracing::warn!("dropping a malformed kicked frame");
            return;
        };
        let code = match banned {
            true => ErrorCode::Forbidden,
            false => ErrorCode::NoSuchChannel,
        };
        for conn in self.removable_connections_of(user) {
            conn.do_send(Removed {
                channel: channel.clone(),
                code,
                frame: frame.clone(),
            });
        }
    }
}
