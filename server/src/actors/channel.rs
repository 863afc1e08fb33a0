//! `ChannelActor`: one per channel with members on this server. Stores its
//! members' messages (on `chat.msg.<channel>`, `posting`), and while it has
//! members delivers what the stream stores there, in the stream's order,
//! whoever posted it (this server, others, the bot, an operator).

mod changes;
mod in_flight;
mod membership;
mod messages;
mod posting;
mod recent;
mod typing;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix::WeakAddr;
use bytestring::ByteString;
use chat_shared::bus::inbound::{self, Inbound};
use chat_shared::bus::{Bus, BusKey, Envelope};
use chat_shared::frames::ServerFrame;
use chat_shared::message::Message;
use chat_shared::names::ChannelName;
use chat_shared::payloads::NoteEvent;
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
use crate::publisher::Publisher;

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

/// How every channel of a server behaves (flags).
#[derive(Debug, Clone, Copy)]
pub struct RoomSettings {
    /// A user's typing events within it are merged into one.
    pub typing_interval: Duration,
    /// Who came and went is told to the members at most this often, in one
    /// `presence` frame.
    pub presence_interval: Duration,
    /// How many of those present a `joined` frame and a presence batch name.
    pub joined_members: usize,
}

impl Default for RoomSettings {
    fn default() -> Self {
        Self {
            typing_interval: DEFAULT_TYPING_INTERVAL,
            presence_interval: Duration::from_millis(200),
            joined_members: 100,
        }
    }
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
    settings: RoomSettings,
    /// Itself, to be told when the presence batch is due.
    me: Option<WeakAddr<ChannelActor>>,
    /// A presence batch is due (told to `me`).
    batch_due: bool,
    typing: TypingGate,
    /// Members' posts on their way to durable storage.
    in_flight: posting::InFlightPosts,
    /// What was delivered lately, so nothing is delivered twice.
    recent: Recent,
    /// Closed by an operator: posts, edits and reactions are refused.
    closed: bool,
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
            settings: RoomSettings::default(),
            me: None,
            batch_due: false,
            typing: TypingGate::new(DEFAULT_TYPING_INTERVAL),
            in_flight: Default::default(),
            recent: Recent::default(),
            closed: false,
        }
    }

    /// Behaves as `settings` say.
    pub fn settings(mut self, settings: RoomSettings) -> Self {
        self.typing = TypingGate::new(settings.typing_interval);
        self.settings = settings;
        self
    }

    /// Sends one serialized frame to every member but `except`. A member whose
    /// outbox is full (in bytes) is cut loose rather than allowed to stall
    /// the room or hold memory.
    fn fan_out(&mut self, frame: ByteString, id: Option<Arc<str>>, except: Option<ConnId>) {
        self.fan_out_at(frame, id, 0, except);
    }

    /// `fan_out`, for a frame carrying a message accepted at `accepted_ms`.
    fn fan_out_at(
        &mut self,
        frame: ByteString,
        id: Option<Arc<str>>,
        accepted_ms: i64,
        except: Option<ConnId>,
    ) {
        let frame = ChannelFrame {
            channel: self.shared_name.clone(),
            id,
            frame,
            sent_ms: crate::load::clock_ms(),
            accepted_ms,
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
        let accepted_ms = message.ts.timestamp_millis();
        self.fan_out_at(frame.into(), id, accepted_ms, None);
    }
}

impl Actor for ChannelActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.me = Some(ctx.address().downgrade());
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

impl Handler<SetClosed> for ChannelActor {
    type Result = ();

    fn handle(&mut self, SetClosed(closed): SetClosed, _: &mut Self::Context) {
        if self.closed == closed {
            return;
        }
        self.closed = closed;
        let frame = ServerFrame::ChannelState {
            channel: self.name.clone(),
            closed,
        };
        self.fan_out(frame.to_json().into(), None, None);
    }
}

impl Handler<ToMembers> for ChannelActor {
    type Result = ();

    fn handle(&mut self, ToMembers(frame): ToMembers, _: &mut Self::Context) {
        self.fan_out(frame, None, None);
    }
}

#[cfg(test)]
mod tests;
