//! `Connection`: the actor of one WebSocket connection. Parses frames,
//! enforces the per-connection limits, heartbeats, and writes outgoing
//! frames; what each client frame does is in `client_frames`.

mod changes;
mod client_frames;
mod fragments;
mod joining;
mod reading;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_web::web;
use actix_web_actors::ws;
use chat_shared::frames::{ErrorCode, ErrorFrame, ServerFrame};
use chat_shared::names::ChannelName;
use chat_shared::rate::RateWindow;

use self::fragments::{Broken, Fragments, Whole};
use super::channel::{ChannelActor, Leave};
use super::heartbeat::{self, Beat, Heard};
use super::join_buffer::{Held, JoinBuffer};
use super::outbox::{Outbox, Releaser};
use super::registry::{ConnectionClosed, ConnectionOpened};
use super::{ChannelFrame, ConnId, DirectFrame, EndConnection, FellBehind, Removed};
use crate::metrics::{self, Eviction};
use crate::session::CurrentUser;
use crate::state::AppState;

/// How long a command waits for a bot to confirm it answered.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(8);
/// Frames held for a channel while its join is in flight, at most.
const JOIN_BUFFER: usize = 1024;

type Ctx = ws::WebsocketContext<Connection>;

pub struct Connection {
    id: ConnId,
    /// `<server>/<connection>`: names the connection in logs and headers.
    tag: Arc<str>,
    /// Commands handed to the bot so far (numbers those sent without a `ref`).
    commands: u64,
    user: Arc<str>,
    /// The login session this connection belongs to (closed when it ends).
    session_id: Arc<str>,
    /// When the login session ends by itself (Unix ms): the connection closes then.
    session_expires_at: i64,
    state: web::Data<AppState>,
    joined: HashMap<ChannelName, Addr<ChannelActor>>,
    joining: JoinBuffer,
    /// When the peer was last heard from (the thread's heartbeat watcher reads it).
    heard: Heard,
    rate: RateWindow,
    /// A message arriving in fragments.
    fragments: Fragments,
    /// Bytes channels have handed over and this connection has not yet written.
    outbox: Releaser,
    /// Channels the person was removed from while connected, with the error
    /// their frames for it get, and when (in `removals`).
    removed: HashMap<String, (ErrorCode, u64)>,
    /// Removals so far: a join that began before one of its channel's fails.
    removals: u64,
    /// The close code, once the connection is closing.
    closed_with: Option<u16>,
}

impl Connection {
    pub fn new(state: web::Data<AppState>, user: &CurrentUser) -> Self {
        let id = state.next_conn_id();
        Self {
            id,
            tag: super::conn_tag(&state.server_id, id).into(),
            commands: 0,
            user: user.name.clone(),
            session_id: user.session_id.clone(),
            session_expires_at: user.expires_at,
            rate: RateWindow::new(state.limits.rate_count, state.limits.rate_window()),
            joined: HashMap::new(),
            joining: JoinBuffer::new(JOIN_BUFFER),
            heard: Heard::now(),
            fragments: Fragments::default(),
            outbox: Releaser::new(Outbox::new(state.limits.outbox_bytes, state.load.clone())),
            removed: HashMap::new(),
            removals: 0,
            closed_with: None,
            state,
        }
    }

    /// `<server>/<connection>`, as logs name this connection.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// A span naming this connection, for the work it hands to futures
    /// (their lines then carry `conn` too); its handlers name it in each line.
    fn span(&self) -> tracing::Span {
        tracing::info_span!("connection", conn = %self.tag)
    }

    fn send_frame(&self, ctx: &mut Ctx, frame: &ServerFrame) {
        if let ServerFrame::Error(e) = frame {
            metrics::refused(e.code);
        }
        ctx.text(frame.to_json());
    }

    fn error(&self, ctx: &mut Ctx, error: ErrorFrame) {
        self.send_frame(ctx, &ServerFrame::Error(error));
    }

    fn close(&mut self, ctx: &mut Ctx, code: ws::CloseCode, why: &str) {
        self.closed_with = Some(code.into());
        ctx.close(Some(ws::CloseReason {
            code,
            description: Some(why.to_owned()),
        }));
        ctx.stop();
    }

    fn binary_refused(&self, ctx: &mut Ctx) {
        let e = ErrorFrame::new(
            ErrorCode::InvalidFrame,
            "Only JSON text frames are understood.",
        );
        self.error(ctx, e);
    }

    fn frame_too_large(&self, ctx: &mut Ctx) {
        let max = self.state.limits.max_frame_bytes;
        let e = ErrorFrame::new(
            ErrorCode::FrameTooLarge,
            format!("Messages are at most {max} bytes."),
        );
        self.error(ctx, e);
    }

    /// Tells the registry this connection exists; closes it if the user has
    /// too many already.
    fn register(&self, ctx: &mut Ctx) {
        let opened = ConnectionOpened {
            conn: self.id,
            user: self.user.clone(),
            session_id: self.session_id.clone(),
            frames: ctx.address().recipient(),
            end: ctx.address().recipient(),
            removed: ctx.address().recipient(),
            max_per_user: self.state.limits.max_connections_per_user,
        };
        let registered = self.state.registry.send(opened).into_actor(self);
        ctx.wait(registered.map(|allowed, act, ctx| {
            if !matches!(allowed, Ok(true)) {
                let why = "Too many connections for this account.";
                act.close(ctx, ws::CloseCode::Policy, why);
            }
        }));
    }

    /// Has the thread's heartbeat watcher ping the peer after a heartbeat of
    /// silence (a pong, like any frame, ends a silence) and close the
    /// connection after `--client-timeout-secs` of it.
    fn start_heartbeat(&self, ctx: &mut Ctx) {
        let timeout = self.state.limits.client_timeout();
        let timing = heartbeat::Timing {
            // Pinged in time to answer before the timeout.
            ping_after: self.state.limits.heartbeat().min(timeout * 2 / 3),
            timeout,
        };
        heartbeat::watch(self.heard.clone(), ctx.address().recipient(), timing);
    }
}

impl Actor for Connection {
    type Context = Ctx;

    fn started(&mut self, ctx: &mut Ctx) {
        ctx.set_mailbox_capacity(self.state.limits.mailbox_frames());
        self.register(ctx);
        self.start_heartbeat(ctx);
        let left = self.session_expires_at - chrono::Utc::now().timestamp_millis();
        ctx.run_later(
            Duration::from_millis(u64::try_from(left).unwrap_or(0)),
            |act, ctx| act.close(ctx, ws::CloseCode::Policy, "Session expired."),
        );
        metrics::connection_opened();
        tracing::debug!(user = %self.user, conn = %self.tag, "connection opened");
    }

    fn stopped(&mut self, _: &mut Ctx) {
        for addr in self.joined.values() {
            addr.do_send(Leave { conn: self.id });
        }
        self.state
            .registry
            .do_send(ConnectionClosed { conn: self.id });
        // No close frame either way: the peer vanished.
        metrics::connection_closed(self.closed_with.unwrap_or(1006));
        tracing::debug!(user = %self.user, conn = %self.tag, "connection closed");
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for Connection {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Ctx) {
        self.heard.heard();
        match item {
            Ok(ws::Message::Text(text)) => self.on_frame(&text, ctx),
            Ok(ws::Message::Binary(_)) => self.binary_refused(ctx),
            Ok(ws::Message::Continuation(item)) => {
                match self.fragments.push(item, self.state.limits.max_frame_bytes) {
                    Ok(None) => {}
                    Ok(Some(Whole::Text(text))) => self.on_frame(&text, ctx),
                    Ok(Some(Whole::Binary)) => self.binary_refused(ctx),
                    Err(Broken { code, why }) => {
                        if code == ws::CloseCode::Size {
                            self.frame_too_large(ctx);
                        }
                        self.close(ctx, code, why);
                    }
                }
            }
            Ok(ws::Message::Ping(p)) => ctx.pong(&p),
            Ok(ws::Message::Pong(_)) | Ok(ws::Message::Nop) => {}
            Ok(ws::Message::Close(reason)) => {
                // 1005: a close frame without a code.
                self.closed_with = Some(reason.as_ref().map_or(1005, |r| r.code.into()));
                ctx.close(reason);
                ctx.stop();
            }
            Err(ws::ProtocolError::Overflow) => {
                self.frame_too_large(ctx);
                self.close(ctx, ws::CloseCode::Size, "Frame too large.");
            }
            Err(e) => {
                tracing::debug!(conn = %self.tag, error = %e, "websocket protocol error");
                self.close(ctx, ws::CloseCode::Protocol, "Protocol error.");
            }
        }
    }
}

impl Handler<ChannelFrame> for Connection {
    type Result = ();

    fn handle(&mut self, frame: ChannelFrame, ctx: &mut Ctx) {
        // Out of the mailbox: written to the socket's buffers now, or held
        // briefly (and bounded) while its channel's join completes.
        self.outbox.written(frame.frame.len());
        metrics::delivered();
        if self.state.load.frame_waited_since(frame.sent_ms) && frame.accepted_ms > 0 {
            metrics::delivery_latency(frame.accepted_ms);
        }
        if !self.removed.is_empty() && self.removed.contains_key(&*frame.channel) {
            // Sent before the removal took effect: not for this person now.
            return;
        }
        match self.joining.hold(frame) {
            Held::No(frame) => ctx.text(frame.frame),
            Held::Yes => {}
            Held::Overflow => {
                metrics::evicted(Eviction::JoinBacklog);
                self.close(
                    ctx,
                    ws::CloseCode::Again,
                    "Too far behind; please reconnect.",
                );
            }
        }
    }
}

impl Handler<Beat> for Connection {
    type Result = ();

    fn handle(&mut self, beat: Beat, ctx: &mut Ctx) {
        match beat {
            Beat::Ping => ctx.ping(b""),
            Beat::Silent => {
                tracing::info!(user = %self.user, "dropping a silent connection");
                metrics::evicted(Eviction::Silent);
                self.close(ctx, ws::CloseCode::Away, "No heartbeat.");
            }
        }
    }
}

impl Handler<DirectFrame> for Connection {
    type Result = ();

    fn handle(&mut self, DirectFrame(frame): DirectFrame, ctx: &mut Ctx) {
        ctx.text(frame);
    }
}

impl Handler<Removed> for Connection {
    type Result = ();

    fn handle(&mut self, removed: Removed, ctx: &mut Ctx) {
        if let Some(addr) = self.joined.remove(&removed.channel) {
            addr.do_send(Leave { conn: self.id });
        }
        self.removals += 1;
        let key = removed.channel.to_string();
        self.removed.insert(key, (removed.code, self.removals));
        ctx.text(removed.frame);
    }
}

impl Handler<FellBehind> for Connection {
    type Result = ();

    fn handle(&mut self, _: FellBehind, ctx: &mut Ctx) {
        tracing::info!(user = %self.user, conn = %self.tag, "evicting a connection that fell behind");
        metrics::evicted(Eviction::FellBehind);
        self.close(
            ctx,
            ws::CloseCode::Again,
            "Too far behind; please reconnect.",
        );
    }
}

impl Handler<EndConnection> for Connection {
    type Result = ();

    fn handle(&mut self, why: EndConnection, ctx: &mut Ctx) {
        match why {
            EndConnection::ServerStopping => self.close(
                ctx,
                ws::CloseCode::Away,
                "Server shutting down; please reconnect.",
            ),
            EndConnection::LoggedOut => self.close(ctx, ws::CloseCode::Policy, "Logged out."),
        }
    }
}
