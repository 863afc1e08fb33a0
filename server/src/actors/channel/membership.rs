//! Who is in the channel: members joining and leaving on this server,
//! what other servers say of theirs (presence notes on
//! `chat.presence.<channel>`), the batches that tell the members, and the
//! actor's stop once the last member has gone.

use std::time::{Duration, Instant};

use actix::prelude::*;
use chat_shared::bus::{json_payload, Envelope};
use chat_shared::frames::{PresenceBatch, ServerFrame};
use chat_shared::log_text::shown;
use chat_shared::payloads::{NoteEvent, PresenceNote};
use chat_shared::subjects;

use super::{
    ChannelActor, ChannelIdle, Join, Leave, LocalUsers, Member, PeerSeen, Present, Roster,
    ServerGone, StopIfEmpty,
};
use crate::actors::ConnId;
use crate::publisher::Outgoing;

impl ChannelActor {
    /// Someone came or went: the members are told in the next batch, due
    /// `presence_interval` after the first change not told yet.
    pub(super) fn presence_changed(&mut self) {
        if self.batch_due || !self.presence.has_diff() {
            return;
        }
        let Some(me) = self.me.clone() else {
            return;
        };
        self.batch_due = true;
        let wait = self.settings.presence_interval;
        actix::spawn(async move {
            actix::clock::sleep(wait).await;
            if let Some(me) = me.upgrade() {
                me.do_send(TellPresence);
            }
        });
    }

    /// The roster a joining connection is given.
    pub(super) fn roster(&self) -> Roster {
        Roster {
            members: self.presence.page(None, self.settings.joined_members),
            count: self.presence.count(),
        }
    }

    pub(super) fn announce(&self, user: &str, event: NoteEvent) {
        let note = PresenceNote {
            user: user.to_owned(),
            event,
            server: self.link.server_id.to_string(),
        };
        self.link.publisher.send_lossy(Outgoing {
            subject: subjects::presence(&self.name),
            headers: self.link.origin(),
            payload: json_payload(&note),
        });
    }

    pub(super) fn remove(&mut self, conn: ConnId) {
        let Some(member) = self.members.remove(&conn) else {
            return;
        };
        let change = self.presence.leave_local(&member.user);
        if change.local_edge {
            self.announce(&member.user, NoteEvent::Leave);
        }
        if change.channel_edge {
            self.presence_changed();
        }
    }

    pub(super) fn note_remote(&mut self, envelope: &Envelope) {
        let Ok(note) = serde_json::from_slice::<PresenceNote>(&envelope.payload) else {
            tracing::warn!(subject = %shown(&envelope.subject), "dropping malformed presence note");
            return;
        };
        if !self.presence.learn_server(&note.server) {
            // A server we have not heard from: tell it who is here, and have
            // the registry watch that it stays alive.
            self.peer_seen.do_send(PeerSeen(note.server.clone()));
            for user in self.presence.local_users() {
                self.announce(&user, NoteEvent::Join);
            }
        }
        match note.event {
            NoteEvent::Join => {
                if self.presence.join_remote(&note.server, &note.user) {
                    self.presence_changed();
                }
            }
            NoteEvent::Leave => {
                if self.presence.leave_remote(&note.server, &note.user) {
                    self.presence_changed();
                }
            }
            NoteEvent::Typing => {
                if !self.typing.admit(&note.user, Instant::now()) {
                    return;
                }
                let frame = ServerFrame::Typing {
                    channel: self.name.clone(),
                    user: note.user,
                };
                self.fan_out(frame.to_json().into(), None, None);
            }
        }
    }
}

/// The presence batch is due: the members are told who came and went.
#[derive(Message)]
#[rtype(result = "()")]
struct TellPresence;

impl Handler<TellPresence> for ChannelActor {
    type Result = ();

    fn handle(&mut self, _: TellPresence, _: &mut Self::Context) {
        self.batch_due = false;
        let diff = self.presence.take_diff();
        if diff.is_empty() {
            return;
        }
        let batch = PresenceBatch::new(
            self.name.clone(),
            diff.joins,
            diff.leaves,
            self.presence.count(),
            self.settings.joined_members,
        );
        let frame = ServerFrame::Presence(Box::new(batch));
        self.fan_out(frame.to_json().into(), None, None);
        // Members cut loose by that fan-out left: their leaving is due next.
        self.presence_changed();
    }
}

impl Handler<Present> for ChannelActor {
    type Result = MessageResult<Present>;

    fn handle(&mut self, ask: Present, _: &mut Self::Context) -> Self::Result {
        MessageResult(Roster {
            members: self.presence.page(ask.after.as_deref(), ask.limit),
            count: self.presence.count(),
        })
    }
}

impl Handler<Join> for ChannelActor {
    type Result = MessageResult<Join>;

    fn handle(&mut self, join: Join, _: &mut Self::Context) -> Self::Result {
        let member = Member {
            user: join.user.clone(),
            frames: join.frames,
            fell_behind: join.fell_behind,
            outbox: join.outbox,
        };
        if self.members.insert(join.conn, member).is_some() {
            // The same connection joining again: it is counted once already.
            return MessageResult(self.roster());
        }
        let change = self.presence.join_local(&join.user);
        if change.local_edge {
            self.announce(&join.user, NoteEvent::Join);
        }
        if change.channel_edge {
            self.presence_changed();
        }
        MessageResult(self.roster())
    }
}

impl Handler<Leave> for ChannelActor {
    type Result = ();

    fn handle(&mut self, leave: Leave, ctx: &mut Self::Context) {
        self.remove(leave.conn);
        if self.members.is_empty() {
            ctx.notify_later(CheckIdle, Duration::from_secs(5));
        }
    }
}

/// Re-checks emptiness a little after the last member left, so a quick
/// rejoin (a page reload) keeps the actor and its subscription.
#[derive(Message)]
#[rtype(result = "()")]
struct CheckIdle;

impl Handler<CheckIdle> for ChannelActor {
    type Result = ();

    fn handle(&mut self, _: CheckIdle, _: &mut Self::Context) {
        if self.members.is_empty() {
            self.idle.do_send(ChannelIdle(self.name.clone()));
        }
    }
}

impl Handler<LocalUsers> for ChannelActor {
    type Result = MessageResult<LocalUsers>;

    fn handle(&mut self, _: LocalUsers, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.presence
                .local_users()
                .iter()
                .map(|u| u.to_string())
                .collect(),
        )
    }
}

impl Handler<ServerGone> for ChannelActor {
    type Result = ();

    fn handle(&mut self, ServerGone(server): ServerGone, _: &mut Self::Context) {
        if !self.presence.drop_server(&server).is_empty() {
            self.presence_changed();
        }
    }
}

impl Handler<StopIfEmpty> for ChannelActor {
    type Result = bool;

    fn handle(&mut self, _: StopIfEmpty, ctx: &mut Self::Context) -> bool {
        if self.members.is_empty() {
            ctx.stop();
            true
        } else {
            false
        }
    }
}
