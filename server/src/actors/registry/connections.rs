//! The connections a `Registry` knows: each opened here (within the
//! per-user limit) and closed, counted, and all closed when the server stops.

use std::sync::Arc;

use actix::prelude::*;

use super::Registry;
use crate::actors::{ConnId, DirectFrame, EndConnection, Removed};

/// A connection open here: whose, of which login session, and how to
/// reach it.
pub(in crate::actors) struct ConnectionEntry {
    pub(super) user: Arc<str>,
    pub(super) session_id: Arc<str>,
    pub(in crate::actors) frames: Recipient<DirectFrame>,
    pub(super) end: Recipient<EndConnection>,
    pub(super) removed: Recipient<Removed>,
}

/// A connection opened; answers whether it may stay (per-user connection limit).
#[derive(Message)]
#[rtype(result = "bool")]
pub struct ConnectionOpened {
    pub conn: ConnId,
    pub user: Arc<str>,
    /// The login session it belongs to.
    pub session_id: Arc<str>,
    pub frames: Recipient<DirectFrame>,
    pub end: Recipient<EndConnection>,
    pub removed: Recipient<Removed>,
    pub max_per_user: usize,
}

/// A connection closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConnectionClosed {
    pub conn: ConnId,
}

/// How many connections a user has open here.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct ConnectionsOf(pub Arc<str>);

/// How many connections and live channels this server has.
#[derive(Message)]
#[rtype(result = "(usize, usize)")]
pub struct Counts;

impl Handler<ConnectionOpened> for Registry {
    type Result = bool;

    fn handle(&mut self, c: ConnectionOpened, ctx: &mut Self::Context) -> bool {
        let open = self
            .connections
            .values()
            .filter(|e| e.user == c.user)
            .count();
        if open >= c.max_per_user {
            return false;
        }
        self.users.open(&c.user, self.link.bus.clone(), ctx);
        self.connections.insert(
            c.conn,
            ConnectionEntry {
                user: c.user,
                session_id: c.session_id,
                frames: c.frames,
                end: c.end,
                removed: c.removed,
            },
        );
        true
    }
}

impl Handler<ConnectionClosed> for Registry {
    type Result = ();

    fn handle(&mut self, c: ConnectionClosed, ctx: &mut Self::Context) {
        let Some(gone) = self.connections.remove(&c.conn) else {
            return;
        };
        let others = self
            .connections
            .values()
            .any(|e| e.user.eq_ignore_ascii_case(&gone.user));
        if !others {
            self.users.close(&gone.user, ctx);
        }
    }
}

impl Handler<ConnectionsOf> for Registry {
    type Result = usize;

    fn handle(&mut self, ConnectionsOf(user): ConnectionsOf, _: &mut Self::Context) -> usize {
        self.connections.values().filter(|c| c.user == user).count()
    }
}

impl Handler<Counts> for Registry {
    type Result = MessageResult<Counts>;

    fn handle(&mut self, _: Counts, _: &mut Self::Context) -> Self::Result {
        MessageResult((self.connections.len(), self.channels.len()))
    }
}

/// Closes every connection (server shutdown); answers how many there were.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CloseAll;

impl Handler<CloseAll> for Registry {
    type Result = usize;

    fn handle(&mut self, _: CloseAll, _: &mut Self::Context) -> usize {
        for c in self.connections.values() {
            c.end.do_send(EndConnection::ServerStopping);
        }
        self.connections.len()
    }
}
