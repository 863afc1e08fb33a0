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
use chat_shared::bus::Headers;
use chat_shared::commands::Command;
use chat_shared::subjects::{self, NoteEvent, OtherCommand, PresenceNote, StockCommand, ORIGIN_HEADER};
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
    peer_seen: Recipient<PeerSeen>,
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
        if !self.remote_users.contains_key(&note.server) {
            // A server we have not heard from: tell it who is here, and have
            // the registry watch that it stays alive.
            self.remote_users.insert(note.server.clone(), HashSet::new());
            self.peer_seen.do_send(PeerSeen(note.server.clone()));
            let here: Vec<Arc<str>> = self.local_users.keys().cloned().collect();
            for user in here {
                self.announce(&user, NoteEvent::Join);
            }
        }
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
            let frame = ServerFrame::Presence {
                channel: self.name.clone(),
                user: join.user.to_string(),
                event: PresenceEvent::Join,
            };
            self.fan_out(frame.to_json().into(), None, Some(join.session));
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
    type Result = Result<Posted, ErrorFrame>;

    fn handle(&mut self, post: Post, _: &mut Self::Context) -> Self::Result {
        let Some(member) = self.members.get(&post.session) else {
            return Err(ErrorFrame::new(ErrorCode::NotJoined, "Join the channel first."));
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
        let command = Command::parse(message.text.as_str()).map(|c| command_publish(&message, c, headers));
        // Refuse before delivering anything, so a message is either everywhere or nowhere.
        self.deps.publisher.send_all(outgoing).map_err(|_| {
            ErrorFrame::new(ErrorCode::Unavailable, "The server is overloaded; try again in a moment.")
        })?;
        let id = message.id.clone();
        self.fan_out(ServerFrame::message_json(&json).into(), Some(Arc::from(id.as_str())), None);
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
        let Some(user) = self.members.get(&typing.session).map(|m| m.user.clone()) else { return };
        let frame = ServerFrame::Typing { channel: self.name.clone(), user: user.to_string() };
        self.fan_out(frame.to_json().into(), None, Some(typing.session));
        self.announce(&user, NoteEvent::Typing);
    }
}

impl Handler<ServerGone> for ChannelActor {
    type Result = ();

    fn handle(&mut self, ServerGone(server): ServerGone, _: &mut Self::Context) {
        let Some(users) = self.remote_users.remove(&server) else { return };
        for user in users {
            if !self.is_present(&user) {
                self.presence(&user, PresenceEvent::Leave);
            }
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
mod tests {
    use std::time::Duration;

    use chat_shared::bus::{Bus, LocalBus, Subscription};
    use futures::StreamExt;

    use super::*;

    /// A stand-in session that records the frames it is sent.
    struct Probe(tokio::sync::mpsc::UnboundedSender<String>);

    impl Actor for Probe {
        type Context = Context<Self>;
    }

    impl Handler<Deliver> for Probe {
        type Result = ();
        fn handle(&mut self, d: Deliver, _: &mut Context<Self>) {
            let _ = self.0.send(d.frame.to_string());
        }
    }

    impl Handler<Evict> for Probe {
        type Result = ();
        fn handle(&mut self, _: Evict, _: &mut Context<Self>) {}
    }

    struct Idle;
    impl Actor for Idle {
        type Context = Context<Self>;
    }
    impl Handler<ChannelIdle> for Idle {
        type Result = ();
        fn handle(&mut self, _: ChannelIdle, _: &mut Context<Self>) {}
    }
    impl Handler<PeerSeen> for Idle {
        type Result = ();
        fn handle(&mut self, _: PeerSeen, _: &mut Context<Self>) {}
    }

    struct Room {
        bus: LocalBus,
        addr: Addr<ChannelActor>,
    }

    fn room(server_id: &str) -> Room {
        let bus = LocalBus::new();
        let shared: Arc<dyn Bus> = Arc::new(bus.clone());
        let deps = ChannelDeps {
            bus: shared.clone(),
            publisher: Publisher::start(shared),
            server_id: Arc::from(server_id),
        };
        let idle = Idle.start();
        let addr = ChannelActor::new(ChannelName::general(), deps, idle.clone().recipient(), idle.recipient()).start();
        Room { bus, addr }
    }

    async fn member(room: &Room, session: SessionId, user: &str) -> (Vec<String>, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let probe = Probe(tx).start();
        let members = room
            .addr
            .send(Join { session, user: Arc::from(user), addr: probe.clone().recipient(), evict: probe.recipient() })
            .await
            .unwrap();
        (members, rx)
    }

    async fn next_json(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> serde_json::Value {
        let frame = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await.unwrap().unwrap();
        serde_json::from_str(&frame).unwrap()
    }

    async fn next_envelope(sub: &mut Subscription) -> chat_shared::bus::Envelope {
        tokio::time::timeout(Duration::from_secs(2), sub.next()).await.unwrap().unwrap()
    }

    fn text(s: &str) -> MessageText {
        MessageText::parse(s).unwrap()
    }

    #[actix_rt::test]
    async fn a_post_reaches_every_member_and_the_bus_once() {
        let room = room("srv-a");
        let mut wire = room.bus.subscribe("chat.msg.general").await.unwrap();
        let (_, mut alice) = member(&room, 1, "alice").await;
        let (members, mut bob) = member(&room, 2, "bob").await;
        assert_eq!(members, vec!["alice", "bob"]);
        assert_eq!(next_json(&mut alice).await["user"], "bob", "alice hears bob arrive");

        let id = room.addr.send(Post { session: 1, text: text("hi") }).await.unwrap().unwrap().id;
        for rx in [&mut alice, &mut bob] {
            let f = next_json(rx).await;
            assert_eq!((f["type"].as_str(), f["message"]["id"].as_str()), (Some("message"), Some(id.as_str())));
        }
        let published = next_envelope(&mut wire).await;
        assert_eq!(published.header(ORIGIN_HEADER), Some("srv-a"));
        let m: Message = serde_json::from_slice(&published.payload).unwrap();
        assert_eq!((m.id, m.user.as_str()), (id, "alice"));
    }

    #[actix_rt::test]
    async fn a_non_member_cannot_post() {
        let room = room("srv-a");
        let err = room.addr.send(Post { session: 9, text: text("hi") }).await.unwrap().unwrap_err();
        assert_eq!(err.code, ErrorCode::NotJoined);
    }

    #[actix_rt::test]
    async fn messages_from_elsewhere_are_delivered_and_its_own_echo_is_not() {
        let room = room("srv-a");
        let (_, mut alice) = member(&room, 1, "alice").await;
        let from_bot = Message::new(ChannelName::general(), "stockbot", text("quote"), true);
        let own = Message::new(ChannelName::general(), "alice", text("echo"), false);
        let publish = |m: &Message, origin: &str| {
            let bus = room.bus.clone();
            let payload = Bytes::from(serde_json::to_vec(m).unwrap());
            let headers = vec![(ORIGIN_HEADER.to_owned(), origin.to_owned())];
            async move { bus.publish("chat.msg.general", headers, payload).await.unwrap() }
        };
        publish(&own, "srv-a").await;
        publish(&from_bot, "bot-1").await;
        let f = next_json(&mut alice).await;
        assert_eq!(f["message"]["text"], "quote", "the server's own echo is skipped");
        assert_eq!(f["message"]["bot"], true);
        room.bus.publish("chat.msg.general", vec![], Bytes::from_static(b"not json")).await.unwrap();
        publish(&from_bot, "bot-1").await;
        assert_eq!(next_json(&mut alice).await["message"]["text"], "quote", "garbage is dropped, the room lives on");
    }

    #[actix_rt::test]
    async fn a_command_comes_back_as_a_request_for_the_bot() {
        let room = room("srv-a");
        let (_, _alice) = member(&room, 1, "alice").await;
        let posted = room.addr.send(Post { session: 1, text: text("/stock=aapl.us") }).await.unwrap().unwrap();
        let command = posted.command.expect("a command");
        assert_eq!(command.subject, "chat.cmd.stock");
        let cmd: StockCommand = serde_json::from_slice(&command.payload).unwrap();
        assert_eq!((cmd.code.as_str(), cmd.user.as_str(), cmd.id), ("aapl.us", "alice", posted.id));
        let help = room.addr.send(Post { session: 1, text: text("/HELP") }).await.unwrap().unwrap();
        assert_eq!(help.command.unwrap().subject, "chat.cmd.help");
        let plain = room.addr.send(Post { session: 1, text: text("hello /stock=x") }).await.unwrap().unwrap();
        assert!(plain.command.is_none());
    }

    #[actix_rt::test]
    async fn presence_counts_a_user_once_across_connections() {
        let room = room("srv-a");
        let mut notes = room.bus.subscribe("chat.presence.general").await.unwrap();
        let (_, mut watcher) = member(&room, 1, "watcher").await;
        let (_, _t1) = member(&room, 2, "alice").await;
        let (_, _t2) = member(&room, 3, "alice").await;
        assert_eq!(next_json(&mut watcher).await["event"], "join");
        room.addr.send(Leave { session: 2 }).await.unwrap();
        room.addr.send(Leave { session: 3 }).await.unwrap();
        let f = next_json(&mut watcher).await;
        assert_eq!((f["user"].as_str(), f["event"].as_str()), (Some("alice"), Some("leave")), "one join, one leave");
        let mut published = Vec::new();
        for _ in 0..3 {
            let note: PresenceNote = serde_json::from_slice(&next_envelope(&mut notes).await.payload).unwrap();
            published.push((note.user, note.event));
        }
        assert_eq!(
            published,
            vec![
                ("watcher".to_owned(), NoteEvent::Join),
                ("alice".to_owned(), NoteEvent::Join),
                ("alice".to_owned(), NoteEvent::Leave)
            ],
            "other servers hear of alice once each way"
        );
    }

    #[actix_rt::test]
    async fn it_stops_only_when_empty() {
        let room = room("srv-a");
        let (_, _alice) = member(&room, 1, "alice").await;
        assert!(!room.addr.send(StopIfEmpty).await.unwrap());
        room.addr.send(Leave { session: 1 }).await.unwrap();
        assert!(room.addr.send(StopIfEmpty).await.unwrap());
    }
}
