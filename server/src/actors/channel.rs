//! `ChannelActor`: one per channel with members on this server. Fans messages
//! out to local sessions, publishes local messages on `chat.msg.<channel>`,
//! and while it has members listens there for messages from elsewhere.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;
use bytes::Bytes;
use bytestring::ByteString;
use chat_shared::bus::Envelope;
use chat_shared::bus::Headers;
use chat_shared::commands::Command;
use chat_shared::frames::{ErrorCode, ErrorFrame, PresenceEvent, ServerFrame};
use chat_shared::message::Message;
use chat_shared::names::{ChannelName, MessageText};
use chat_shared::subjects::{
    self, NoteEvent, OtherCommand, PresenceNote, StockCommand, ORIGIN_HEADER,
};
use futures::stream;

use super::presence::Presence;
use super::{Deliver, Evict, SessionId};
use crate::publisher::{Outgoing, Publisher};

/// What a channel actor needs from the server.
#[derive(Clone)]
pub struct ChannelDeps {
    pub bus: Arc<dyn chat_shared::bus::Bus>,
    pub publisher: Publisher,
    pub server_id: Arc<str>,
}

struct Member {
    user: Arc<str>,
    addr: Recipient<Deliver>,
    evict: Recipient<Evict>,
}

pub struct ChannelActor {
    name: ChannelName,
    key: Arc<str>,
    deps: ChannelDeps,
    idle: Recipient<ChannelIdle>,
    peer_seen: Recipient<PeerSeen>,
    members: HashMap<SessionId, Member>,
    presence: Presence,
}

/// A session joins; answers the member list.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct Join {
    pub session: SessionId,
    pub user: Arc<str>,
    pub addr: Recipient<Deliver>,
    pub evict: Recipient<Evict>,
}

/// A session leaves (or disconnects).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub session: SessionId,
}

/// A member posts a message; answers its id, and the request that hands a
/// command to the bot (which the session sends, to hear if no bot answers).
#[derive(Message)]
#[rtype(result = "Result<Posted, ErrorFrame>")]
pub struct Post {
    pub session: SessionId,
    pub text: MessageText,
}

/// A message accepted by the channel.
#[derive(Debug)]
pub struct Posted {
    pub id: String,
    pub command: Option<Outgoing>,
}

/// A member is typing.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Typing {
    pub session: SessionId,
}

/// Asked by the registry: stop if no one is here; answers whether it stopped.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct StopIfEmpty;

/// Another server stopped beating: its users are gone from this channel.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ServerGone(pub String);

/// Told to the registry when a channel hears from a server it did not know.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PeerSeen(pub String);

/// Told to the registry when the last member left.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChannelIdle(pub ChannelName);

impl ChannelActor {
    pub fn new(
        name: ChannelName,
        deps: ChannelDeps,
        idle: Recipient<ChannelIdle>,
        peer_seen: Recipient<PeerSeen>,
    ) -> Self {
        Self {
            key: Arc::from(name.as_str()),
            name,
            deps,
            idle,
            peer_seen,
            members: HashMap::new(),
            presence: Presence::default(),
        }
    }

    /// Sends one serialized frame to every member but `except`. A member whose
    /// mailbox is full is evicted rather than allowed to stall the room.
    fn fan_out(&mut self, frame: ByteString, id: Option<Arc<str>>, except: Option<SessionId>) {
        let deliver = Deliver {
            channel: self.key.clone(),
            id,
            frame,
        };
        let mut gone = Vec::new();
        for (sid, member) in &self.members {
            if Some(*sid) == except {
                continue;
            }
            match member.addr.try_send(deliver.clone()) {
                Ok(()) => {}
                Err(SendError::Full(_)) => {
                    member.evict.do_send(Evict);
                    gone.push(*sid);
                }
                Err(SendError::Closed(_)) => gone.push(*sid),
            }
        }
        for sid in gone {
            self.remove(sid);
        }
    }

    fn tell_members(&mut self, user: &str, event: PresenceEvent, except: Option<SessionId>) {
        let frame = ServerFrame::Presence {
            channel: self.name.clone(),
            user: user.to_owned(),
            event,
        };
        self.fan_out(frame.to_json().into(), None, except);
    }

    fn announce(&self, user: &str, event: NoteEvent) {
        let note = PresenceNote {
            user: user.to_owned(),
            event,
            server: self.deps.server_id.to_string(),
        };
        let payload = Bytes::from(serde_json::to_vec(&note).expect("notes serialize"));
        self.deps.publisher.send_lossy(Outgoing {
            subject: subjects::presence(&self.name),
            headers: vec![(ORIGIN_HEADER.to_owned(), self.deps.server_id.to_string())],
            payload,
        });
    }

    fn remove(&mut self, session: SessionId) {
        let Some(member) = self.members.remove(&session) else {
            return;
        };
        let change = self.presence.leave_local(&member.user);
        if change.local_edge {
            self.announce(&member.user, NoteEvent::Leave);
        }
        if change.channel_edge {
            self.tell_members(&member.user, PresenceEvent::Leave, None);
        }
    }

    /// Delivers a message that arrived from the bus (another server, the bot, an operator).
    fn deliver_remote(&mut self, envelope: &Envelope) {
        let message: Message = match serde_json::from_slice(&envelope.payload) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(subject = %envelope.subject, error = %e, "dropping malformed message from bus");
                return;
            }
        };
        if message.channel != self.name {
            tracing::warn!(subject = %envelope.subject, "dropping message for another channel");
            return;
        }
        let json = serde_json::to_string(&message).expect("messages serialize");
        self.fan_out(
            ServerFrame::message_json(&json).into(),
            Some(Arc::from(message.id.as_str())),
            None,
        );
    }

    fn note_remote(&mut self, envelope: &Envelope) {
        let Ok(note) = serde_json::from_slice::<PresenceNote>(&envelope.payload) else {
            tracing::warn!(subject = %envelope.subject, "dropping malformed presence note");
            return;
        };
        if !self.presence.learn_server(&note.server) {
            // A server we have not heard from: tell it who is here, and have
            // the registry watch that it stays alive.
            self.peer_seen.do_send(PeerSeen(note.server.clone()));
            for user in self.presence.local_users() {
                self.announce(&user, NoteEvent::Join);
            }
        }
        match note.event {
            NoteEvent::Join => {
                if self.presence.join_remote(&note.server, &note.user) {
                    self.tell_members(&note.user, PresenceEvent::Join, None);
                }
            }
            NoteEvent::Leave => {
                if self.presence.leave_remote(&note.server, &note.user) {
                    self.tell_members(&note.user, PresenceEvent::Leave, None);
                }
            }
            NoteEvent::Typing => {
                let frame = ServerFrame::Typing {
                    channel: self.name.clone(),
                    user: note.user,
                };
                self.fan_out(frame.to_json().into(), None, None);
            }
        }
    }
}

impl Actor for ChannelActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let bus = self.deps.bus.clone();
        let (msg_subject, presence_subject) =
            (subjects::msg(&self.name), subjects::presence(&self.name));
        // Members are only accepted once the subscriptions are live, so no
        // message from elsewhere can slip between a join and the first delivery.
        ctx.wait(
            async move {
                let messages = bus.subscribe(&msg_subject).await?;
                let presence = bus.subscribe(&presence_subject).await?;
                Ok::<_, chat_shared::bus::BusError>(stream::select(messages, presence))
            }
            .into_actor(self)
            .map(|result, act, ctx| match result {
                Ok(s) => {
                    ctx.add_stream(s);
                }
                Err(e) => {
                    tracing::error!(channel = %act.name, error = %e, "channel could not subscribe to the bus")
                }
            }),
        );
        tracing::debug!(channel = %self.name, "channel started");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::debug!(channel = %self.name, "channel stopped");
    }
}

impl StreamHandler<Envelope> for ChannelActor {
    fn handle(&mut self, envelope: Envelope, _: &mut Self::Context) {
        if envelope.header(ORIGIN_HEADER) == Some(&*self.deps.server_id) {
            return;
        }
        if envelope.subject.starts_with("chat.presence.") {
            self.note_remote(&envelope);
        } else {
            self.deliver_remote(&envelope);
        }
    }

    fn finished(&mut self, _: &mut Self::Context) {
        tracing::warn!(channel = %self.name, "bus subscription ended");
    }
}

impl Handler<Join> for ChannelActor {
    type Result = MessageResult<Join>;

    fn handle(&mut self, join: Join, _: &mut Self::Context) -> Self::Result {
        let member = Member {
            user: join.user.clone(),
            addr: join.addr,
            evict: join.evict,
        };
        if self.members.insert(join.session, member).is_some() {
            // The same session joining again: it is counted once already.
            return MessageResult(self.presence.members());
        }
        let change = self.presence.join_local(&join.user);
        if change.local_edge {
            self.announce(&join.user, NoteEvent::Join);
        }
        if change.channel_edge {
            self.tell_members(&join.user, PresenceEvent::Join, Some(join.session));
        }
        MessageResult(self.presence.members())
    }
}

impl Handler<Leave> for ChannelActor {
    type Result = ();

    fn handle(&mut self, leave: Leave, ctx: &mut Self::Context) {
        self.remove(leave.session);
        if self.members.is_empty() {
            ctx.notify_later(CheckIdle, std::time::Duration::from_secs(5));
        }
    }
}

/// Re-checks emptiness a little after the last member left, so a quick
/// rejoin (a page reload) keeps the actor and its subscription.
#[derive(Message)]
#[rtype(result = "()")]
struct CheckIdle;

impl Handler<CheckIdle> for ChannelActor {
    type Result = ();

    fn handle(&mut self, _: CheckIdle, _: &mut Self::Context) {
        if self.members.is_empty() {
            self.idle.do_send(ChannelIdle(self.name.clone()));
        }
    }
}

impl Handler<Post> for ChannelActor {
    type Result = Result<Posted, ErrorFrame>;

    fn handle(&mut self, post: Post, _: &mut Self::Context) -> Self::Result {
        let Some(member) = self.members.get(&post.session) else {
            return Err(ErrorFrame::new(
                ErrorCode::NotJoined,
                "Join the channel first.",
            ));
        };
        if !self.deps.bus.is_connected() {
            // Refused rather than kept where no other server would see it.
            return Err(ErrorFrame::new(
                ErrorCode::Unavailable,
                "The chat is reconnecting to its message bus; please send again in a moment.",
            ));
        }
        let message = Message::new(self.name.clone(), member.user.to_string(), post.text, false);
        let json = serde_json::to_string(&message).expect("messages serialize");
        let headers = vec![(ORIGIN_HEADER.to_owned(), self.deps.server_id.to_string())];
        let mut message_headers = headers.clone();
        // JetStream drops a duplicate publish of the same id (e.g. a retry).
        message_headers.push((subjects::MSG_ID_HEADER.to_owned(), message.id.clone()));
        let outgoing = vec![Outgoing {
            subject: subjects::msg(&self.name),
            headers: message_headers,
            payload: Bytes::from(json.clone()),
        }];
        let command =
            Command::parse(message.text.as_str()).map(|c| command_publish(&message, c, headers));
        // Refuse before delivering anything, so a message is either everywhere or nowhere.
        self.deps.publisher.send_all(outgoing).map_err(|_| {
            ErrorFrame::new(
                ErrorCode::Unavailable,
                "The server is overloaded; try again in a moment.",
            )
        })?;
        let id = message.id.clone();
        self.fan_out(
            ServerFrame::message_json(&json).into(),
            Some(Arc::from(id.as_str())),
            None,
        );
        Ok(Posted { id, command })
    }
}

/// The publish that hands a command to the bot: `chat.cmd.<name>`.
fn command_publish(message: &Message, command: Command<'_>, headers: Headers) -> Outgoing {
    let (subject, payload) = match command {
        Command::Stock { args } => (
            subjects::CMD_STOCK,
            serde_json::to_vec(&StockCommand {
                channel: message.channel.clone(),
                user: message.user.clone(),
                code: args.to_owned(),
                id: message.id.clone(),
            }),
        ),
        Command::Help | Command::Unknown { .. } => {
            let (subject, name) = match command {
                Command::Unknown { name } => (subjects::CMD_UNKNOWN, name),
                _ => (subjects::CMD_HELP, "help"),
            };
            let other = OtherCommand {
                channel: message.channel.clone(),
                user: message.user.clone(),
                command: name.to_owned(),
                id: message.id.clone(),
            };
            (subject, serde_json::to_vec(&other))
        }
    };
    Outgoing {
        subject: subject.to_owned(),
        headers,
        payload: Bytes::from(payload.expect("commands serialize")),
    }
}

impl Handler<Typing> for ChannelActor {
    type Result = ();

    fn handle(&mut self, typing: Typing, _: &mut Self::Context) {
        let Some(user) = self.members.get(&typing.session).map(|m| m.user.clone()) else {
            return;
        };
        let frame = ServerFrame::Typing {
            channel: self.name.clone(),
            user: user.to_string(),
        };
        self.fan_out(frame.to_json().into(), None, Some(typing.session));
        self.announce(&user, NoteEvent::Typing);
    }
}

impl Handler<ServerGone> for ChannelActor {
    type Result = ();

    fn handle(&mut self, ServerGone(server): ServerGone, _: &mut Self::Context) {
        for user in self.presence.drop_server(&server) {
            self.tell_members(&user, PresenceEvent::Leave, None);
        }
    }
}

impl Handler<StopIfEmpty> for ChannelActor {
    type Result = bool;

    fn handle(&mut self, _: StopIfEmpty, ctx: &mut Self::Context) -> bool {
        if self.members.is_empty() {
            ctx.stop();
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests;
