//! `WsSession`: one per WebSocket connection. Parses frames, enforces limits,
//! heartbeats, forwards to channel actors and writes outgoing frames. The only
//! module that knows `actix-web-actors`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use bytes::Bytes;
use chat_shared::frames::{ClientFrame, ErrorCode, ErrorFrame, ServerFrame};
use chat_shared::message::{is_message_id, Message};
use chat_shared::names::{ChannelName, InvalidText, MessageText};
use chat_shared::store::HistoryQuery;
use chat_shared::subjects::{self, HistoryReply, HistoryRequest};

use super::channel::{ChannelActor, Join, Leave, Post, Typing};
use super::registry::{Connect, Disconnect, JoinChannel};
use super::{Deliver, Evict, GoingAway, Push, SessionId};
use crate::limits::Window;
use crate::publisher::Outgoing;
use crate::routes::auth::CurrentUser;
use crate::state::AppState;

/// How long a command waits for a bot to confirm it answered.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(8);
/// Frames buffered for a channel while its join is in flight, at most.
const JOIN_BUFFER: usize = 1024;

pub struct WsSession {
    id: SessionId,
    user: Arc<str>,
    /// The login session this connection belongs to.
    sid: Arc<str>,
    state: web::Data<AppState>,
    joined: HashMap<ChannelName, Addr<ChannelActor>>,
    /// Joins in flight: live frames wait here until the history is sent.
    joining: HashMap<Arc<str>, Vec<Deliver>>,
    last_seen: Instant,
    rate: Window,
}

/// Upgrades an authenticated request to a chat WebSocket.
pub fn start(
    req: &HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, actix_web::Error> {
    let session = WsSession {
        id: state.next_session_id(),
        user: user.name,
        sid: user.sid,
        rate: Window::new(state.limits.rate_count, state.limits.rate_window()),
        joined: HashMap::new(),
        joining: HashMap::new(),
        last_seen: Instant::now(),
        state: state.clone(),
    };
    ws::WsResponseBuilder::new(session, req, payload)
        .frame_size(state.limits.max_frame_bytes)
        .start()
}

impl WsSession {
    fn send_frame(&self, ctx: &mut ws::WebsocketContext<Self>, frame: &ServerFrame) {
        ctx.text(frame.to_json());
    }

    fn error(&self, ctx: &mut ws::WebsocketContext<Self>, error: ErrorFrame) {
        self.send_frame(ctx, &ServerFrame::Error(error));
    }

    fn close(ctx: &mut ws::WebsocketContext<Self>, code: ws::CloseCode, why: &str) {
        ctx.close(Some(ws::CloseReason {
            code,
            description: Some(why.to_owned()),
        }));
        ctx.stop();
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
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

    fn joined_channel(
        &self,
        channel: &str,
    ) -> Result<(&ChannelName, &Addr<ChannelActor>), ErrorFrame> {
        let name = parse_channel(channel)?;
        self.joined
            .get_key_value(&name)
            .ok_or_else(|| ErrorFrame::new(ErrorCode::NotJoined, format!("Join #{name} first.")))
    }

    fn join(
        &mut self,
        channel: &str,
        since: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> Result<(), ErrorFrame> {
        let name = parse_channel(channel)?;
        if since.as_deref().is_some_and(|s| !is_message_id(s)) {
            return Err(ErrorFrame::new(
                ErrorCode::InvalidFrame,
                "since must be a message id.",
            ));
        }
        let key: Arc<str> = Arc::from(name.as_str());
        if self.joining.contains_key(&key) {
            return Ok(());
        }
        if !self.joined.contains_key(&name)
            && self.joined.len() + self.joining.len() >= self.state.limits.max_channels
        {
            return Err(ErrorFrame::new(
                ErrorCode::TooManyChannels,
                format!(
                    "A connection can join at most {} channels.",
                    self.state.limits.max_channels
                ),
            ));
        }
        self.joining.insert(key.clone(), Vec::new());
        let state = self.state.clone();
        let join = Join {
            session: self.id,
            user: self.user.clone(),
            addr: ctx.address().recipient(),
            evict: ctx.address().recipient(),
        };
        let work = async move {
            match state.store.channel(&name).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err((
                        None,
                        ErrorFrame::new(
                            ErrorCode::NoSuchChannel,
                            format!("There is no channel #{name}."),
                        ),
                    ))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "channel lookup failed");
                    return Err((None, unavailable()));
                }
            }
            let (addr, members) = state
                .registry
                .send(JoinChannel {
                    channel: name.clone(),
                    join,
                })
                .await
                .map_err(|_| (None, unavailable()))?
                .map_err(|_| (None, unavailable()))?;
            match fetch_history(&state, &name, since).await {
                Ok(history) => Ok((name, addr, members, history)),
                Err(e) => Err((Some(addr), e)),
            }
        };
        ctx.spawn(work.into_actor(self).map(move |result, act, ctx| {
            let buffered = act.joining.remove(&key).unwrap_or_default();
            match result {
                Ok((name, addr, members, history)) => {
                    let seen: HashSet<&str> = history.iter().map(|m| m.id.as_str()).collect();
                    let fresh: Vec<Deliver> = buffered
                        .into_iter()
                        .filter(|d| d.id.as_deref().is_none_or(|id| !seen.contains(id)))
                        .collect();
                    act.joined.insert(name.clone(), addr);
                    act.send_frame(
                        ctx,
                        &ServerFrame::Joined {
                            channel: name,
                            history,
                            members,
                        },
                    );
                    for d in fresh {
                        ctx.text(d.frame);
                    }
                }
                Err((addr, e)) => {
                    if let Some(addr) = addr {
                        if !act.joined.values().any(|a| *a == addr) {
                            addr.do_send(Leave { session: act.id });
                        }
                    }
                    act.error(ctx, e);
                }
            }
        }));
        Ok(())
    }

    fn leave(&mut self, channel: &str) -> Result<(), ErrorFrame> {
        let name = parse_channel(channel)?;
        match self.joined.remove(&name) {
            Some(addr) => {
                addr.do_send(Leave { session: self.id });
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
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> Result<(), ErrorFrame> {
        let (_, addr) = self.joined_channel(channel)?;
        let addr = addr.clone();
        if !self.rate.allow() {
            return Err(ErrorFrame::new(
                ErrorCode::RateLimited,
                format!(
                    "Slow down: at most {} messages per {} seconds.",
                    self.state.limits.rate_count, self.state.limits.rate_window_secs
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
            session: self.id,
            text,
        });
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            let frame = match result {
                Ok(Ok(posted)) => {
                    act.state
                        .metrics
                        .messages_sent
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
    fn hand_to_bot(
        &mut self,
        command: Outgoing,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
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
        let (_, addr) = self.joined_channel(channel)?;
        addr.do_send(Typing { session: self.id });
        Ok(())
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

/// The history a join starts with: the last 50, or everything after `since`.
async fn fetch_history(
    state: &AppState,
    channel: &ChannelName,
    since: Option<String>,
) -> Result<Vec<Message>, ErrorFrame> {
    let request = HistoryRequest {
        limit: Some(if since.is_some() { 1000 } else { 50 }),
        since,
        before: None,
    };
    let payload = Bytes::from(serde_json::to_vec(&request).expect("requests serialize"));
    let reply = match state
        .bus
        .request(
            &subjects::history(channel),
            payload,
            state.limits.history_timeout(),
        )
        .await
    {
        Ok(reply) => reply,
        Err(e) => {
            // No archiver answering: read the archive directly.
            tracing::warn!(channel = %channel, error = %e, "history request failed; reading the store");
            let query = HistoryQuery {
                before: None,
                since: request.since,
                limit: request.limit.unwrap_or(50),
            };
            return state.store.messages(channel, &query).await.map_err(|e| {
                tracing::warn!(channel = %channel, error = %e, "history unavailable");
                ErrorFrame::new(
                    ErrorCode::Unavailable,
                    "History is unavailable right now; try joining again shortly.",
                )
            });
        }
    };
    match serde_json::from_slice::<HistoryReply>(&reply.payload) {
        Ok(HistoryReply::Messages { messages }) => Ok(messages),
        Ok(HistoryReply::Error { error }) => {
            tracing::warn!(channel = %channel, code = %error.code, "history request refused");
            Err(ErrorFrame::new(ErrorCode::Unavailable, error.message))
        }
        Err(e) => {
            tracing::warn!(channel = %channel, error = %e, "unreadable history reply");
            Err(unavailable())
        }
    }
}

impl Actor for WsSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.state.limits.outbox_frames);
        let connect = Connect {
            session: self.id,
            user: self.user.clone(),
            sid: self.sid.clone(),
            addr: ctx.address().recipient(),
            going_away: ctx.address().recipient(),
            max_per_user: self.state.limits.max_connections_per_user,
        };
        ctx.wait(
            self.state
                .registry
                .send(connect)
                .into_actor(self)
                .map(|allowed, _, ctx| {
                    if !matches!(allowed, Ok(true)) {
                        Self::close(
                            ctx,
                            ws::CloseCode::Policy,
                            "Too many connections for this account.",
                        );
                    }
                }),
        );
        let (every, timeout) = (
            self.state.limits.heartbeat(),
            self.state.limits.client_timeout(),
        );
        // Each session pings at its own phase, so that the sessions that
        // connected together do not all ping in the same instant.
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
        self.state
            .metrics
            .connections_opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(user = %self.user, session = self.id, "connection opened");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        for addr in self.joined.values() {
            addr.do_send(Leave { session: self.id });
        }
        self.state.registry.do_send(Disconnect { session: self.id });
        tracing::debug!(user = %self.user, session = self.id, "connection closed");
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
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
                self.error(
                    ctx,
                    ErrorFrame::new(
                        ErrorCode::FrameTooLarge,
                        format!(
                            "Frames are at most {} bytes.",
                            self.state.limits.max_frame_bytes
                        ),
                    ),
                );
                Self::close(ctx, ws::CloseCode::Size, "Frame too large.");
            }
            Err(e) => {
                tracing::debug!(error = %e, "websocket protocol error");
                Self::close(ctx, ws::CloseCode::Protocol, "Protocol error.");
            }
        }
    }
}

impl Handler<Deliver> for WsSession {
    type Result = ();

    fn handle(&mut self, d: Deliver, ctx: &mut Self::Context) {
        match self.joining.get_mut(&d.channel) {
            Some(buffer) if buffer.len() < JOIN_BUFFER => buffer.push(d),
            Some(_) => Self::close(
                ctx,
                ws::CloseCode::Again,
                "Too far behind; please reconnect.",
            ),
            None => ctx.text(d.frame),
        }
    }
}

impl Handler<Push> for WsSession {
    type Result = ();

    fn handle(&mut self, Push(frame): Push, ctx: &mut Self::Context) {
        ctx.text(frame);
    }
}

impl Handler<Evict> for WsSession {
    type Result = ();

    fn handle(&mut self, _: Evict, ctx: &mut Self::Context) {
        tracing::info!(user = %self.user, session = self.id, "evicting a connection that fell behind");
        Self::close(
            ctx,
            ws::CloseCode::Again,
            "Too far behind; please reconnect.",
        );
    }
}

impl Handler<GoingAway> for WsSession {
    type Result = ();

    fn handle(&mut self, why: GoingAway, ctx: &mut Self::Context) {
        match why {
            GoingAway::Shutdown => Self::close(
                ctx,
                ws::CloseCode::Away,
                "Server shutting down; please reconnect.",
            ),
            GoingAway::LoggedOut => Self::close(ctx, ws::CloseCode::Policy, "Logged out."),
        }
    }
}
