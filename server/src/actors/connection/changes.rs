//! `edit`, `delete` and `react` frames: the message must be in the channel
//! and not deleted; an edit must be the sender's own message, a deletion
//! the sender's own or the sender its owner or a moderator, a reaction one of
//! the list. Then the channel stores
//! and delivers the change, and the sender gets an `ack` with the message id.
//! An edit's mentions are worked out again from its text, and those it names
//! for the first time are told (`mention`), as for a new message.

use actix::prelude::*;
use chat_shared::change::{is_emoji, Change};
use chat_shared::frames::{ErrorCode, ErrorFrame, ServerFrame};
use chat_shared::message::{is_message_id, mention_candidates, Message};
use chat_shared::names::{ChannelName, MessageText};
use tracing::Instrument;

use super::client_frames::{existing_mentions, parse_channel, tell_mentioned, unavailable};
use super::{Connection, Ctx};
use crate::actors::channel::Amend;

/// An edited message and the people it mentions who it did not mention before.
type NewlyMentioned = Option<(Message, Vec<String>)>;

/// What a member asked to do to a message.
pub(super) enum Asked {
    Edit(MessageText),
    Delete,
    React { emoji: String, on: bool },
}

impl Connection {
    /// Checks an `edit` or `delete` and, once the message is looked up and
    /// the change allowed, hands it to the channel. This connection's later
    /// frames wait for the look-up, so its frames take effect in order.
    pub(super) fn amend(
        &mut self,
        channel: &str,
        id: String,
        asked: Asked,
        reference: Option<String>,
        ctx: &mut Ctx,
    ) -> Result<(), ErrorFrame> {
        let addr = self.joined_channel(channel)?.clone();
        if let Asked::React { emoji, .. } = &asked {
            if !is_emoji(emoji) {
                return Err(ErrorFrame::new(
                    ErrorCode::UnknownEmoji,
                    "That reaction is not one of the list (GET /api/emoji).",
                ));
            }
        }
        self.check_rate()?;
        let name = parse_channel(channel)?;
        if !is_message_id(&id) {
            return Err(ErrorFrame::new(
                ErrorCode::InvalidFrame,
                "id must be a message id.",
            ));
        }
        let look_up = look_up(self.state.clone(), name, self.user.to_string(), id, asked)
            .instrument(self.span());
        ctx.wait(
            look_up
                .into_actor(self)
                .map(move |(decided, id), act, ctx| {
                    let (change, newly) = match decided {
                        Ok(decided) => decided,
                        Err(e) => return act.error(ctx, e.with_ref(reference.as_deref())),
                    };
                    let request = addr.send(Amend {
                        change,
                        reference: reference.clone(),
                    });
                    ctx.spawn(request.into_actor(act).map(move |result, act, ctx| {
                        let frame = match result {
                            Ok(Ok(())) => {
                                if let Some((message, named)) = newly {
                                    let tell = tell_mentioned(act.state.clone(), message, named);
                                    actix::spawn(tell.instrument(act.span()));
                                }
                                ServerFrame::Ack { reference, id }
                            }
                            Ok(Err(e)) => ServerFrame::Error(e.with_ref(reference.as_deref())),
                            Err(_) => {
                                ServerFrame::Error(unavailable().with_ref(reference.as_deref()))
                            }
                        };
                        act.send_frame(ctx, &frame);
                    }));
                }),
        );
        Ok(())
    }
}

/// Finds the message, whether `user` runs the channel (for a deletion) and
/// whom an edit mentions, and decides the change; with the message id asked
/// about.
async fn look_up(
    state: actix_web::web::Data<crate::state::AppState>,
    name: ChannelName,
    user: String,
    id: String,
    asked: Asked,
) -> (Result<(Change, NewlyMentioned), ErrorFrame>, String) {
    let (bus, store, key) = (state.bus.as_ref(), state.store.as_ref(), &state.bus_key);
    let found = chat_shared::history::find(bus, store, key, &name, &id).await;
    let manages = match &asked {
        Asked::Delete => store
            .access(&name, &user)
            .await
            .map(|a| a.is_some_and(|a| a.manages())),
        _ => Ok(false),
    };
    let mentions = match &asked {
        Asked::Edit(text) => existing_mentions(store, mention_candidates(text.as_str())).await,
        _ => Ok(Vec::new()),
    };
    let decided = match (found, manages, mentions) {
        (Ok(found), Ok(manages), Ok(mentions)) => {
            // Only an edit can name someone new: only its original is kept.
            let before = match &asked {
                Asked::Edit(_) => found.clone(),
                _ => None,
            };
            decide(&name, &user, found, manages, asked, mentions).map(|change| {
                let newly = before.and_then(|m| newly_mentioned(m, &change));
                (change, newly)
            })
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            tracing::warn!(channel = %name, error = %e, "could not look up a message to change");
            Err(unavailable())
        }
    };
    (decided, id)
}

/// The change `user` asked for, if the message is there and it is theirs
/// to make: editing one's own messages, deleting one's own or, for one who
/// `manages` the channel (its owner and moderators), anyone's.
fn decide(
    channel: &ChannelName,
    user: &str,
    found: Option<Message>,
    manages: bool,
    asked: Asked,
    mentions: Vec<String>,
) -> Result<Change, ErrorFrame> {
    let Some(message) = found.filter(|m| !m.deleted) else {
        return Err(ErrorFrame::new(
            ErrorCode::NoSuchMessage,
            format!("There is no such message in #{channel}."),
        ));
    };
    let own = !message.bot && message.user.eq_ignore_ascii_case(user);
    let (channel, id, by) = (channel.clone(), message.id, user.to_owned());
    match asked {
        Asked::Edit(text) if own => Ok(Change::Edited {
            channel,
            id,
            text,
            edited_at: chrono::Utc::now(),
            by,
            mentions,
        }),
        Asked::Edit(_) => Err(ErrorFrame::new(
            ErrorCode::Forbidden,
            "You can only edit your own messages.",
        )),
        Asked::Delete if own || manages => Ok(Change::Deleted { channel, id, by }),
        Asked::Delete => Err(ErrorFrame::new(
            ErrorCode::Forbidden,
            "You can only delete your own messages.",
        )),
        Asked::React { emoji, on } => Ok(Change::Reaction {
            channel,
            id,
            emoji,
            user: by,
            on,
            at: chrono::Utc::now(),
        }),
    }
}

/// For an edit: the message as edited, and whom it mentions that it did not
/// before (they are told as of a new message; the others were told already).
fn newly_mentioned(before: Message, change: &Change) -> NewlyMentioned {
    let Change::Edited { mentions, .. } = change else {
        return None;
    };
    let named: Vec<String> = mentions
        .iter()
        .filter(|m| !before.mentions.contains(m))
        .cloned()
        .collect();
    if named.is_empty() {
        return None;
    }
    let mut after = before;
    change.apply(&mut after);
    Some((after, named))
}
