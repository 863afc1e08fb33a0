//! `Connection`: the actor of one WebSocket connection. Parses frames,
//! enforces the per-connection limits, heartbeats, forwards to channel actors
//! and writes outgoing frames.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::web;
use actix_web_actors::ws;
use chat_shared::frames::{ClientFrame, ErrorCode, ErrorFrame, ServerFrame};
use chat_shared::message::{is_message_id, Message};
use chat_shared::names::{ChannelName, InvalidText, MessageText};
use chat_shared::rate::RateWindow;

use super::channel::{ChannelActor, Join, Leave, Post, Typing};
use super::join_buffer::{Held, JoinBuffer};
use super::registry::{ConnectionClosed, ConnectionOpened, JoinChannel};
use super::{ChannelFrame, ConnId, DirectFrame, EndConnection, FellBehind};
use crate::publisher::Outgoing;
use crate::state::AppState;

/// How long a command waits for a bot to confirm it answered.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(8);
/// Frames held for a channel while its join is in flight, at most.
const JOIN_BUFFER: usize = 1024;

type Ctx = ws::WebsocketContext<Connection>;

pub struct Connection {
    id: ConnId,
    user: Arc<str>,
    /// The login session this connection belongs to (closed when it ends).
    session_id: Arc<str>,
    state: web::Data<AppState>,
    joined: HashMap<ChannelName, Addr<ChannelActor>>,
    joining: JoinBuffer,
    last_seen: Instant,
    rate: RateWindow,
}

/// A join that got through: the channel's actor has the member, and the
/// history is read.
struct Entered {
    name: ChannelName,
    addr: Addr<ChannelActor>,
    members: Vec<String>,
    history: Vec<Message>,
}

/// A join that failed, and the channel actor to leave if it got that far.
type JoinFailed = (Option<Addr<ChannelActor>>, ErrorFrame);

impl Connection {
    pub fn new(state: web::Data<AppState>, user: Arc<str>, session_id: Arc<str>) -> Self {
        Self {
            id: state.next_conn_id(),
            user,
            session_id,
            rate: RateWindow::new(state.limits.rate_count, state.limits.rate_window()),
            joined: HashMap::new(),
            joining: JoinBuffer::new(JOIN_BUFFER),
            last_seen: Instant::now(),
            state,
        }
    }

    fn send_frame(&self, ctx: &mut Ctx, frame: &ServerFrame) {
        ctx.text(frame.to_json());
    }

    fn error(&self, ctx: &mut Ctx, error: ErrorFrame) {
        self.send_frame(ctx, &ServerFrame::Error(error));
    }

    fn close(ctx: &mut Ctx, code: ws::CloseCode, why: &str) {
        ctx.close(Some(ws::CloseReason {
            code,
            description: Some(why.to_owned()),
        }));
        ctx.stop();
    }

    fn on_text(&mut self, text: &str, ctx: &mut Ctx) {
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
            } => self.post(&channel, &text, reference, ctx),
            ClientFrame::Typing { channel } => self.typing(&channel),
        };
        if let Err(e) = result {
            self.error(ctx, e.with_ref(reference.as_deref()));
        }
    }

    fn joined_channel(&self, channel: &str) -> Result<&Addr<ChannelActor>, ErrorFrame> {
        let name = parse_channel(channel)?;
        self.joined
            .get(&name)
            .ok_or_else(|| ErrorFrame::new(ErrorCode::NotJoined, format!("Join #{name} first.")))
    }

    fn join(
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
        };
        let work = enter(self.state.clone(), name, since, join);
        ctx.spawn(
            work.into_actor(self)
                .map(move |result, act, ctx| act.finish_join(&channel_key, result, ctx)),
        );
        Ok(())
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
                members,
                history,
            }) => {
                let held = self.joining.finish(channel_key, &history);
                self.joined.insert(name.clone(), addr);
                let joined = ServerFrame::Joined {
                    channel: name,
                    history,
                    members,
                };
                self.send_frame(ctx, &joined);
                for frame in held {
                    ctx.text(frame.frame);
                }
            }
            Err((addr, e)) => {
                self.joining.finish(channel_key, &[]);
                // Leave only if no earlier join of this channel still stands.
                if let Some(addr) = addr.filter(|a| !self.joined.values().any(|j| j == a)) {
                    addr.do_send(Leave { conn: self.id });
                }
                self.error(ctx, e);
            }
        }
    }

    fn leave(&mut self, channel: &str) -> Result<(), ErrorFrame> {
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

    fn post(
        &mut self,
        channel: &str,
        text: &str,
        reference: Option<String>,
        ctx: &mut Ctx,
    ) -> Result<(), ErrorFrame> {
        let addr = self.joined_channel(channel)?.clone();
        if !self.rate.allow() {
            let limits = &self.state.limits;
            return Err(ErrorFrame::new(
                ErrorCode::RateLimited,
                format!(
                    "Slow down: at most {} messages per {} seconds.",
                    limits.rate_count, limits.rate_window_secs
                ),
            ));
        }
        let text = MessageText::parse(text).map_err(|e| {
            let code = match e {
                InvalidText::Empty => ErrorCode::Empty,
                InvalidText::TooLong => ErrorCode::TooLong,
            };
            ErrorFrame::new(code, e.to_string())
        })?;
        let request = addr.send(Post {
            conn: self.id,
            text,
        });
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            let frame = match result {
                Ok(Ok(posted)) => {
                    act.state
                        .metrics
                        .messages_sent
                        .fetch_add(1, Ordering::Relaxed);
                    if let Some(command) = posted.command {
                        act.hand_to_bot(command, reference.clone(), ctx);
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
        Ok(())
    }

    /// Sends a command to the bots and tells the sender if none answers in time.
    fn hand_to_bot(&mut self, command: Outgoing, reference: Option<String>, ctx: &mut Ctx) {
        let bus = self.state.bus.clone();
        let request = async move {
            bus.request(&command.subject, command.payload, COMMAND_TIMEOUT)
                .await
        };
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            if let Err(e) = result {
                tracing::warn!(user = %act.user, error = %e, "no bot answered a command");
                let error = ErrorFrame::new(
                    ErrorCode::BotUnavailable,
                    "The bot isn't answering right now; please try again in a moment.",
                );
                act.error(ctx, error.with_ref(reference.as_deref()));
            }
        }));
    }

    fn typing(&mut self, channel: &str) -> Result<(), ErrorFrame> {
        self.joined_channel(channel)?
            .do_send(Typing { conn: self.id });
        Ok(())
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
            max_per_user: self.state.limits.max_connections_per_user,
        };
        let registered = self.state.registry.send(opened).into_actor(self);
        ctx.wait(registered.map(|allowed, _, ctx| {
            if !matches!(allowed, Ok(true)) {
                let why = "Too many connections for this account.";
                Self::close(ctx, ws::CloseCode::Policy, why);
            }
        }));
    }

    /// Pings the peer every heartbeat and drops it after a silence.
    fn start_heartbeat(&self, ctx: &mut Ctx) {
        let (every, timeout) = (
            self.state.limits.heartbeat(),
            self.state.limits.client_timeout(),
        );
        // Each connection pings at its own phase, so that the connections
        // opened together do not all ping in the same instant.
        let phase = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), self.id)
            % every.as_millis().max(1) as u64;
        ctx.run_later(Duration::from_millis(phase), move |_, ctx| {
            ctx.run_interval(every, move |act, ctx| {
                if act.last_seen.elapsed() > timeout {
                    tracing::info!(user = %act.user, "dropping a silent connection");
                    Self::close(ctx, ws::CloseCode::Away, "No heartbeat.");
                } else {
                    ctx.ping(b"");
                }
            });
        });
    }
}

fn parse_channel(channel: &str) -> Result<ChannelName, ErrorFrame> {
    ChannelName::parse(channel)
        .map_err(|e| ErrorFrame::new(ErrorCode::InvalidChannel, e.to_string()))
}

fn unavailable() -> ErrorFrame {
    ErrorFrame::new(
        ErrorCode::Unavailable,
        "That is unavailable right now; try again shortly.",
    )
}

/// The steps of a join before the client can be answered: the channel
/// exists, its actor takes the member, and the history is read.
async fn enter(
    state: web::Data<AppState>,
    name: ChannelName,
    since: Option<String>,
    join: Join,
) -> Result<Entered, JoinFailed> {
    match state.store.channel(&name).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let e = ErrorFrame::new(
                ErrorCode::NoSuchChannel,
                format!("There is no channel #{name}."),
            );
            return Err((None, e));
        }
        Err(e) => {
            tracing::warn!(error = %e, "channel lookup failed");
            return Err((None, unavailable()));
        }
    }
    let channel = name.clone();
    let (addr, members) = state
        .registry
        .send(JoinChannel { channel, join })
        .await
        .map_err(|_| (None, unavailable()))?
        .map_err(|_| (None, unavailable()))?;
    let (bus, store) = (state.bus.as_ref(), state.store.as_ref());
    let timeout = state.limits.history_timeout();
    match crate::history::for_join(bus, store, &name, since, timeout).await {
        Ok(history) => Ok(Entered {
            name,
            addr,
            members,
            history,
        }),
        Err(e) => Err((Some(addr), e)),
    }
}

impl Actor for Connection {
    type Context = Ctx;

    fn started(&mut self, ctx: &mut Ctx) {
        ctx.set_mailbox_capacity(self.state.limits.outbox_frames);
        self.register(ctx);
        self.start_heartbeat(ctx);
        self.state
            .metrics
            .connections_opened
            .fetch_add(1, Ordering::Relaxed);
        tracing::debug!(user = %self.user, conn = self.id, "connection opened");
    }

    fn stopped(&mut self, _: &mut Ctx) {
        for addr in self.joined.values() {
            addr.do_send(Leave { conn: self.id });
        }
        self.state
            .registry
            .do_send(ConnectionClosed { conn: self.id });
        tracing::debug!(user = %self.user, conn = self.id, "connection closed");
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for Connection {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Ctx) {
        self.last_seen = Instant::now();
        match item {
            Ok(ws::Message::Text(text)) => self.on_text(&text, ctx),
            Ok(ws::Message::Binary(_)) | Ok(ws::Message::Continuation(_)) => self.error(
                ctx,
                ErrorFrame::new(
                    ErrorCode::InvalidFrame,
                    "Only JSON text frames are understood.",
                ),
            ),
            Ok(ws::Message::Ping(p)) => ctx.pong(&p),
            Ok(ws::Message::Pong(_)) | Ok(ws::Message::Nop) => {}
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Err(ws::ProtocolError::Overflow) => {
                let max = self.state.limits.max_frame_bytes;
                let e = ErrorFrame::new(
                    ErrorCode::FrameTooLarge,
                    format!("Frames are at most {max} bytes."),
                );
                self.error(ctx, e);
                Self::close(ctx, ws::CloseCode::Size, "Frame too large.");
            }
            Err(e) => {
                tracing::debug!(error = %e, "websocket protocol error");
                Self::close(ctx, ws::CloseCode::Protocol, "Protocol error.");
            }
        }
    }
}

impl Handler<ChannelFrame> for Connection {
    type Result = ();

    fn handle(&mut self, frame: ChannelFrame, ctx: &mut Ctx) {
        match self.joining.hold(frame) {
            Held::No(frame) => ctx.text(frame.frame),
            Held::Yes => {}
            Held::Overflow => Self::close(
                ctx,
                ws::CloseCode::Again,
                "Too far behind; please reconnect.",
            ),
        }
    }
}

impl Handler<DirectFrame> for Connection {
    type Result = ();

    fn handle(&mut self, DirectFrame(frame): DirectFrame, ctx: &mut Ctx) {
        ctx.text(frame);
    }
}

impl Handler<FellBehind> for Connection {
    type Result = ();

    fn handle(&mut self, _: FellBehind, ctx: &mut Ctx) {
        tracing::info!(user = %self.user, conn = self.id, "evicting a connection that fell behind");
        Self::close(
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
            EndConnection::ServerStopping => Self::close(
                ctx,
                ws::CloseCode::Away,
                "Server shutting down; please reconnect.",
            ),
            EndConnection::LoggedOut => Self::close(ctx, ws::CloseCode::Policy, "Logged out."),
        }
    }
}
