//! A chat client that behaves like the UI (static/js): one WebSocket to one
//! server, moved to another server when it drops (as a load balancer would),
//! reconnecting with backoff, rejoining `general` with `since` (the newest id
//! the server sent it, its own acks aside), and sending again every unacknowledged send with its first
//! `ref`. Its view is the channel's messages by id, as the UI keeps them.
//! It sends one message at a time (the next once the last is acknowledged),
//! so its messages are stored in the order it sent them.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_codec::Framed;
use awc::ws;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

use super::control::{command, Control, Phase, Sent, Stats, Viewed};
use super::Rng;

type Socket = Framed<awc::BoxedSocket, ws::Codec>;

/// The most messages a `since` join returns: a full page may have more after it.
const SINCE_PAGE: usize = 1000;
/// The UI's reconnection backoff starts at 500 ms; capped lower here, as
/// processes come back within seconds.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(4);
/// A send refused (`unavailable`) is tried again, with the same ref, after this.
const RETRY_AFTER: Duration = Duration::from_millis(300);
/// A send unanswered this long means a dead connection: reconnect.
const UNANSWERED: Duration = Duration::from_secs(15);
/// How long a join may take before the connection is given up.
const JOIN_WITHIN: Duration = Duration::from_secs(15);
/// Every how many messages a client asks the bot for a quote.
const COMMAND_EVERY: usize = 50;

/// How a connection ended.
enum Ended {
    Dropped { joined: bool },
    Final,
}

pub struct ChaosClient {
    pub name: String,
    cookie: String,
    servers: Rc<[String]>,
    at: usize,
    rng: Rng,
    /// Time between two of its messages.
    every: Duration,
    offset: Duration,
    pub sends: Vec<Sent>,
    /// The first send not yet acknowledged.
    unacked: usize,
    retry_at: Option<Instant>,
    has_joined: bool,
    has_drained: bool,
    pub view: BTreeMap<String, Viewed>,
    /// The newest id the server sent (not an ack's): where a rejoin resumes.
    cursor: Option<String>,
    /// The newest id the server sent, whether or not the cursor is there yet.
    received: Option<String>,
    began: Instant,
    pub stats: Stats,
}

impl ChaosClient {
    /// A client of user `name` (session `cookie`) starting on server `at`,
    /// sending one message every `every`.
    pub fn new(name: &str, cookie: &str, servers: Rc<[String]>, at: usize, mut rng: Rng) -> Self {
        let every = Duration::from_millis(100);
        let offset = rng.between(Duration::ZERO, every);
        ChaosClient {
            name: name.to_owned(),
            cookie: cookie.to_owned(),
            servers,
            at,
            rng,
            every,
            offset,
            sends: Vec::new(),
            unacked: 0,
            retry_at: None,
            has_joined: false,
            has_drained: false,
            view: BTreeMap::new(),
            cursor: None,
            received: None,
            began: Instant::now(),
            stats: Stats::default(),
        }
    }

    /// Sends one message every `every` (from the start of sending).
    pub fn sending_every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    /// Runs until the final rejoin; returns the client with its sends and view.
    pub async fn run(mut self, ctl: Rc<Control>) -> Self {
        let mut attempt = 0u32;
        loop {
            match self.connection(&ctl).await {
                Ended::Final => break,
                Ended::Dropped { joined } => {
                    self.stats.drops += 1;
                    self.note(format!("dropped (joined: {joined})"));
                    self.mark_drained(&ctl);
                    if ctl.phase() == Phase::Final {
                        break;
                    }
                    if joined {
                        attempt = 0;
                    }
                    self.move_on(attempt).await;
                    attempt += 1;
                }
            }
        }
        self.final_rejoin().await;
        self
    }

    /// Moves the cursor to `id` if it is newer.
    fn advance(&mut self, id: Option<&str>) {
        if let Some(id) = id.filter(|id| self.cursor.as_deref().is_none_or(|c| *id > c)) {
            self.cursor = Some(id.to_owned());
        }
    }

    /// Adds to the trail, with the time since the client began.
    fn note(&mut self, what: String) {
        // A refusal repeated at every retry is told once.
        if self.stats.trail.last().is_some_and(|t| t.ends_with(&what)) {
            return;
        }
        let at = self.began.elapsed().as_secs_f64();
        self.stats.trail.push(format!("{at:7.2}s {what}"));
    }

    /// To another server, after a backoff with jitter, as the UI waits.
    async fn move_on(&mut self, attempt: u32) {
        let n = self.servers.len() as u64;
        self.at = (self.at + 1 + self.rng.below(n - 1) as usize) % self.servers.len();
        let ceiling = BACKOFF_BASE
            .saturating_mul(1 << attempt.min(8))
            .min(BACKOFF_MAX);
        let wait = self.rng.between(ceiling / 2, ceiling);
        actix_rt::time::sleep(wait).await;
    }

    /// Once every send is answered, or the drain deadline has passed.
    fn mark_drained(&mut self, ctl: &Control) {
        let done = self.unacked == self.sends.len() || ctl.drain_over();
        if ctl.phase() == Phase::Draining && done && !self.has_drained {
            self.has_drained = true;
            ctl.drained.set(ctl.drained.get() + 1);
        }
    }

    /// The last connection: rejoin with `since`, as the UI does after a drop.
    async fn final_rejoin(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut attempt = 0;
        while Instant::now() < deadline {
            if let Some(mut socket) = self.open().await {
                if self.join(&mut socket).await {
                    self.stats.final_join = true;
                    let _ = socket.send(ws::Message::Close(None)).await;
                    return;
                }
            }
            self.move_on(attempt).await;
            attempt += 1;
        }
    }

    async fn open(&mut self) -> Option<Socket> {
        let http = awc::Client::builder()
            .timeout(Duration::from_secs(5))
            .finish();
        let request = http
            .ws(format!("ws://{}/ws", self.servers[self.at]))
            .max_frame_size(1 << 22)
            .header("Cookie", self.cookie.clone());
        match request.connect().await {
            Ok((_, socket)) => {
                self.stats.connections += 1;
                self.note(format!("connected to server {}", self.at));
                Some(socket)
            }
            Err(awc::error::WsClientError::InvalidResponseStatus(s)) => {
                *self.stats.refused.entry(s.as_u16()).or_default() += 1;
                None
            }
            Err(_) => None,
        }
    }

    /// One connection's life: join, then send and receive until it drops or
    /// the test moves to the final phase.
    async fn connection(&mut self, ctl: &Control) -> Ended {
        let Some(mut socket) = self.open().await else {
            return Ended::Dropped { joined: false };
        };
        if !self.join(&mut socket).await {
            return Ended::Dropped { joined: false };
        }
        if !self.has_joined {
            self.has_joined = true;
            ctl.joined.set(ctl.joined.get() + 1);
        }
        let mut in_flight: Option<(usize, Instant)> = None;
        loop {
            if ctl.phase() == Phase::Final {
                let _ = socket.send(ws::Message::Close(None)).await;
                return Ended::Final;
            }
            self.mark_drained(ctl);
            if !self.send_next(ctl, &mut socket, &mut in_flight).await {
                return Ended::Dropped { joined: true };
            }
            match actix_rt::time::timeout(Duration::from_millis(20), socket.next()).await {
                Err(_) => {}
                Ok(Some(Ok(ws::Frame::Text(text)))) => {
                    let frame: Value = serde_json::from_slice(&text).expect("frames are JSON");
                    self.on_frame(&frame, &mut in_flight);
                }
                Ok(Some(Ok(ws::Frame::Ping(p)))) => {
                    if socket.send(ws::Message::Pong(p)).await.is_err() {
                        return Ended::Dropped { joined: true };
                    }
                }
                Ok(Some(Ok(ws::Frame::Close(_)) | Err(_)) | None) => {
                    return Ended::Dropped { joined: true }
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Makes the messages that are due, and sends the first unacknowledged
    /// one if nothing is in flight; false when the connection is dead.
    async fn send_next(
        &mut self,
        ctl: &Control,
        socket: &mut Socket,
        in_flight: &mut Option<(usize, Instant)>,
    ) -> bool {
        if let Some((_, at)) = in_flight {
            return at.elapsed() < UNANSWERED;
        }
        if ctl.phase() == Phase::Sending {
            self.make_due(ctl);
        }
        let draining_over = ctl.phase() != Phase::Sending && ctl.drain_over();
        let waiting = self.retry_at.is_some_and(|t| Instant::now() < t);
        if self.unacked == self.sends.len() || waiting || draining_over {
            return true;
        }
        let sent = &self.sends[self.unacked];
        let frame =
            json!({"type": "send", "channel": "general", "text": sent.text, "ref": sent.reference});
        *in_flight = Some((self.unacked, Instant::now()));
        socket
            .send(ws::Message::Text(frame.to_string().into()))
            .await
            .is_ok()
    }

    /// Adds the messages due by now to the sends, in order (a client that
    /// could not send meanwhile has them all waiting, as a user's typing).
    fn make_due(&mut self, ctl: &Control) {
        let Some(started) = ctl.started.get() else {
            return;
        };
        loop {
            let due = started + self.offset + self.every * self.sends.len() as u32;
            if Instant::now() < due {
                return;
            }
            self.make_one();
        }
    }

    fn make_one(&mut self) {
        let n = self.sends.len();
        let text = if n % COMMAND_EVERY == COMMAND_EVERY - 1 {
            command(n / COMMAND_EVERY)
        } else {
            format!("chaos {} {n}", self.name)
        };
        let reference = format!(
            "c-{:016x}{:08x}",
            self.rng.next_u64(),
            self.rng.next_u64() as u32
        );
        self.sends.push(Sent {
            text,
            reference,
            id: None,
        });
    }

    fn on_frame(&mut self, frame: &Value, in_flight: &mut Option<(usize, Instant)>) {
        match frame["type"].as_str() {
            Some("message") => {
                self.see(&frame["message"]);
                self.advance(self.received.clone().as_deref());
            }
            Some("joined") => {
                self.see_history(frame, None);
                self.note("joined again without since".to_owned());
            }
            Some("ack") => {
                let Some((i, _)) = *in_flight else { return };
                if frame["ref"] != self.sends[i].reference.as_str() {
                    return;
                }
                let id = frame["id"].as_str().expect("an ack names an id").to_owned();
                // As the UI does, the acked send joins the view under its id.
                let own = Viewed {
                    user: self.name.clone(),
                    text: self.sends[i].text.clone(),
                };
                self.view.entry(id.clone()).or_insert(own);
                self.sends[i].id = Some(id);
                self.unacked = i + 1;
                self.retry_at = None;
                *in_flight = None;
            }
            Some("error") => self.on_error(frame, in_flight),
            _ => {}
        }
    }

    fn on_error(&mut self, frame: &Value, in_flight: &mut Option<(usize, Instant)>) {
        let code = frame["code"].as_str().unwrap_or("?").to_owned();
        *self.stats.errors.entry(code).or_default() += 1;
        if let Some((i, _)) = *in_flight {
            if frame["ref"] == self.sends[i].reference.as_str() {
                // Not stored: the same send again, with the same ref.
                self.stats.resends += 1;
                self.retry_at = Some(Instant::now() + RETRY_AFTER);
                *in_flight = None;
            }
        }
    }

    fn see(&mut self, message: &Value) {
        let field = |k: &str| message[k].as_str().unwrap_or_default().to_owned();
        if message["channel"] != "general" {
            return;
        }
        let id = field("id");
        if self.received.as_ref().is_none_or(|r| id > *r) {
            self.received = Some(id.clone());
        }
        self.view.entry(id).or_insert(Viewed {
            user: field("user"),
            text: field("text"),
        });
    }

    /// Adds a join's history; returns how many of its messages came after
    /// `since` (a full page of those may have more after it; those stored
    /// late with an earlier id do not count), and the newest id among them.
    fn see_history(&mut self, joined: &Value, since: Option<&str>) -> (usize, Option<String>) {
        let history = joined["history"].as_array().cloned().unwrap_or_default();
        for message in &history {
            self.see(message);
        }
        let newer: Vec<&str> = history
            .iter()
            .filter_map(|m| m["id"].as_str())
            .filter(|id| since.is_none_or(|since| *id > since))
            .collect();
        let newest = newer.iter().max().map(|id| (*id).to_owned());
        (newer.len(), newest)
    }

    /// Joins `general` with `since` = the cursor (none at first), reading
    /// on from a full page's newest while a page comes back full: the
    /// cursor moves to each full page's newest (it holds everything up to
    /// there), and past the live messages received meanwhile only once a
    /// page comes back short (those are newer than what is unread). False
    /// when the connection dropped or a page did not come in time. Resends
    /// then follow, as the UI resends its held sends once joined.
    async fn join(&mut self, socket: &mut Socket) -> bool {
        let mut deadline = Instant::now() + JOIN_WITHIN;
        // From the cursor when the join began: live messages that come in
        // while a join fails must not move it past what it missed.
        let mut since = self.cursor.clone();
        while Instant::now() < deadline {
            let frame = match &since {
                Some(id) => json!({"type": "join", "channel": "general", "since": id}),
                None => json!({"type": "join", "channel": "general"}),
            };
            self.stats.rejoins.extend(since.clone());
            let sent = socket.send(ws::Message::Text(frame.to_string().into()));
            if sent.await.is_err() {
                return false;
            }
            match self.joined(socket, since.as_deref(), deadline).await {
                Some((newer, last)) if since.is_some() && newer >= SINCE_PAGE => {
                    self.advance(last.as_deref());
                    since = last;
                    deadline = Instant::now() + JOIN_WITHIN;
                }
                Some(_) => {
                    self.advance(self.received.clone().as_deref());
                    if self.unacked < self.sends.len() {
                        self.stats.resends += 1;
                    }
                    return true;
                }
                None => actix_rt::time::sleep(RETRY_AFTER).await,
            }
        }
        false
    }

    /// Waits for the answer to a join: the size of its history and its
    /// newest id, or `None` on an error frame, a drop or the deadline.
    async fn joined(
        &mut self,
        socket: &mut Socket,
        since: Option<&str>,
        deadline: Instant,
    ) -> Option<(usize, Option<String>)> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = match actix_rt::time::timeout(left, socket.next()).await {
                Ok(Some(Ok(ws::Frame::Text(text)))) => text,
                Ok(Some(Ok(ws::Frame::Ping(p)))) => {
                    socket.send(ws::Message::Pong(p)).await.ok()?;
                    continue;
                }
                Ok(Some(Ok(ws::Frame::Close(_)) | Err(_)) | None) => {
                    self.note("dropped while joining".to_owned());
                    return None;
                }
                Err(_) => {
                    self.note("no answer to a join in time".to_owned());
                    return None;
                }
                Ok(Some(Ok(_))) => continue,
            };
            let frame: Value = serde_json::from_slice(&frame).expect("frames are JSON");
            match frame["type"].as_str() {
                Some("joined") => {
                    let (newer, last) = self.see_history(&frame, since);
                    let n = frame["history"].as_array().map_or(0, Vec::len);
                    self.note(format!(
                        "joined since {since:?}: {n} messages, {newer} newer, newest {last:?}"
                    ));
                    return Some((newer, last));
                }
                Some("message") => self.see(&frame["message"]),
                Some("error") => {
                    let code = frame["code"].as_str().unwrap_or("?").to_owned();
                    self.note(format!("join refused: {code}: {}", frame["message"]));
                    *self.stats.errors.entry(code).or_default() += 1;
                    return None;
                }
                _ => {}
            }
        }
    }
}
