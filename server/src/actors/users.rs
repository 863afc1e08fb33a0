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
use super::DirectFrame;

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
        if serde_json::from_slice::<serde_json::Value>(&envelope.payload).is_err() {
            tracing::warn!("dropping a malformed user frame");
            return;
        }
        let Ok(text) = std::str::from_utf8(&envelope.payload) else {
            return;
        };
        let frame = ByteString::from(text.to_owned());
        let from = envelope.header(subjects::CONN_HEADER);
        for (conn, recipient) in self.connections_of(user) {
            if from != Some(self.conn_tag(conn).as_str()) {
                recipient.do_send(DirectFrame(frame.clone()));
            }
        }
    }
}
