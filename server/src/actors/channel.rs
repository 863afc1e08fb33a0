//! `ChannelActor`: one per channel with members on this server. Stores its
//! members' messages (on `chat.msg.<channel>`, `posting`), and while it has
//! members delivers what the stream stores there, in the stream's order,
//! whoever posted it (this server, others, the bot, an operator).

mod changes;
mod in_flight;
mod messages;
mod posting;
mod recent;
mod typing;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use chat_shared::bus::inbound::{self, Inbound};
use chat_shared::bus::{json_payload, Bus, BusKey, Envelope};
use chat_shared::frames::{PresenceEvent, ServerFrame};
use chat_shared::log_text::shown;
use chat_shared::message::Message;
use chat_shared::names::ChannelName;
use chat_shared::payloads::{NoteEvent, PresenceNote};
use chat_shared::subjects::{self, ORIGIN_HEADER};
use futures::stream;

pub use changes::Amend;
pub use messages::*;
use typing::TypingGate;
pub use typing::DEFAULT_INTERVAL as DEFAULT_TYPING_INTERVAL;

use recent::Recent;

use super::outbox::Outbox;
use super::presence::Presence;
use super::{ChannelFrame, ConnId, FellBehind};
use crate::durable::Durability;
use crate::publisher::{Outgoing, Publisher};

/// How the actors of this server reach the bus: the bus itself, the queue
/// that publishes in order, this server's id (to skip its own echoes), the
/// key its messages are signed with, and the count of messages from the bus
/// refused (`/metrics`).
#[derive(Clone)]
pub struct BusLink {
    pub bus: Arc<dyn Bus>,
    pub publisher: Publisher,
    pub server_id: Arc<str>,
    pub key: BusKey,
    pub rejected: Arc<AtomicU64>,
    /// Where a member's message becomes durable before it is delivered.
    pub durability: Durability,
}

impl BusLink {
    /// Headers of everything this server publishes.
    fn origin(&self) -> Vec<(String, String)> {
        vec![(ORIGIN_HEADER.to_owned(), self.server_id.to_string())]
    }
}

struct Member {
    user: Arc<str>,
    frames: Recipient<ChannelFrame>,
    fell_behind: Recipient<FellBehind>,
    outbox: Arc<Outbox>,
}

pub struct ChannelActor {
    name: ChannelName,
    /// The name as shared by every `ChannelFrame` of this channel.
    shared_name: Arc<str>,
    link: BusLink,
    idle: Recipient<ChannelIdle>,
    peer_seen: Recipient<PeerSeen>,
    members: HashMap<ConnId, Member>,
    presence: Presence,
    typing: TypingGate,
    /// Members' posts on their way to durable storage.
    in_flight: posting::InFlightPosts,
    /// What was delivered lately, so nothing is delivered twice.
    recent: Recent,
}

impl ChannelActor {
    pub fn new(
        name: ChannelName,
        link: BusLink,
        idle: Recipient<ChannelIdle>,
        peer_seen: Recipient<PeerSeen>,
    ) -> Self {
        Self {
            shared_name: Arc::from(name.as_str()),
            name,
            link,
            idle,
            peer_seen,
            members: HashMap::new(),
            presence: Presence::default(),
            typing: TypingGate::new(DEFAULT_TYPING_INTERVAL),
            in_flight: Default::default(),
            recent: Recent::default(),
        }
    }

    /// Merges each user's typing events within `interval` into one.
    pub fn typing_interval(mut self, interval: Duration) -> Self {
        self.typing = TypingGate::new(interval);
        self
    }

    /// Sends one serialized frame to every member but `except`. A member whose
    /// outbox is full (in bytes) is cut loose rather than allowed to stall
    /// the room or hold memory.
    fn fan_out(&mut self, frame: ByteString, id: Option<Arc<str>>, except: Option<ConnId>) {
        let frame = ChannelFrame {
            channel: self.shared_name.clone(),
            id,
            frame,
        };
        let mut gone = Vec::new();
        for (conn, member) in &self.members {
            if Some(*conn) == except {
                continue;
            }
            let bytes = frame.frame.len();
            if !member.outbox.reserve(bytes) {
                member.fell_behind.do_send(FellBehind);
                gone.push(*conn);
                continue;
            }
            match member.frames.try_send(frame.clone()) {
                Ok(()) => {}
                Err(SendError::Full(_)) => {
                    member.outbox.release(bytes);
                    member.fell_behind.do_send(FellBehind);
                    gone.push(*conn);
                }
                Err(SendError::Closed(_)) => gone.push(*conn),
            }
        }
        for conn in gone {
            self.remove(conn);
        }
    }

    fn tell_members(&mut self, user: &str, event: PresenceEvent, except: Option<ConnId>) {
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
            server: self.link.server_id.to_string(),
        };
        self.link.publisher.send_lossy(Outgoing {
            subject: subjects::presence(&self.name),
            headers: self.link.origin(),
            payload: json_payload(&note),
        });
    }

    fn remove(&mut self, conn: ConnId) {
        let Some(member) = self.members.remove(&conn) else {
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

    /// Delivers a message that arrived from the bus (a server, the bot, an
    /// operator) once it passes the rules of `inbound`, marked by who could
    /// have sent it.
    fn deliver_remote(&mut self, envelope: &Envelope) {
        // A retry stored once may still be published twice: the
        // de-duplication key tells.
        let key = envelope.header(subjects::MSG_ID_HEADER);
        match inbound::receive_any(envelope, &self.link.key) {
            Ok(Inbound::Message(message)) => {
                self.deliver_once(&message, &message.to_json(), key);
            }
            Ok(Inbound::Change(change)) => {
                self.deliver_change(&change.to_json(), key);
            }
            Err(_) => {
                self.link.rejected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Delivers a message unless this channel delivered it (by id, or by its
    /// de-duplication key) lately; whether it did now.
    fn deliver_once(&mut self, message: &Message, json: &str, key: Option<&str>) -> bool {
        let key = key.filter(|k| *k != message.id);
        let new_key = key.is_none_or(|k| self.recent.first_time(k));
        let new_id = self.recent.first_time(&message.id);
        if !(new_key && new_id) {
            return false;
        }
        self.fan_out_message(message, json);
        true
    }

    /// Sends a message, already serialized as `json`, to every member.
    fn fan_out_message(&mut self, message: &Message, json: &str) {
        let frame = ServerFrame::message_json(json);
        let id = Some(Arc::from(message.id.as_str()));
        self.fan_out(frame.into(), id, None);
    }

    fn note_remote(&mut self, envelope: &Envelope) {
        let Ok(note) = serde_json::from_slice::<PresenceNote>(&envelope.payload) else {
            tracing::warn!(subject = %shown(&envelope.subject), "dropping malformed presence note");
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
                if !self.typing.admit(&note.user, Instant::now()) {
                    return;
                }
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
        let bus = self.link.bus.clone();
        let [messages, presence] = [subjects::msg(&self.name), subjects::presence(&self.name)];
        // Members are only accepted once the subscriptions are live, so no
        // message can slip between a join and the first delivery.
        ctx.wait(
            async move {
                let messages = bus.subscribe_stored(subjects::MSG_STREAM, &messages).await?;
                let presence = bus.subscribe(&presence).await?;
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
        let presence = subjects::is_presence(&envelope.subject);
        // This server's own messages come back from the stream and are
        // delivered from there (its order is everyone's); embedded, they
        // were delivered as they committed.
        let echo = presence || !self.link.durability.delivers_from_stream();
        if echo && envelope.header(ORIGIN_HEADER) == Some(&*self.link.server_id) {
            return;
        }
        if presence {
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
            frames: join.frames,
            fell_behind: join.fell_behind,
            outbox: join.outbox,
        };
        if self.members.insert(join.conn, member).is_some() {
            // The same connection joining again: it is counted once already.
            return MessageResult(self.presence.members());
        }
        let change = self.presence.join_local(&join.user);
        if change.local_edge {
            self.announce(&join.user, NoteEvent::Join);
        }
        if change.channel_edge {
            self.tell_members(&join.user, PresenceEvent::Join, Some(join.conn));
        }
        MessageResult(self.presence.members())
    }
}

impl Handler<Leave> for ChannelActor {
    type Result = ();

    fn handle(&mut self, leave: Leave, ctx: &mut Self::Context) {
        self.remove(leave.conn);
        if self.members.is_empty() {
            ctx.notify_later(CheckIdle, Duration::from_secs(5));
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

impl Handler<Typing> for ChannelActor {
    type Result = ();

    fn handle(&mut self, typing: Typing, _: &mut Self::Context) {
        let Some(user) = self.members.get(&typing.conn).map(|m| m.user.clone()) else {
            return;
        };
        // Merged before anything is sent: here and to the other servers.
        if !self.typing.admit(&user, Instant::now()) {
            return;
        }
        let frame = ServerFrame::Typing {
            channel: self.name.clone(),
            user: user.to_string(),
        };
        self.fan_out(frame.to_json().into(), None, Some(typing.conn));
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
