//! What the channel actor is told, by connections and by the registry.

use std::sync::Arc;

use actix::prelude::*;
use chat_shared::frames::ErrorFrame;
use chat_shared::names::{ChannelName, MessageText};

use crate::actors::outbox::Outbox;
use crate::actors::{ChannelFrame, ConnId, FellBehind};
use crate::publisher::Outgoing;

/// Those present in a channel: some of them, in name order, and how many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub members: Vec<String>,
    pub count: usize,
}

/// Asks who is present: at most `limit`, in name order, after the one whose
/// lower-case name is `after`.
#[derive(Message)]
#[rtype(result = "Roster")]
pub struct Present {
    pub after: Option<String>,
    pub limit: usize,
}

/// A connection joins; answers the first of those present and their count.
#[derive(Message)]
#[rtype(result = "Roster")]
pub struct Join {
    pub conn: ConnId,
    pub user: Arc<str>,
    /// Where the channel's frames go.
    pub frames: Recipient<ChannelFrame>,
    /// Told when the connection falls too far behind.
    pub fell_behind: Recipient<FellBehind>,
    /// The connection's outbox, where each frame's bytes are reserved.
    pub outbox: Arc<Outbox>,
}

/// A connection leaves (or closes).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub conn: ConnId,
}

/// A member posts a message; answers its id, and the request that hands a
/// command to the bot (which the connection sends, to hear if no bot answers).
#[derive(Message)]
#[rtype(result = "Result<Posted, ErrorFrame>")]
pub struct Post {
    pub conn: ConnId,
    pub text: MessageText,
    /// The client's id for this send: a retry with the same one is stored
    /// and delivered once.
    pub reference: Option<String>,
    /// The message of this channel it answers (checked by the connection).
    pub reply_to: Option<String>,
    /// The users it mentions (checked by the connection).
    pub mentions: Vec<String>,
}

/// A message accepted by the channel.
#[derive(Debug)]
pub struct Posted {
    pub id: String,
    pub command: Option<Outgoing>,
    /// Stored now, and it mentions people: they are told.
    pub mentioned: Option<chat_shared::message::Message>,
}

/// A member is typing.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Typing {
    pub conn: ConnId,
}

/// Asked by the registry: stop if no one is here; answers whether it stopped.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct StopIfEmpty;

/// Whether an operator has closed the channel; its members are told
/// when that changes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetClosed(pub bool);

/// A frame for every member here (an operator's notice).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ToMembers(pub bytestring::ByteString);

/// Who is in the channel on this server, each once.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct LocalUsers;

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
