//! The server's actors: one per WebSocket connection, one per channel with
//! local members, and the registry that finds channels and knows sessions.

pub mod channel;
pub mod presence;
pub mod registry;
pub mod session;

use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;

/// Identifies one WebSocket connection on this server.
pub type SessionId = u64;

/// A frame for one channel, already serialized once and shared by every recipient.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver {
    pub channel: Arc<str>,
    /// The message id, for frames that carry a message (to de-duplicate while joining).
    pub id: Option<Arc<str>>,
    pub frame: ByteString,
}

/// A frame not tied to a channel (e.g. `channel_created`).
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Push(pub ByteString);

/// Tells a session it fell too far behind and is being disconnected.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Evict;

/// A session must close: the server is shutting down (1001, so the client
/// reconnects elsewhere) or its login session ended (1008).
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub enum GoingAway {
    Shutdown,
    LoggedOut,
}
