//! `ChannelActor`: one per channel with members on this server. Fans messages
//! out to local sessions, publishes local messages on `chat.msg.<channel>`,
//! and while it has members listens there for messages from elsewhere.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix::prelude::*;
use bytes::Bytes;
use bytestring::ByteString;
use chat_shared::bus::Envelope;
use chat_shared::frames::{ErrorCode, ErrorFrame, PresenceEvent, ServerFrame};
use chat_shared::message::Message;
use chat_shared::names::{ChannelName, MessageText};
use chat_shared::subjects::{self, NoteEvent, PresenceNote, StockCommand, ORIGIN_HEADER};
use futures::stream;

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
    members: HashMap<SessionId, Member>,
    /// Local connections per user, for presence.
    local_users: HashMap<Arc<str>, usize>,
    /// Users present through other servers, by server.
    remote_users: HashMap<String, HashSet<String>>,
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

/// A member posts a message; answers its id.
#[derive(Message)]
#[rtype(result = "Result<String, ErrorFrame>")]
pub struct Post {
    pub session: SessionId,
    pub text: MessageText,
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

/// Told to the registry when the last member left.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChannelIdle(pub ChannelName);

impl ChannelActor {
    pub fn new(name: ChannelName, deps: ChannelDeps, idle: Recipient<ChannelIdle>) -> Self {
        Self {
            key: Arc::from(name.as_str()),
            name,
            deps,
            idle,
            members: HashMap::new(),
            local_users: HashMap::new(),
            remote_users: HashMap::new(),
        }
    }

    fn member_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .local_users
            .keys()
            .map(|u| u.to_string())
            .chain(self.remote_users.values().flatten().cloned())
            .collect();
        names.sort_by_key(|n| n.to_ascii_lowercase());
        names.dedup();
        names
    }

    fn is_present(&self, user: &str) -> bool {
        self.local_users.contains_key(user) || self.remote_users.values().any(|s| s.contains(user))
    }

    /// Sends one serialized frame to every member but `except`. A member whose
    /// mailbox is full is evicted rather than allowed to stall the room.
    fn fan_out(&mut self, frame: ByteString, id: Option<Arc<str>>, except: Option<SessionId>) {
        let deliver = Deliver { channel: self.key.clone(), id, frame };
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

    fn presence(&mut self, user: &str, event: PresenceEvent) {
        let frame = ServerFrame::Presence { channel: self.name.clone(), user: user.to_owned(), event };
        self.fan_out(frame.to_json().into(), None, None);
    }

    fn announce(&self, user: &str, event: NoteEvent) {
        let note = PresenceNote { user: user.to_owned(), event, server: self.deps.server_id.to_string() };
        let payload = Bytes::from(serde_json::to_vec(&note).expect("notes serialize"));
        self.deps.publisher.send_lossy(Outgoing {
            subject: subjects::presence(&self.name),
            headers: vec![(ORIGIN_HEADER.to_owned(), self.deps.server_id.to_string())],
            payload,
        });
    }

    fn remove(&mut self, session: SessionId) {
        let Some(member) = self.members.remove(&session) else { return };
        let left = match self.local_users.get_mut(&member.user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                self.local_users.remove(&member.user);
                true
            }
        };
        if left {
            self.announce(&member.user, NoteEvent::Leave);
            if !self.is_present(&member.user) {
                self.presence(&member.user, PresenceEvent::Leave);
            }
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
        self.fan_out(ServerFrame::message_json(&json).into(), Some(Arc::from(message.id.as_str())), None);
    }

    fn note_remote(&mut self, envelope: &Envelope) {
        let Ok(note) = serde_json::from_slice::<PresenceNote>(&envelope.payload) else {
            tracing::warn!(subject = %envelope.subject, "dropping malformed presence note");
            return;
        };
        let was_present = self.is_present(&note.user);
        match note.event {
            NoteEvent::Join => {
                self.remote_users.entry(note.server).or_default().insert(note.user.clone());
                if !was_present {
                    self.presence(&note.user, PresenceEvent::Join);
                }
            }
            NoteEvent::Leave => {
                if let Some(users) = self.remote_users.get_mut(&note.server) {
                    users.remove(&note.user);
                }
                if was_present && !self.is_present(&note.user) {
                    self.presence(&note.user, PresenceEvent::Leave);
                }
            }
            NoteEvent::Typing => {
                let frame = ServerFrame::Typing { channel: self.name.clone(), user: note.user };
                self.fan_out(frame.to_json().into(), None, None);
            }
        }
    }
}

impl Actor for ChannelActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let bus = self.deps.bus.clone();
        let (msg_subject, presence_subject) = (subjects::msg(&self.name), subjects::presence(&self.name));
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
        let first = !self.local_users.contains_key(&join.user);
        let was_present = self.is_present(&join.user);
        *self.local_users.entry(join.user.clone()).or_insert(0) += 1;
        if let Some(old) = self.members.insert(
            join.session,
            Member { user: join.user.clone(), addr: join.addr, evict: join.evict },
        ) {
            // A session joining twice: count it once.
            if let Some(n) = self.local_users.get_mut(&old.user) {
                *n -= 1;
            }
        }
        if first {
            self.announce(&join.user, NoteEvent::Join);
        }
        if !was_present {
            self.presence(&join.user, PresenceEvent::Join);
        }
        MessageResult(self.member_names())
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
    type Result = Result<String, ErrorFrame>;

    fn handle(&mut self, post: Post, _: &mut Self::Context) -> Self::Result {
        let Some(member) = self.members.get(&post.session) else {
            return Err(ErrorFrame::new(ErrorCode::NotJoined, "Join the channel first."));
        };
        let message = Message::new(self.name.clone(), member.user.to_string(), post.text, false);
        let json = serde_json::to_string(&message).expect("messages serialize");
        let headers = vec![(ORIGIN_HEADER.to_owned(), self.deps.server_id.to_string())];
        let mut outgoing = vec![Outgoing {
            subject: subjects::msg(&self.name),
            headers: headers.clone(),
            payload: Bytes::from(json.clone()),
        }];
        if let Some(code) = message.text.as_str().strip_prefix("/stock=") {
            let command = StockCommand {
                channel: self.name.clone(),
                user: message.user.clone(),
                code: code.trim().to_owned(),
                id: message.id.clone(),
            };
            outgoing.push(Outgoing {
                subject: subjects::CMD_STOCK.to_owned(),
                headers,
                payload: Bytes::from(serde_json::to_vec(&command).expect("commands serialize")),
            });
        }
        // Refuse before delivering anything, so a message is either everywhere or nowhere.
        self.deps.publisher.send_all(outgoing).map_err(|_| {
            ErrorFrame::new(ErrorCode::Unavailable, "The server is overloaded; try again in a moment.")
        })?;
        let id = message.id.clone();
        self.fan_out(ServerFrame::message_json(&json).into(), Some(Arc::from(id.as_str())), None);
        Ok(id)
    }
}

impl Handler<Typing> for ChannelActor {
    type Result = ();

    fn handle(&mut self, typing: Typing, _: &mut Self::Context) {
        let Some(user) = self.members.get(&typing.session).map(|m| m.user.clone()) else { return };
        let frame = ServerFrame::Typing { channel: self.name.clone(), user: user.to_string() };
        self.fan_out(frame.to_json().into(), None, Some(typing.session));
        self.announce(&user, NoteEvent::Typing);
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
