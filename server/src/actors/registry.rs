//! `Registry`: finds or starts the `ChannelActor` of a channel, knows every
//! connection on this server (for `channel_created`, per-user limits, logout
//! and shutdown), and watches that other servers are alive.

use std::collections::HashMap;
use std::time::Instant;

use actix::prelude::*;
use actix::ArbiterHandle;
use bytestring::ByteString;
use chat_shared::bus::{json_payload, Envelope};
use chat_shared::frames::{ChannelInfo, ServerFrame};
use chat_shared::names::ChannelName;
use chat_shared::payloads::{ServerBeat, SessionRevoked};
use chat_shared::subjects;

use super::channel::{
    BusLink, ChannelActor, ChannelIdle, Join, PeerSeen, Present, RoomSettings, Roster, ServerGone,
    SetClosed, StopIfEmpty,
};
use super::peers::{Peers, BEAT};
use super::users::UserSubscriptions;
use super::{ConnId, DirectFrame, EndConnection, Removed};
use crate::publisher::Outgoing;
use chat_shared::log_text::shown;

mod connections;

use connections::ConnectionEntry;
pub use connections::{CloseAll, ConnectionClosed, ConnectionOpened, ConnectionsOf, Counts};

pub struct Registry {
    pub(super) link: BusLink,
    /// Other servers and when they were last heard from.
    pub(super) peers: Peers,
    pub(super) channels: HashMap<ChannelName, Addr<ChannelActor>>,
    pub(super) connections: HashMap<ConnId, ConnectionEntry>,
    /// Channels closed (true) or reopened since this server started, as
    /// announced: newer than what a join read from the database before.
    pub(super) closed: HashMap<ChannelName, bool>,
    /// Given to every channel actor it starts.
    rooms: RoomSettings,
    /// The threads channels run on, and the next one to take a channel.
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: usize,
    /// The bus subjects of the users connected here.
    users: UserSubscriptions,
}

impl Registry {
    pub fn new(link: BusLink) -> Self {
        Self {
            link,
            peers: Peers::default(),
            channels: HashMap::new(),
            connections: HashMap::new(),
            closed: HashMap::new(),
            rooms: RoomSettings::default(),
            arbiters: Vec::new(),
            next_arbiter: 0,
            users: UserSubscriptions::default(),
        }
    }

    /// The connections here of `user` (lower case), with their ids.
    pub(super) fn connections_of(&self, user: &str) -> Vec<(ConnId, Recipient<DirectFrame>)> {
        self.connections
            .iter()
            .filter(|(_, c)| c.user.eq_ignore_ascii_case(user))
            .map(|(id, c)| (*id, c.frames.clone()))
            .collect()
    }

    /// Where to tell `user`'s connections here that they were removed
    /// from a channel.
    pub(super) fn removable_connections_of(&self, user: &str) -> Vec<Recipient<Removed>> {
        self.connections
            .values()
            .filter(|c| c.user.eq_ignore_ascii_case(user))
            .map(|c| c.removed.clone())
            .collect()
    }

    /// How connection `conn` of this server is named in a user frame's
    /// `Chat-Conn` header.
    pub fn conn_tag(&self, conn: ConnId) -> String {
        super::conn_tag(&self.link.server_id, conn)
    }

    /// Starts channels on these threads, round robin (none given: on the
    /// registry's own).
    pub fn arbiters(mut self, arbiters: Vec<ArbiterHandle>) -> Self {
        self.arbiters = arbiters;
        self
    }

    /// Starts a channel's actor on the next of the channel threads.
    fn start_channel(&mut self, actor: ChannelActor) -> Addr<ChannelActor> {
        if self.arbiters.is_empty() {
            return actor.start();
        }
        let arbiter = &self.arbiters[self.next_arbiter % self.arbiters.len()];
        self.next_arbiter = self.next_arbiter.wrapping_add(1);
        ChannelActor::start_in_arbiter(arbiter, move |_| actor)
    }

    /// How every channel behaves (typing, presence batches, members named).
    pub fn rooms(mut self, rooms: RoomSettings) -> Self {
        self.rooms = rooms;
        self
    }
}

/// Joins a connection to a channel, starting its actor if needed; answers the
/// channel's address, the first of its members with their count, and
/// whether it is closed.
#[derive(Message)]
#[rtype(result = "Result<InChannel, MailboxError>")]
pub struct JoinChannel {
    pub channel: ChannelName,
    pub join: Join,
    /// Whether the database said the channel is closed, as the join read it.
    pub closed: bool,
}

/// A connection's place in a channel, once joined.
pub struct InChannel {
    pub addr: Addr<ChannelActor>,
    pub roster: Roster,
    pub closed: bool,
}

impl Actor for Registry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let bus = self.link.bus.clone();
        ctx.wait(
            async move {
                let channels = bus.subscribe(subjects::CHANNELS).await?;
                let revoked = bus.subscribe(subjects::SESSIONS_REVOKED).await?;
                let servers = bus.subscribe(subjects::SERVERS).await?;
                let operators = super::operators::subscribe(bus.as_ref()).await?;
                let all = futures::stream::select(
                    futures::stream::select(channels, revoked),
                    futures::stream::select(servers, operators),
                );
                Ok::<_, chat_shared::bus::BusError>(all)
            }
            .into_actor(self)
            .map(|result, act, ctx| match result {
                Ok(sub) => {
                    ctx.add_stream(sub);
                    // Heard by now: the others answer with theirs at once.
                    act.beat();
                }
                Err(e) => {
                    tracing::error!(error = %e, "registry could not subscribe to announcements")
                }
            }),
        );
        ctx.run_interval(BEAT, |act, _| act.beat());
    }
}

impl Registry {
    /// Says this server is alive, and forgets servers that stopped saying so:
    /// their users leave every channel here.
    fn beat(&mut self) {
        self.say_alive();
        for server in self.peers.take_gone(Instant::now()) {
            tracing::warn!(server = %server, "a server went silent; clearing its users' presence");
            for channel in self.channels.values() {
                channel.do_send(ServerGone(server.clone()));
            }
        }
    }
}

impl Registry {
    /// Tells the other servers this one is alive.
    fn say_alive(&self) {
        let note = ServerBeat {
            server: self.link.server_id.to_string(),
        };
        self.link.publisher.send_lossy(Outgoing {
            subject: subjects::SERVERS.to_owned(),
            headers: Vec::new(),
            payload: json_payload(&note),
        });
    }
}

impl StreamHandler<Envelope> for Registry {
    /// A server beat, a login session ended, or a channel was created.
    fn handle(&mut self, envelope: Envelope, _: &mut Self::Context) {
        if envelope.subject == subjects::SERVERS {
            if let Ok(beat) = serde_json::from_slice::<ServerBeat>(&envelope.payload) {
                // A server new here beats back, so that one that just
                // started knows every other at once (`crate::admin` counts
                // on it to know whom to wait for).
                if *beat.server != *self.link.server_id
                    && self.peers.heard(beat.server, Instant::now())
                {
                    self.say_alive();
                }
            }
            return;
        }
        if super::operators::is_operators(&envelope.subject) {
            return self.heard_from_operators(&envelope);
        }
        if envelope.subject == subjects::SESSIONS_REVOKED {
            match serde_json::from_slice::<SessionRevoked>(&envelope.payload) {
                Ok(r) => {
                    let ended = self
                        .connections
                        .values()
                        .filter(|c| *c.session_id == *r.session_id);
                    for c in ended {
                        c.end.do_send(EndConnection::LoggedOut);
                    }
                }
                Err(_) => tracing::warn!("dropping malformed session revocation"),
            }
            return;
        }
        let Ok(info) = serde_json::from_slice::<ChannelInfo>(&envelope.payload) else {
            tracing::warn!(subject = %shown(&envelope.subject), "dropping malformed channel announcement");
            return;
        };
        let frame: ByteString = ServerFrame::ChannelCreated { channel: info }
            .to_json()
            .into();
        for c in self.connections.values() {
            c.frames.do_send(DirectFrame(frame.clone()));
        }
    }
}

impl Handler<JoinChannel> for Registry {
    type Result = ResponseFuture<Result<InChannel, MailboxError>>;

    fn handle(&mut self, msg: JoinChannel, ctx: &mut Self::Context) -> Self::Result {
        let (idle, peer_seen) = (ctx.address().recipient(), ctx.address().recipient());
        // What was announced since this server started is newer than what
        // the join read; either way the channel hears it before the member.
        let closed = *self.closed.get(&msg.channel).unwrap_or(&msg.closed);
        let addr = match self.channels.get(&msg.channel) {
            Some(addr) => addr.clone(),
            None => {
                let actor =
                    ChannelActor::new(msg.channel.clone(), self.link.clone(), idle, peer_seen)
                        .settings(self.rooms);
                let addr = self.start_channel(actor);
                self.channels.insert(msg.channel, addr.clone());
                addr
            }
        };
        addr.do_send(SetClosed(closed));
        // `send` enqueues now, so this join is ahead of any later StopIfEmpty.
        let request = addr.send(msg.join);
        Box::pin(async move {
            let roster = request.await?;
            Ok(InChannel {
                addr,
                roster,
                closed,
            })
        })
    }
}

/// Who is present in a channel, as this server knows it (everyone, once it
/// has members there; nobody otherwise).
#[derive(Message)]
#[rtype(result = "Roster")]
pub struct PresentIn {
    pub channel: ChannelName,
    pub ask: Present,
}

impl Handler<PresentIn> for Registry {
    type Result = ResponseFuture<Roster>;

    fn handle(&mut self, msg: PresentIn, _: &mut Self::Context) -> Self::Result {
        let request = self.channels.get(&msg.channel).map(|a| a.send(msg.ask));
        Box::pin(async move {
            match request {
                Some(r) => r.await.unwrap_or_default(),
                None => Roster::default(),
            }
        })
    }
}

impl Handler<PeerSeen> for Registry {
    type Result = ();

    fn handle(&mut self, PeerSeen(server): PeerSeen, _: &mut Self::Context) {
        self.peers.seen(server, Instant::now());
    }
}

impl Handler<ChannelIdle> for Registry {
    type Result = ();

    fn handle(&mut self, idle: ChannelIdle, ctx: &mut Self::Context) {
        let Some(addr) = self.channels.get(&idle.0).cloned() else {
            return;
        };
        // Hold the mailbox until the channel answers, so no join is routed to
        // an actor that is about to stop.
        ctx.wait(
            addr.send(StopIfEmpty)
                .into_actor(self)
                .map(move |stopped, act, _| {
                    if matches!(stopped, Ok(true) | Err(_)) {
                        act.channels.remove(&idle.0);
                    }
                }),
        );
    }
}
