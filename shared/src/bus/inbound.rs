//! A chat message as it arrives from the bus (from other servers, the bot or
//! operators): checked as strictly as a browser's input before it is
//! delivered or stored, and marked by who could have sent it. Only a message
//! a chat server signed (`super::signature`) can be a person's.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{BusKey, Envelope};
use crate::bot_commands::BOT_USER;
use crate::card::Card;
use crate::change::{is_change, is_emoji, Change};
use crate::message::{is_message_id, Kind, Message};
use crate::names::{ChannelName, InvalidText, MessageText, Username};
use crate::subjects;

/// How far ahead of the receiver's clock a message's id or timestamp may be.
pub const MAX_AHEAD: chrono::Duration = chrono::Duration::seconds(60);

/// Why a message from the bus was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("not a JSON chat message")]
    Malformed,
    #[error("the id is not a message id")]
    BadId,
    #[error("the id's time is more than 60 s ahead")]
    IdAhead,
    #[error("the timestamp is not an RFC 3339 time")]
    BadTs,
    #[error("the timestamp is more than 60 s ahead")]
    TsAhead,
    #[error("the channel is not the subject's")]
    WrongChannel,
    #[error("the user is not a valid username")]
    BadUser,
    #[error("the text is refused: {0}")]
    BadText(InvalidText),
    #[error("the card is not one clients can show")]
    BadCard,
    #[error("reply_to is not a message id")]
    BadReplyTo,
    #[error("mentions are not lower-case usernames (at most 20)")]
    BadMentions,
    #[error("a signed message of an unknown kind")]
    BadKind,
    #[error("a change to a message, not a message")]
    NotAMessage,
    #[error("a change no chat server signed")]
    UnsignedChange,
    #[error("a reaction with an emoji not on the list")]
    BadEmoji,
}

/// What arrives on a message subject: a message, or a change to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    Message(Message),
    Change(Change),
}

/// The message or change `envelope` carries, checked as [`accept`] checks
/// a message; a change must be signed by a chat server (only a server, which
/// checked who may make it, publishes one).
pub fn accept_any(
    envelope: &Envelope,
    key: &BusKey,
    now: DateTime<Utc>,
) -> Result<Inbound, Rejected> {
    if !is_change(&envelope.payload) {
        return accept_message(envelope, key, now).map(Inbound::Message);
    }
    let change: Change =
        serde_json::from_slice(&envelope.payload).map_err(|_| Rejected::Malformed)?;
    if !key.signed(envelope) {
        return Err(Rejected::UnsignedChange);
    }
    if subjects::channel_of(&envelope.subject).as_ref() != Some(change.channel()) {
        return Err(Rejected::WrongChannel);
    }
    if !is_message_id(change.id()) {
        return Err(Rejected::BadId);
    }
    Username::parse(change.by()).map_err(|_| Rejected::BadUser)?;
    match &change {
        Change::Edited { edited_at: at, .. } | Change::Reaction { at, .. }
            if *at > now + MAX_AHEAD =>
        {
            return Err(Rejected::TsAhead);
        }
        Change::Reaction { emoji, .. } if !is_emoji(emoji) => return Err(Rejected::BadEmoji),
        Change::Edited { mentions, .. } if !mentions_ok(mentions) => {
            return Err(Rejected::BadMentions)
        }
        _ => {}
    }
    Ok(Inbound::Change(change))
}

/// Whether `names` can be a message's `mentions`: at most 20 lower-case
/// usernames.
fn mentions_ok(names: &[String]) -> bool {
    let lower = |n: &String| n.bytes().all(|b| !b.is_ascii_uppercase());
    names.len() <= 20 && names.iter().all(|n| lower(n) && Username::parse(n).is_ok())
}

/// The payload as published, before any check.
#[derive(Deserialize)]
struct Published {
    id: String,
    channel: String,
    user: String,
    text: String,
    ts: String,
    #[serde(default)]
    bot: bool,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    mentions: Vec<String>,
    #[serde(default)]
    card: Option<Box<Card>>,
}

/// The message `envelope` carries, if it passes every rule a browser's
/// message must, with `now` as the receiver's clock; marked by who could have
/// published it (see [`mark`]).
pub fn accept(envelope: &Envelope, key: &BusKey, now: DateTime<Utc>) -> Result<Message, Rejected> {
    if is_change(&envelope.payload) {
        return Err(Rejected::NotAMessage);
    }
    accept_message(envelope, key, now)
}

/// [`accept`] of a payload known not to be a change.
fn accept_message(
    envelope: &Envelope,
    key: &BusKey,
    now: DateTime<Utc>,
) -> Result<Message, Rejected> {
    let published: Published =
        serde_json::from_slice(&envelope.payload).map_err(|_| Rejected::Malformed)?;
    let latest = now + MAX_AHEAD;
    if !is_message_id(&published.id) {
        return Err(Rejected::BadId);
    }
    let id_ms = ulid::Ulid::from_string(&published.id)
        .map_err(|_| Rejected::BadId)?
        .timestamp_ms();
    if !i64::try_from(id_ms).is_ok_and(|ms| ms <= latest.timestamp_millis()) {
        return Err(Rejected::IdAhead);
    }
    let ts = DateTime::parse_from_rfc3339(&published.ts)
        .map_err(|_| Rejected::BadTs)?
        .with_timezone(&Utc);
    if ts > latest {
        return Err(Rejected::TsAhead);
    }
    let channel = ChannelName::parse(&published.channel).map_err(|_| Rejected::WrongChannel)?;
    if subjects::channel_of(&envelope.subject).as_ref() != Some(&channel) {
        return Err(Rejected::WrongChannel);
    }
    Username::parse(&published.user).map_err(|_| Rejected::BadUser)?;
    let text = MessageText::parse(&published.text).map_err(Rejected::BadText)?;
    if published
        .reply_to
        .as_deref()
        .is_some_and(|r| !is_message_id(r))
    {
        return Err(Rejected::BadReplyTo);
    }
    if !mentions_ok(&published.mentions) {
        return Err(Rejected::BadMentions);
    }
    if published.card.as_ref().is_some_and(|c| !c.is_valid()) {
        return Err(Rejected::BadCard);
    }
    let message = Message {
        id: published.id,
        channel,
        user: published.user,
        text,
        ts,
        bot: published.bot,
        kind: None,
        reply_to: published.reply_to,
        edited_at: None,
        deleted: false,
        reactions: Default::default(),
        mentions: published.mentions,
        card: published.card,
    };
    mark(message, published.kind.as_deref(), key.signed(envelope))
}

/// Who a message is from. Signed by a chat server: as it says. Otherwise it
/// is never a person's: `bot` is set, and it is the bot's own post when its
/// user is the bot's name, else an operator's (or the system's, when it says
/// `"kind":"system"`).
fn mark(mut message: Message, kind: Option<&str>, signed: bool) -> Result<Message, Rejected> {
    if signed {
        message.kind = kind
            .map(|k| Kind::parse(k).ok_or(Rejected::BadKind))
            .transpose()?;
        return Ok(message);
    }
    message.bot = true;
    message.kind = if message.user == BOT_USER {
        None
    } else if kind == Some(Kind::System.as_str()) {
        Some(Kind::System)
    } else {
        Some(Kind::Operator)
    };
    Ok(message)
}

/// [`accept`] at the present time; a message refused is logged with the
/// reason (never its text).
pub fn receive(envelope: &Envelope, key: &BusKey) -> Result<Message, Rejected> {
    match receive_any(envelope, key)? {
        Inbound::Message(m) => Ok(m),
        Inbound::Change(_) => Err(Rejected::NotAMessage),
    }
}

/// [`accept_any`] at the present time; what is refused is logged with the
/// reason (never its text).
pub fn receive_any(envelope: &Envelope, key: &BusKey) -> Result<Inbound, Rejected> {
    let accepted = accept_any(envelope, key, Utc::now());
    if let Err(reason) = &accepted {
        tracing::warn!(
            subject = %crate::log_text::shown(&envelope.subject), reason = %reason, bytes = envelope.payload.len(),
            "dropping a message from the bus"
        );
    }
    accepted
}

#[cfg(test)]
mod tests;
