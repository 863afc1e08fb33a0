//! The server's actors: one per WebSocket connection (`connection`), one per
//! channel with local members (`channel`), and the registry that finds
//! channels and knows every connection. The messages below are what other
//! actors tell a connection.

pub mod channel;
pub mod connection;
pub mod heartbeat;
pub mod join_buffer;
pub mod operators;
pub mod outbox;
pub mod peers;
pub mod presence;
pub mod registry;
pub mod users;

use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;

/// Identifies one WebSocket connection on this server.
pub type ConnId = u64;

/// How connection `conn` of server `server` is named across servers (in a
/// user frame's `Chat-Conn` header) and in logs: `<server>/<connection>`.
pub fn conn_tag(server: &str, conn: ConnId) -> String {
    format!("{server}/{conn}")
}

/// A frame for a channel's members, serialized once and shared by all of them.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct ChannelFrame {
    pub channel: Arc<str>,
    /// The message id, for frames that carry a message (to de-duplicate while joining).
    pub id: Option<Arc<str>>,
    pub frame: ByteString,
    /// When the channel handed it over (`crate::load::clock_ms`).
    pub sent_ms: u64,
    /// When the server accepted the message it carries (Unix ms; 0 for
    /// frames that carry none).
    pub accepted_ms: i64,
}

/// A frame for a connection whatever channels it is in (e.g. `channel_created`).
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct DirectFrame(pub ByteString);

/// The person was removed from a channel (or banned from it): the
/// connection leaves it at once, tells the client with `frame`, and answers
/// its further frames for it with `code`.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Removed {
    pub channel: chat_shared::names::ChannelName,
    pub code: chat_shared::frames::ErrorCode,
    pub frame: ByteString,
}

/// The connection fell too far behind its channel and is being cut loose.
#[derive(Message)]
#[rtype(result = "()")]
pub struct FellBehind;

/// A connection must close: the server is stopping (1001, so the client
/// reconnects elsewhere) or its login session ended (1008).
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub enum EndConnection {
    ServerStopping,
    LoggedOut,
}
