//! Joining and leaving a channel on a connection: the channel must exist
//! and be readable, its actor takes the member, the history (and, for a
//! catch-up, the changes since) is read, and the live frames that came
//! meanwhile are held and sent after it.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_web::web;
use chat_shared::change::Change;
use chat_shared::frames::{ErrorCode, ErrorFrame, ServerFrame};
use chat_shared::message::{is_message_id, Message};
use chat_shared::names::ChannelName;
use chat_shared::store::Kind;
use tracing::Instrument;

use super::client_frames::{no_such_channel, parse_channel, unavailable};
use super::{Connection, Ctx};
use crate::actors::channel::{ChannelActor, Join, Leave, Roster};
use crate::actors::registry::{InChannel, JoinChannel};
use crate::state::AppState;

/// A join that got through: the channel's actor has the member, and the
/// history is read.
struct Entered {
    name: ChannelName,
    addr: Addr<ChannelActor>,
    roster: Roster,
    closed: bool,
    history: Vec<Message>,
    /// For a catch-up: what changed meanwhile in the messages it had.
    changes: Vec<Change>,
}

/// A join that failed, and the channel actor to leave if it got that far.
type JoinFailed = (Option<Addr<ChannelActor>>, ErrorFrame);

impl Connection {
    pub(super) fn join(
        &mut self,
        channel: &str,
        since: Option<String>,
        ctx: &mut Ctx,
    ) -> Result<(), ErrorFrame> {
        let name = parse_channel(channel)?;
        if since.as_deref().is_some_and(|s| !is_message_id(s)) {
            return Err(ErrorFrame::new(
                ErrorCode::InvalidFrame,
                "since must be a message id.",
            ));
        }
        if self.joining.is_joining(name.as_str()) {
            return Ok(());
        }
        self.check_channel_limit(&name)?;
        let channel_key: Arc<str> = Arc::from(name.as_str());
        self.joining.start(channel_key.clone());
        let join = Join {
            conn: self.id,
            user: self.user.clone(),
            frames: ctx.address().recipient(),
            fell_behind: ctx.address().recipient(),
            outbox: self.outbox.outbox().clone(),
        };
        let work = enter(self.state.clone(), name, since, join).instrument(self.span());
        let began = self.removals;
        let asked = Instant::now();
        ctx.spawn(work.into_actor(self).map(move |result, act, ctx| {
            let result = act.not_removed_since(began, result);
            act.finish_join(&channel_key, result, ctx);
            crate::metrics::join_took(asked.elapsed());
        }));
        Ok(())
    }

    /// A join that got through, unless its person was removed from the
    /// channel while it was on its way (its access was checked before).
    fn not_removed_since(
        &mut self,
        began: u64,
        result: Result<Entered, JoinFailed>,
    ) -> Result<Entered, JoinFailed> {
        let entered = result?;
        match self.removed.get(entered.name.as_str()) {
            Some(&(code, at)) if at > began => {
                let e = match code {
                    ErrorCode::Forbidden => {
                        ErrorFrame::new(code, format!("You are banned from #{}.", entered.name))
                    }
                    _ => no_such_channel(&entered.name),
                };
                Err((Some(entered.addr), e))
            }
            Some(_) => {
                // Let back in since.
                self.removed.remove(entered.name.as_str());
                Ok(entered)
            }
            None => Ok(entered),
        }
    }

    fn check_channel_limit(&self, name: &ChannelName) -> Result<(), ErrorFrame> {
        let max = self.state.limits.max_channels;
        if !self.joined.contains_key(name) && self.joined.len() + self.joining.len() >= max {
            return Err(ErrorFrame::new(
                ErrorCode::TooManyChannels,
                format!("A connection can join at most {max} channels."),
            ));
        }
        Ok(())
    }

    /// Answers a join: the history first, then the live frames held meanwhile.
    fn finish_join(
        &mut self,
        channel_key: &str,
        result: Result<Entered, JoinFailed>,
        ctx: &mut Ctx,
    ) {
        match result {
            Ok(Entered {
                name,
                addr,
                roster,
                closed,
                history,
                changes,
            }) => {
                let held = self.joining.finish(channel_key, &history);
                self.joined.insert(name.clone(), addr);
                let joined = ServerFrame::Joined {
                    channel: name,
                    history,
                    members: roster.members,
                    member_count: roster.count,
                    closed,
                };
                self.send_frame(ctx, &joined);
                for change in changes {
                    ctx.text(change.to_json());
                }
                for frame in held {
                    ctx.text(frame.frame);
                }
            }
            Err((addr, e)) => {
                let held = self.joining.finish(channel_key, &[]);
                if self.joined.keys().any(|n| n.as_str() == channel_key) {
                    // An earlier join still stands: its live frames go on.
                    for frame in held {
                        ctx.text(frame.frame);
                    }
                }
                // Leave only if no earlier join of this channel still stands.
                if let Some(addr) = addr.filter(|a| !self.joined.values().any(|j| j == a)) {
                    addr.do_send(Leave { conn: self.id });
                }
                self.error(ctx, e.for_channel(channel_key));
            }
        }
    }

    pub(super) fn leave(&mut self, channel: &str) -> Result<(), ErrorFrame> {
        let name = parse_channel(channel)?;
        match self.joined.remove(&name) {
            Some(addr) => {
                addr.do_send(Leave { conn: self.id });
                Ok(())
            }
            None => Err(ErrorFrame::new(
                ErrorCode::NotJoined,
                format!("You are not in #{name}."),
            )),
        }
    }
}

/// The steps of a join before the client can be answered: the channel
/// exists, its actor takes the member, and the history is read.
async fn enter(
    state: web::Data<AppState>,
    name: ChannelName,
    since: Option<String>,
    join: Join,
) -> Result<Entered, JoinFailed> {
    let closed = match state.store.access(&name, &join.user).await {
        Ok(Some(access)) if access.may_read() => access.channel.closed,
        // Banned from a public channel: its members know it exists.
        Ok(Some(access)) if access.channel.kind == Kind::Public => {
            let e = ErrorFrame::new(
                ErrorCode::Forbidden,
                format!("You are banned from #{name}."),
            );
            return Err((None, e));
        }
        // Missing, or private to others: the same answer.
        Ok(_) => return Err((None, no_such_channel(&name))),
        Err(e) => {
            tracing::warn!(error = %e, "channel lookup failed");
            return Err((None, unavailable()));
        }
    };
    let channel = name.clone();
    let InChannel {
        addr,
        roster,
        closed,
    } = state
        .registry
        .send(JoinChannel {
            channel,
            join,
            closed,
        })
        .await
        .map_err(|_| (None, unavailable()))?
        .map_err(|_| (None, unavailable()))?;
    let (bus, store, key) = (state.bus.as_ref(), state.store.as_ref(), &state.bus_key);
    let timeout = state.limits.history_timeout();
    let asked = Instant::now();
    let history = crate::history::for_join(bus, store, key, &name, since.clone(), timeout).await;
    crate::metrics::history_took(asked.elapsed());
    let history = history.map_err(|e| (Some(addr.clone()), e))?;
    let changes = match since {
        Some(since) => chat_shared::history::changes_since(bus, store, key, &name, &since)
            .await
            .map_err(|e| {
                tracing::warn!(channel = %name, error = %e, "changes for a catch-up unavailable");
                (Some(addr.clone()), unavailable())
            })?,
        None => Vec::new(),
    };
    Ok(Entered {
        name,
        addr,
        roster,
        closed,
        history,
        changes,
    })
}
