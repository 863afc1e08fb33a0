//! `Registry`: finds or starts the `ChannelActor` of a channel, and knows every
//! session on this server (for `channel_created` and per-user limits).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use chat_shared::bus::Envelope;
use chat_shared::frames::{ChannelInfo, ServerFrame};
use chat_shared::names::ChannelName;
use chat_shared::subjects::{self, ServerBeat, SessionRevoked};

use super::channel::{
    ChannelActor, ChannelDeps, ChannelIdle, Join, PeerSeen, ServerGone, StopIfEmpty,
};
use super::{GoingAway, Push, SessionId};
use crate::publisher::Outgoing;

/// How often a server says it is alive, and how long until others count it gone.
const BEAT: Duration = Duration::from_secs(5);
const GONE_AFTER: Duration = Duration::from_secs(15);

pub struct Registry {
    deps: ChannelDeps,
    /// Other servers and when they were last heard from.
    peers: HashMap<String, Instant>,
    channels: HashMap<ChannelName, Addr<ChannelActor>>,
    sessions: HashMap<SessionId, SessionEntry>,
}

struct SessionEntry {
    user: Arc<str>,
    sid: Arc<str>,
    push: Recipient<Push>,
    going_away: Recipient<GoingAway>,
}

impl Registry {
    pub fn new(deps: ChannelDeps) -> Self {
        Self {
            deps,
            peers: HashMap::new(),
            channels: HashMap::new(),
            sessions: HashMap::new(),
        }
    }
}

/// Joins a session to a channel, starting its actor if needed; answers the
/// channel's address and its members.
#[derive(Message)]
#[rtype(result = "Result<(Addr<ChannelActor>, Vec<String>), MailboxError>")]
pub struct JoinChannel {
    pub channel: ChannelName,
    pub join: Join,
}

/// A session opened; answers whether it may stay (per-user connection limit).
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Connect {
    pub session: SessionId,
    pub user: Arc<str>,
    pub sid: Arc<str>,
    pub addr: Recipient<Push>,
    pub going_away: Recipient<GoingAway>,
    pub max_per_user: usize,
}

/// A session closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub session: SessionId,
}

/// How many connections a user has open here.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct ConnectionsOf(pub Arc<str>);

/// How many sessions and live channels this server has.
#[derive(Message)]
#[rtype(result = "(usize, usize)")]
pub struct Counts;

impl Actor for Registry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let bus = self.deps.bus.clone();
        ctx.wait(
            async move {
                let channels = bus.subscribe(subjects::CHANNELS).await?;
                let revoked = bus.subscribe(subjects::SESSIONS_REVOKED).await?;
                let servers = bus.subscribe(subjects::SERVERS).await?;
                let all =
                    futures::stream::select(futures::stream::select(channels, revoked), servers);
                Ok::<_, chat_shared::bus::BusError>(all)
            }
            .into_actor(self)
            .map(|result, _, ctx| match result {
                Ok(sub) => {
                    ctx.add_stream(sub);
                }
                Err(e) => {
                    tracing::error!(error = %e, "registry could not subscribe to announcements")
                }
            }),
        );
        self.beat();
        ctx.run_interval(BEAT, |act, _| act.beat());
    }
}

impl Registry {
    /// Says this server is alive, and forgets servers that stopped saying so:
    /// their users leave every channel here.
    fn beat(&mut self) {
        let note = ServerBeat {
            server: self.deps.server_id.to_string(),
        };
        let payload = bytes::Bytes::from(serde_json::to_vec(&note).expect("serializes"));
        self.deps.publisher.send_lossy(Outgoing {
            subject: subjects::SERVERS.to_owned(),
            headers: Vec::new(),
            payload,
        });
        let now = Instant::now();
        let gone: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, seen)| now.duration_since(**seen) > GONE_AFTER)
            .map(|(s, _)| s.clone())
            .collect();
        for server in gone {
            tracing::warn!(server = %server, "a server went silent; clearing its users' presence");
            self.peers.remove(&server);
            for channel in self.channels.values() {
                channel.do_send(ServerGone(server.clone()));
            }
        }
    }
}

impl StreamHandler<Envelope> for Registry {
    /// A channel was created or a session ended (here or on another server).
    fn handle(&mut self, envelope: Envelope, _: &mut Self::Context) {
        if envelope.subject == subjects::SERVERS {
            if let Ok(beat) = serde_json::from_slice::<ServerBeat>(&envelope.payload) {
                if *beat.server != *self.deps.server_id {
                    self.peers.insert(beat.server, Instant::now());
                }
            }
            return;
        }
        if envelope.subject == subjects::SESSIONS_REVOKED {
            match serde_json::from_slice::<SessionRevoked>(&envelope.payload) {
                Ok(r) => {
                    for s in self.sessions.values().filter(|s| *s.sid == *r.sid) {
                        s.going_away.do_send(GoingAway::LoggedOut);
                    }
                }
                Err(_) => tracing::warn!("dropping malformed session revocation"),
            }
            return;
        }
        let Ok(info) = serde_json::from_slice::<ChannelInfo>(&envelope.payload) else {
            tracing::warn!(subject = %envelope.subject, "dropping malformed channel announcement");
            return;
        };
        let frame: ByteString = ServerFrame::ChannelCreated { channel: info }
            .to_json()
            .into();
        for s in self.sessions.values() {
            s.push.do_send(Push(frame.clone()));
        }
    }
}

impl Handler<JoinChannel> for Registry {
    type Result = ResponseFuture<Result<(Addr<ChannelActor>, Vec<String>), MailboxError>>;

    fn handle(&mut self, msg: JoinChannel, ctx: &mut Self::Context) -> Self::Result {
        let (idle, peer_seen) = (ctx.address().recipient(), ctx.address().recipient());
        let deps = self.deps.clone();
        let addr = self
            .channels
            .entry(msg.channel.clone())
            .or_insert_with(|| ChannelActor::new(msg.channel, deps, idle, peer_seen).start());
        // `send` enqueues now, so this join is ahead of any later StopIfEmpty.
        let request = addr.send(msg.join);
        let addr = addr.clone();
        Box::pin(async move { request.await.map(|members| (addr, members)) })
    }
}

impl Handler<PeerSeen> for Registry {
    type Result = ();

    fn handle(&mut self, PeerSeen(server): PeerSeen, _: &mut Self::Context) {
        self.peers.entry(server).or_insert_with(Instant::now);
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

impl Handler<Connect> for Registry {
    type Result = bool;

    fn handle(&mut self, c: Connect, _: &mut Self::Context) -> bool {
        let open = self.sessions.values().filter(|s| s.user == c.user).count();
        if open >= c.max_per_user {
            return false;
        }
        self.sessions.insert(
            c.session,
            SessionEntry {
                user: c.user,
                sid: c.sid,
                push: c.addr,
                going_away: c.going_away,
            },
        );
        true
    }
}

impl Handler<Disconnect> for Registry {
    type Result = ();

    fn handle(&mut self, d: Disconnect, _: &mut Self::Context) {
        self.sessions.remove(&d.session);
    }
}

impl Handler<ConnectionsOf> for Registry {
    type Result = usize;

    fn handle(&mut self, ConnectionsOf(user): ConnectionsOf, _: &mut Self::Context) -> usize {
        self.sessions.values().filter(|s| s.user == user).count()
    }
}

impl Handler<Counts> for Registry {
    type Result = MessageResult<Counts>;

    fn handle(&mut self, _: Counts, _: &mut Self::Context) -> Self::Result {
        MessageResult((self.sessions.len(), self.channels.len()))
    }
}

/// Closes every session (server shutdown); answers how many there were.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CloseAll;

impl Handler<CloseAll> for Registry {
    type Result = usize;

    fn handle(&mut self, _: CloseAll, _: &mut Self::Context) -> usize {
        for s in self.sessions.values() {
            s.going_away.do_send(GoingAway::Shutdown);
        }
        self.sessions.len()
    }
}
