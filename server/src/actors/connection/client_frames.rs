//! What each client frame does on a connection: each is read and handed to
//! its handler (joins and leaves in `joining`, changes in `changes`, read
//! markers in `reading`); sends (and commands handed to the bot) and typing
//! are here.

use actix::prelude::*;
use actix_web::web;
use chat_shared::correlation::is_token;
use chat_shared::frames::{ClientFrame, ErrorCode, ErrorFrame, ServerFrame};
use chat_shared::message::{is_message_id, mention_candidates, Message};
use chat_shared::names::{ChannelName, InvalidText, MessageText};
use chat_shared::people::ToPerson;
use chat_shared::store::{Store, StoreError};
use chat_shared::subjects;
use tracing::Instrument;

use super::changes::Asked;
use super::{Connection, Ctx, COMMAND_TIMEOUT};
use crate::actors::channel::{ChannelActor, Post, Typing};
use crate::publisher::Outgoing;
use crate::state::AppState;

/// Longest client `ref` a command's correlation id is made of.
const MAX_REF_IN_ID: usize = 48;

impl Connection {
    /// Handles one text frame; a frame that fails gets an error frame (with
    /// its `ref`) and the connection stays open.
    pub(super) fn on_frame(&mut self, text: &str, ctx: &mut Ctx) {
        let frame = match ClientFrame::parse(text) {
            Ok(f) => f,
            Err(e) => return self.error(ctx, e),
        };
        let reference = frame.reference().map(str::to_owned);
        let result = match frame {
            ClientFrame::Join { channel, since } => self.join(&channel, since, ctx),
            ClientFrame::Leave { channel } => self.leave(&channel),
            ClientFrame::Send {
                channel,
                text,
                reference,
                reply_to,
            } => self.post(&channel, &text, reference, reply_to, ctx),
            ClientFrame::Typing { channel } => self.typing(&channel),
            ClientFrame::Edit {
                channel,
                id,
                text,
                reference,
            } => MessageText::parse(&text)
                .map_err(text_error)
                .and_then(|text| self.amend(&channel, id, Asked::Edit(text), reference, ctx)),
            ClientFrame::Delete {
                channel,
                id,
                reference,
            } => self.amend(&channel, id, Asked::Delete, reference, ctx),
            ClientFrame::Read { channel, id } => self.read(&channel, id, ctx),
            ClientFrame::React {
                channel,
                id,
                emoji,
                on,
                reference,
            } => self.amend(&channel, id, Asked::React { emoji, on }, reference, ctx),
        };
        if let Err(e) = result {
            self.error(ctx, e.with_ref(reference.as_deref()));
        }
    }

    pub(super) fn joined_channel(&self, channel: &str) -> Result<&Addr<ChannelActor>, ErrorFrame> {
        let name = parse_channel(channel)?;
        self.joined
            .get(&name)
            .ok_or_else(|| match self.removed.get(name.as_str()) {
                Some((ErrorCode::Forbidden, _)) => ErrorFrame::new(
                    ErrorCode::Forbidden,
                    format!("You are banned from #{name}."),
                ),
                Some(_) => no_such_channel(&name),
                None => ErrorFrame::new(ErrorCode::NotJoined, format!("Join #{name} first.")),
            })
    }

    fn post(
        &mut self,
        channel: &str,
        text: &str,
        reference: Option<String>,
        reply_to: Option<String>,
        ctx: &mut Ctx,
    ) -> Result<(), ErrorFrame> {
        let addr = self.joined_channel(channel)?.clone();
        self.check_load()?;
        self.check_rate()?;
        let text = MessageText::parse(text).map_err(text_error)?;
        let mentioned = mention_candidates(text.as_str());
        let post = Post {
            conn: self.id,
            text,
            reference,
            reply_to: None,
            mentions: Vec::new(),
        };
        if reply_to.is_none() && mentioned.is_empty() {
            self.submit(&addr, post, ctx);
            return Ok(());
        }
        if reply_to.as_deref().is_some_and(|r| !is_message_id(r)) {
            return Err(ErrorFrame::new(
                ErrorCode::InvalidFrame,
                "reply_to must be a message id.",
            ));
        }
        let name = parse_channel(channel)?;
        self.post_looked_up(addr, post, name, reply_to, mentioned, ctx);
        Ok(())
    }

    /// Posts once the original it replies to is found in the channel (else
    /// an error for it) and the names it mentions are checked against the
    /// users. This connection's later frames wait for the answer, so that its
    /// sends are posted in the order they were made.
    fn post_looked_up(
        &mut self,
        addr: Addr<ChannelActor>,
        post: Post,
        name: ChannelName,
        original: Option<String>,
        mentioned: Vec<String>,
        ctx: &mut Ctx,
    ) {
        let state = self.state.clone();
        let find = async move {
            let (bus, store, key) = (state.bus.as_ref(), state.store.as_ref(), &state.bus_key);
            let found = match &original {
                Some(id) => chat_shared::history::find(bus, store, key, &name, id)
                    .await
                    .map(|m| m.map(|m| Some(m.id))),
                None => Ok(Some(None)),
            };
            let mentions = existing_mentions(store, mentioned).await;
            (name, found, mentions)
        }
        .instrument(self.span());
        ctx.wait(find.into_actor(self).map(move |(name, found, mentions), act, ctx| {
            let refused = match (found, mentions) {
                (Ok(Some(reply_to)), Ok(mentions)) => {
                    let post = Post {
                        reply_to,
                        mentions,
                        ..post
                    };
                    return act.submit(&addr, post, ctx);
                }
                (Ok(None), _) => ErrorFrame::new(
                    ErrorCode::NoSuchMessage,
                    format!("There is no such message in #{name} to reply to."),
                ),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(conn = %act.tag, channel = %name, error = %e, "could not look up a reply's original or mentions");
                    unavailable()
                }
            };
            act.error(ctx, refused.with_ref(post.reference.as_deref()));
        }));
    }

    /// Hands a checked post to its channel; its ack (or error) follows.
    fn submit(&mut self, addr: &Addr<ChannelActor>, post: Post, ctx: &mut Ctx) {
        let reference = post.reference.clone();
        let request = addr.send(post);
        let asked_ms = crate::load::clock_ms();
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            let frame = match result {
                Ok(Ok(posted)) => {
                    // How long storing and delivering it waited.
                    act.state.load.waited_since(asked_ms);
                    crate::metrics::accepted();
                    if let Some(command) = posted.command {
                        act.hand_to_bot(command, reference.clone(), ctx);
                    }
                    if let Some(message) = posted.mentioned {
                        let named = message.mentions.clone();
                        let tell = tell_mentioned(act.state.clone(), message, named);
                        actix::spawn(tell.instrument(act.span()));
                    }
                    ServerFrame::Ack {
                        reference,
                        id: posted.id,
                    }
                }
                Ok(Err(e)) => ServerFrame::Error(e.with_ref(reference.as_deref())),
                Err(_) => ServerFrame::Error(unavailable().with_ref(reference.as_deref())),
            };
            act.send_frame(ctx, &frame);
        }));
    }

    /// Sends a command to the bots, with its correlation id, and tells the
    /// sender if none answers in time.
    fn hand_to_bot(&mut self, mut command: Outgoing, reference: Option<String>, ctx: &mut Ctx) {
        let correlation = self.command_correlation(reference.as_deref());
        tracing::info!(
            conn = %self.tag, user = %self.user, subject = %command.subject, %correlation,
            "command forwarded to the bot"
        );
        let header = (subjects::CORRELATION_HEADER.to_owned(), correlation.clone());
        command.headers.push(header);
        let bus = self.state.bus.clone();
        let request = async move {
            let Outgoing {
                subject,
                headers,
                payload,
            } = command;
            bus.request(&subject, headers, payload, COMMAND_TIMEOUT)
                .await
        };
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            if let Err(e) = result {
                tracing::warn!(conn = %act.tag, user = %act.user, %correlation, error = %e, "no bot answered a command");
                let error = ErrorFrame::new(
                    ErrorCode::BotUnavailable,
                    "The bot isn't answering right now; please try again in a moment.",
                );
                act.error(ctx, error.with_ref(reference.as_deref()));
            }
        }));
    }

    /// The id that follows a command into the bot's logs:
    /// `<server>/<connection>/<ref>` with the client's `ref` when it is a
    /// short plain token, else with the count of this connection's commands.
    fn command_correlation(&mut self, reference: Option<&str>) -> String {
        self.commands += 1;
        match reference.filter(|r| is_token(r, MAX_REF_IN_ID)) {
            Some(r) => format!("{}/{r}", self.tag),
            None => format!("{}/{}", self.tag, self.commands),
        }
    }

    fn typing(&mut self, channel: &str) -> Result<(), ErrorFrame> {
        self.joined_channel(channel)?
            .do_send(Typing { conn: self.id });
        Ok(())
    }
}

impl Connection {
    /// Counts a send, edit or deletion against the rate limit.
    /// Refuses a send while the server is saturated, so that what it has
    /// already accepted is delivered in time (the client sends it again).
    fn check_load(&self) -> Result<(), ErrorFrame> {
        if !self.state.load.overloaded() {
            return Ok(());
        }
        Err(ErrorFrame::new(
            ErrorCode::Overloaded,
            "The server is busy; send it again in a moment.",
        ))
    }

    pub(super) fn check_rate(&mut self) -> Result<(), ErrorFrame> {
        if self.rate.allow() {
            return Ok(());
        }
        let limits = &self.state.limits;
        Err(ErrorFrame::new(
            ErrorCode::RateLimited,
            format!(
                "Slow down: at most {} messages per {} seconds.",
                limits.rate_count, limits.rate_window_secs
            ),
        ))
    }
}

/// The error for text that is refused.
pub(super) fn text_error(e: InvalidText) -> ErrorFrame {
    let code = match e {
        InvalidText::Empty => ErrorCode::Empty,
        InvalidText::TooLong => ErrorCode::TooLong,
    };
    ErrorFrame::new(code, e.to_string())
}

pub(super) fn parse_channel(channel: &str) -> Result<ChannelName, ErrorFrame> {
    ChannelName::parse(channel)
        .map_err(|e| ErrorFrame::new(ErrorCode::InvalidChannel, e.to_string()))
}

/// Of the names `candidates` (`mention_candidates` of a text), those of
/// existing users, in the order written.
pub(super) async fn existing_mentions(
    store: &dyn Store,
    candidates: Vec<String>,
) -> Result<Vec<String>, StoreError> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let users = store.existing_users(&candidates).await?;
    Ok(candidates
        .into_iter()
        .filter(|m| users.contains(m))
        .collect())
}

/// Tells each of `named` (people `message` mentions) who may read its
/// channel, but its author: a `mention` frame on every connection of theirs.
pub(super) async fn tell_mentioned(
    state: web::Data<AppState>,
    message: Message,
    named: Vec<String>,
) {
    let author = message.user.to_ascii_lowercase();
    let named: Vec<String> = named.into_iter().filter(|m| *m != author).collect();
    if named.is_empty() {
        return;
    }
    let store = state.store.as_ref();
    // The channel's kind says who may read it; the named, who they are.
    let looked_up = match store.channel(&message.channel).await {
        Ok(Some(channel)) => store
            .among(&message.channel, &named)
            .await
            .map(|among| among.readers(channel.kind, &named)),
        Ok(None) => return,
        Err(e) => Err(e),
    };
    let readers = match looked_up {
        Ok(readers) => readers,
        Err(e) => return tracing::warn!(error = %e, "could not check who a mention may tell"),
    };
    let frame = ToPerson::Mention { message };
    for person in readers {
        crate::tell::tell(state.bus.as_ref(), &person, &frame).await;
    }
}

/// The answer about a channel that does not exist, or that the asker may
/// not know of.
pub(super) fn no_such_channel(name: &ChannelName) -> ErrorFrame {
    ErrorFrame::new(
        ErrorCode::NoSuchChannel,
        format!("There is no channel #{name}."),
    )
}

pub(super) fn unavailable() -> ErrorFrame {
    ErrorFrame::new(
        ErrorCode::Unavailable,
        "That is unavailable right now; try again shortly.",
    )
}
