//! `Registry`: finds or starts the `ChannelActor` of a channel, and knows every
//! session on this server (for `channel_created` and per-user limits).

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;
use chat_shared::bus::Envelope;
use chat_shared::frames::{ChannelInfo, ServerFrame};
use chat_shared::names::ChannelName;
use chat_shared::subjects::{self, SessionRevoked};

use super::channel::{ChannelActor, ChannelDeps, ChannelIdle, Join, StopIfEmpty};
use super::{GoingAway, Push, SessionId};

pub struct Registry {
    deps: ChannelDeps,
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
        Self { deps, channels: HashMap::new(), sessions: HashMap::new() }
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
                Ok::<_, chat_shared::bus::BusError>(futures::stream::select(channels, revoked))
            }
                .into_actor(self)
                .map(|result, _, ctx| match result {
                    Ok(sub) => {
                        ctx.add_stream(sub);
                    }
                    Err(e) => tracing::error!(error = %e, "registry could not subscribe to announcements"),
                }),
        );
    }
}

impl StreamHandler<Envelope> for Registry {
    /// A channel was created or a session ended (here or on another server).
    fn handle(&mut self, envelope: Envelope, _: &mut Self::Context) {
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
        let frame: ByteString = ServerFrame::ChannelCreated { channel: info }.to_json().into();
        for s in self.sessions.values() {
            s.push.do_send(Push(frame.clone()));
        }
    }
}

impl Handler<JoinChannel> for Registry {
    type Result = ResponseFuture<Result<(Addr<ChannelActor>, Vec<String>), MailboxError>>;

    fn handle(&mut self, msg: JoinChannel, ctx: &mut Self::Context) -> Self::Result {
        let idle = ctx.address().recipient();
        let deps = self.deps.clone();
        let addr = self
            .channels
            .entry(msg.channel.clone())
            .or_insert_with(|| ChannelActor::new(msg.channel, deps, idle).start());
        // `send` enqueues now, so this join is ahead of any later StopIfEmpty.
        let request = addr.send(msg.join);
        let addr = addr.clone();
        Box::pin(async move { request.await.map(|members| (addr, members)) })
    }
}

impl Handler<ChannelIdle> for Registry {
    type Result = ();

    fn handle(&mut self, idle: ChannelIdle, ctx: &mut Self::Context) {
        let Some(addr) = self.channels.get(&idle.0).cloned() else { return };
        // Hold the mailbox until the channel answers, so no join is routed to
        // an actor that is about to stop.
        ctx.wait(addr.send(StopIfEmpty).into_actor(self).map(move |stopped, act, _| {
            if matches!(stopped, Ok(true) | Err(_)) {
                act.channels.remove(&idle.0);
            }
        }));
    }
}

impl Handler<Connect> for Registry {
    type Result = bool;

    fn handle(&mut self, c: Connect, _: &mut Self::Context) -> bool {
        let open = self.sessions.values().filter(|s| s.user == c.user).count();
        if open >= c.max_per_user {
            return false;
        }
        self.sessions.insert(c.session, SessionEntry { user: c.user, sid: c.sid, push: c.addr, going_away: c.going_away });
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
