//! A member's post: made durable first (`crate::durable`), then delivered to
//! the members here and acknowledged, in the order posts were accepted. A
//! retry of a send stored before is answered with the stored message.

use actix::prelude::*;
use bytes::Bytes;
use chat_shared::bot_commands::Command;
use chat_shared::frames::{ErrorCode, ErrorFrame};
use chat_shared::message::Message;
use chat_shared::subjects;
use tokio::sync::oneshot;

use super::in_flight::InFlight;
use super::{ChannelActor, Post, Posted};
use crate::durable::{dedupe_key, NotDurable, Persisted};
use crate::publisher::Outgoing;

/// Posts waiting for durable storage, at most, per channel and server.
const MAX_IN_FLIGHT: usize = 16_384;

/// A post waiting to be stored.
pub struct Waiting {
    message: Message,
    json: String,
    key: String,
    command: Option<Outgoing>,
    reply: oneshot::Sender<Result<Posted, ErrorFrame>>,
}

pub type InFlightPosts = InFlight<Waiting, Result<Persisted, NotDurable>>;

fn unavailable(why: &str) -> ErrorFrame {
    ErrorFrame::new(ErrorCode::Unavailable, why)
}

impl ChannelActor {
    /// The message of a post, its publication and its command for the bot.
    fn prepare(
        &self,
        user: &str,
        post: Post,
    ) -> (Message, String, String, Outgoing, Option<Outgoing>) {
        let mut message = Message::new(self.name.clone(), user.to_owned(), post.text, false);
        message.reply_to = post.reply_to;
        message.mentions = post.mentions;
        let key = dedupe_key(&message, post.reference.as_deref());
        let mut headers = self.link.origin();
        // The stream stores one message per key: a retry is not stored twice.
        headers.push((subjects::MSG_ID_HEADER.to_owned(), key.clone()));
        // Serialized once: the same JSON is stored, published and framed.
        let json = message.to_json();
        // Signed: what other servers and the archiver take as a person's post.
        headers.push(self.link.key.header(json.as_bytes()));
        let publish = Outgoing {
            subject: subjects::msg(&self.name),
            headers,
            payload: Bytes::from(json.clone()),
        };
        let command = Command::parse(message.text.as_str()).map(|c| {
            let (subject, payload) = c.to_bus(&message);
            Outgoing {
                subject: subject.to_owned(),
                headers: self.link.origin(),
                payload,
            }
        });
        (message, json, key, publish, command)
    }

    /// Answers every post that is ready, in order: acked when stored (and,
    /// unless the stream delivers it, delivered here), refused when it could
    /// not be.
    fn settle(&mut self, seq: u64, outcome: Result<Persisted, NotDurable>) {
        let deliver = !self.link.durability.delivers_from_stream();
        for (waiting, outcome) in self.in_flight.settle(seq, outcome) {
            let answer = match outcome {
                Ok(Persisted::New) => {
                    if deliver {
                        self.deliver_once(&waiting.message, &waiting.json, Some(&waiting.key));
                    }
                    let mentioned = match waiting.message.mentions.is_empty() {
                        true => None,
                        false => Some(waiting.message.clone()),
                    };
                    Ok(Posted {
                        id: waiting.message.id,
                        command: waiting.command,
                        mentioned,
                    })
                }
                Ok(Persisted::Repeat(earlier)) => {
                    if deliver {
                        // Members may not have it yet (its first try's answer
                        // was lost): they get it once.
                        self.deliver_once(&earlier, &earlier.to_json(), Some(&waiting.key));
                    }
                    Ok(Posted {
                        id: earlier.id,
                        command: None,
                        mentioned: None,
                    })
                }
                Err(e) => {
                    tracing::warn!(channel = %self.name, error = %e, "a message could not be stored");
                    Err(unavailable(
                        "The message could not be stored; it was not sent. Try again in a moment.",
                    ))
                }
            };
            let _ = waiting.reply.send(answer);
        }
    }
}

impl ChannelActor {
    /// The answer to a post, an edit or a reaction while the channel is closed.
    pub(super) fn closed_error(&self) -> ErrorFrame {
        ErrorFrame::new(
            ErrorCode::ChannelClosed,
            format!(
                "#{} is closed by an operator: it can be read but not written to.",
                self.name
            ),
        )
    }
}

impl Handler<Post> for ChannelActor {
    type Result = ResponseFuture<Result<Posted, ErrorFrame>>;

    fn handle(&mut self, post: Post, ctx: &mut Self::Context) -> Self::Result {
        let refused = |e: ErrorFrame| -> Self::Result { Box::pin(async move { Err(e) }) };
        let Some(user) = self.members.get(&post.conn).map(|m| m.user.clone()) else {
            return refused(ErrorFrame::new(
                ErrorCode::NotJoined,
                "Join the channel first.",
            ));
        };
        if self.closed {
            return refused(self.closed_error());
        }
        if !self.link.bus.is_connected() {
            // Refused rather than kept where no other server would see it.
            return refused(unavailable(
                "The chat is reconnecting to its message bus; please send again in a moment.",
            ));
        }
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            return refused(unavailable(
                "The server is overloaded; try again in a moment.",
            ));
        }
        let (message, json, key, publish, command) = self.prepare(&user, post);
        let (reply, answer) = oneshot::channel();
        let durability = self.link.durability.clone();
        let stored = {
            let (message, key) = (message.clone(), key.clone());
            async move { durability.persist(&message, publish, key).await }
        };
        let seq = self.in_flight.push(Waiting {
            message,
            json,
            key,
            command,
            reply,
        });
        ctx.spawn(
            stored
                .into_actor(self)
                .map(move |outcome, act, _| act.settle(seq, outcome)),
        );
        Box::pin(async move {
            answer
                .await
                .unwrap_or_else(|_| Err(unavailable("The channel stopped; try again.")))
        })
    }
}
