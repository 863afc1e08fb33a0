//! Test harness: the real `chat-server` binary on a free port with a temp data
//! dir, a loopback HTTP server standing in for the quote API, and typed HTTP
//! and WebSocket clients.

mod answer;
pub mod chaos;
pub mod cluster;
pub mod machine;
pub mod metrics;
pub mod pg;
pub mod quotes;
pub mod rooms;
mod typing;
pub mod view;

use std::process::Command;
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use awc::ws;
use chat_shared::testing::{free_port, TestProcess};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

pub use answer::Answer;

pub const PASSWORD: &str = "correct horse battery";
const DEADLINE: Duration = Duration::from_secs(10);
/// A quote API that is never there (the discard port).
const NO_QUOTES: &str = "http://127.0.0.1:9/q?s={code}";
/// Every test signs up and creates channels from 127.0.0.1: the per-hour
/// limits on both are lifted unless a test sets them (its own env comes after).
pub const LIFTED_LIMITS: [(&str, &str); 2] = [
    ("CHAT_SIGNUPS_PER_HOUR", "100000"),
    ("CHAT_CHANNELS_PER_HOUR", "100000"),
];

/// A running server process; killed when dropped.
pub struct TestApp {
    /// Dropped first: the process stops before its data dir goes.
    process: Option<TestProcess>,
    pub addr: String,
    data_dir: tempfile::TempDir,
    stock_api_url: String,
    extra_env: Vec<(String, String)>,
    _turn: machine::Turn,
}

impl TestApp {
    /// Starts a server with a fresh data dir; the quote API points at `stock_api_url`.
    pub async fn spawn_with(stock_api_url: &str, extra_env: &[(&str, &str)]) -> Self {
        let turn = machine::shared();
        let mut app = TestApp {
            process: None,
            addr: format!("127.0.0.1:{}", free_port()),
            data_dir: tempfile::tempdir().unwrap(),
            stock_api_url: stock_api_url.to_owned(),
            extra_env: extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            _turn: turn,
        };
        app.start().await;
        app
    }

    /// Starts a server with extra environment and no quote API.
    pub async fn spawn_with_env(extra_env: &[(&str, &str)]) -> Self {
        Self::spawn_with(NO_QUOTES, extra_env).await
    }

    pub async fn spawn() -> Self {
        Self::spawn_with_env(&[]).await
    }

    async fn start(&mut self) {
        let port = self.addr.rsplit(':').next().unwrap_or_default().to_owned();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-server"));
        for var in [
            "NATS_URL",
            "DATABASE_URL",
            "CHAT_SESSION_KEY",
            "CHAT_ALLOWED_ORIGINS",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("CHAT_BIND", &self.addr)
            .env("CHAT_DATA_DIR", self.data_dir.path())
            .env("STOCK_API_URL", &self.stock_api_url)
            .env("CHAT_BCRYPT_COST", "10")
            .env("RUST_LOG", "info")
            .envs(LIFTED_LIMITS)
            .envs(self.extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let name = format!("server-{port}");
        self.process = Some(TestProcess::spawn(&name, self.data_dir.path(), cmd));
        self.wait_until_healthy().await;
    }

    async fn wait_until_healthy(&self) {
        let client = awc::Client::default();
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(r) = client.get(self.url("/healthz")).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "server did not come up; log:\n{}",
                self.log()
            );
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks the process to stop (SIGTERM) and waits for it to exit.
    pub async fn terminate(&mut self) {
        if let Some(process) = &mut self.process {
            process.terminate_within(Duration::from_secs(15)).await;
        }
    }

    /// Stops the process gracefully and starts a new one on the same data dir and port.
    pub async fn restart(&mut self) {
        self.terminate().await;
        self.start().await;
    }

    /// The embedded database file.
    pub fn database_path(&self) -> std::path::PathBuf {
        self.data_dir.path().join("chat.db")
    }

    /// The server's resident memory now, in bytes (Linux `/proc`).
    pub fn rss_bytes(&self) -> u64 {
        self.rss_bytes_reader()()
    }

    /// A function reading the server's resident memory, for sampling it.
    pub fn rss_bytes_reader(&self) -> impl Fn() -> u64 + 'static {
        let pid = self
            .process
            .as_ref()
            .and_then(|p| p.pid())
            .expect("running");
        move || {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let kib: u64 = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0);
            kib * 1024
        }
    }

    /// The server's log, from every start of this app.
    pub fn log(&self) -> String {
        self.process
            .as_ref()
            .map(TestProcess::log_text)
            .unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client with no session.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.addr)
    }

    /// Registers `username` and returns its logged-in client.
    pub async fn user(&self, username: &str) -> Client {
        let mut c = self.anonymous();
        let (status, body) = c.register(username, PASSWORD).await;
        assert_eq!(status, 201, "register {username}: {body}");
        c
    }
}

/// Whether `frame` is a presence batch that tells `user` arrived (`join`)
/// or left (`leave`).
pub fn tells_presence(frame: &Value, user: &str, event: &str) -> bool {
    let list = match event {
        "join" => "joins",
        _ => "leaves",
    };
    frame["type"] == "presence"
        && frame[list]
            .as_array()
            .is_some_and(|names| names.iter().any(|n| n == user))
}

/// The string `key` of each object in the JSON list `list`: the ids of a
/// join's history, the texts of a page of messages, the names of channels.
pub fn pluck(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|item| {
            item[key]
                .as_str()
                .unwrap_or_else(|| panic!("a string {key}: {item}"))
                .to_owned()
        })
        .collect()
}

pub fn http() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish()
}

/// An HTTP client carrying one session cookie.
#[derive(Clone)]
pub struct Client {
    base: String,
    ws_base: String,
    pub cookie: Option<String>,
    /// Sent as `X-Forwarded-For` with every HTTP request, when set.
    forwarded_for: Option<String>,
    http: awc::Client,
}

impl Client {
    /// A client with no session for the server at `addr` (host:port).
    pub fn new(addr: &str) -> Self {
        Client {
            base: format!("http://{addr}"),
            ws_base: format!("ws://{addr}"),
            cookie: None,
            forwarded_for: None,
            http: http(),
        }
    }

    /// The same client, its requests saying `X-Forwarded-For: <chain>` (as
    /// a proxy in front of the server would).
    pub fn forwarded_for(&self, chain: &str) -> Self {
        Client {
            forwarded_for: Some(chain.to_owned()),
            ..self.clone()
        }
    }

    /// The same session, talking to another server.
    pub fn on(&self, addr: &str) -> Self {
        Client {
            cookie: self.cookie.clone(),
            ..Client::new(addr)
        }
    }

    fn remember_cookie(&mut self, response: &awc::ClientResponse<impl futures::Stream + Unpin>) {
        for header in response.headers().get_all("set-cookie") {
            let Ok(text) = header.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            if let Some(value) = pair.strip_prefix("chat_session=") {
                self.cookie = (!value.is_empty()).then(|| pair.to_owned());
            }
        }
    }

    /// Sends a request and returns status and JSON body (Null when empty).
    pub async fn request(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.request_with(method, path, body, &[]).await
    }

    /// `request` with extra headers.
    pub async fn request_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let answer = self.exchange_with(method, path, body, headers).await;
        (answer.status, answer.body)
    }

    /// Sends a request and returns the whole answer.
    pub async fn exchange(&mut self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.exchange_with(method, path, body, &[]).await
    }

    /// `exchange` with extra headers.
    pub async fn exchange_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        if let Some(c) = &self.cookie {
            req = req.insert_header(("Cookie", c.clone()));
        }
        if let Some(chain) = &self.forwarded_for {
            req = req.insert_header(("X-Forwarded-For", chain.clone()));
        }
        let mut response = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .expect("request completes");
        self.remember_cookie(&response);
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let bytes = response.body().limit(1 << 22).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Answer {
            status: response.status().as_u16(),
            retry_after,
            body,
            headers: response.headers().clone(),
        }
    }

    pub async fn get(&mut self, path: &str) -> (u16, Value) {
        self.request("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.request("POST", path, Some(body)).await
    }

    pub async fn register(&mut self, username: &str, password: &str) -> (u16, Value) {
        self.post(
            "/api/register",
            json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> (u16, Value) {
        self.post(
            "/api/login",
            json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn create_channel(&mut self, name: &str) -> (u16, Value) {
        self.post("/api/channels", json!({ "name": name })).await
    }

    /// Opens a WebSocket; panics if the upgrade is refused.
    pub async fn ws(&self) -> Ws {
        self.try_ws(None).await.expect("websocket opens")
    }

    /// Opens a WebSocket with an optional Origin; the refusal status otherwise.
    pub async fn try_ws(&self, origin: Option<&str>) -> Result<Ws, u16> {
        let mut req = self
            .http
            .ws(format!("{}/ws", self.ws_base))
            .max_frame_size(1 << 22);
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c.clone());
        }
        if let Some(o) = origin {
            req = req.origin(o);
        }
        match req.connect().await {
            Ok((_, framed)) => Ok(Ws {
                framed,
                backlog: Default::default(),
            }),
            Err(awc::error::WsClientError::InvalidResponseStatus(s)) => Err(s.as_u16()),
            Err(e) => panic!("websocket failed: {e}"),
        }
    }
}

/// A WebSocket speaking the chat protocol.
pub struct Ws {
    framed: actix_codec::Framed<awc::BoxedSocket, ws::Codec>,
    /// Frames read while waiting for another one, in arrival order.
    backlog: std::collections::VecDeque<Value>,
}

impl Ws {
    pub async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.framed
            .send(ws::Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    pub async fn send_binary(&mut self, data: &[u8]) {
        self.framed
            .send(ws::Message::Binary(data.to_vec().into()))
            .await
            .unwrap();
    }

    /// Sends any WebSocket message as it is (fragments, pings).
    pub async fn send_raw(&mut self, message: ws::Message) {
        self.framed.send(message).await.unwrap();
    }

    /// The next frame of any kind (pongs too), or None at the deadline.
    pub async fn next_raw(&mut self, wait: Duration) -> Option<ws::Frame> {
        match actix_rt::time::timeout(wait, self.framed.next()).await {
            Ok(Some(Ok(frame))) => Some(frame),
            _ => None,
        }
    }

    /// The next text frame as it came, or None at the deadline or on close.
    pub async fn next_text(&mut self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match actix_rt::time::timeout(left, self.framed.next()).await {
                Ok(Some(Ok(ws::Frame::Text(t)))) => {
                    return Some(String::from_utf8_lossy(&t).into_owned())
                }
                Ok(Some(Ok(ws::Frame::Ping(p)))) => {
                    let _ = self.framed.send(ws::Message::Pong(p)).await;
                }
                Ok(Some(Ok(ws::Frame::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => {
                    return None
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// The next JSON frame, or None at the deadline or on close.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Value> {
        let text = self.next_text(wait).await?;
        Some(serde_json::from_str(&text).expect("server frames are JSON"))
    }

    /// Waits for the server to close the connection; returns the close code
    /// (None when the connection ended without a close frame). Panics if it
    /// stays open past the deadline.
    pub async fn expect_close(&mut self) -> Option<u16> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match actix_rt::time::timeout(left, self.framed.next()).await {
                Ok(Some(Ok(ws::Frame::Close(reason)))) => return reason.map(|r| u16::from(r.code)),
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(ws::Frame::Text(t)))) => self
                    .backlog
                    .push_back(serde_json::from_slice(&t).expect("server frames are JSON")),
                Ok(Some(Ok(_))) => {}
                Err(_) => panic!("the connection stayed open; frames: {:#?}", self.backlog),
            }
        }
    }

    /// Waits for the first frame matching `pred` (looking at frames skipped
    /// earlier first); other frames are kept for later. Panics at the deadline.
    pub async fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.expect_within(DEADLINE, what, pred).await
    }

    /// `expect` with its own deadline.
    pub async fn expect_within(
        &mut self,
        wait: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i).expect("index is in range");
        }
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match self
                .next_frame(deadline.saturating_duration_since(Instant::now()))
                .await
            {
                Some(f) if pred(&f) => return f,
                Some(f) => self.backlog.push_back(f),
                None => break,
            }
        }
        panic!("expected {what}; got {:#?}", self.backlog);
    }

    /// Frames not yet consumed plus those arriving within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out: Vec<Value> = self.backlog.drain(..).collect();
        let deadline = Instant::now() + wait;
        while let Some(f) = self
            .next_frame(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            out.push(f);
        }
        out
    }

    /// Asserts that no message frame is waiting or arrives within `wait`.
    pub async fn expect_no_message(&mut self, wait: Duration, why: &str) {
        let frames = self.drain(wait).await;
        assert!(
            frames.iter().all(|f| f["type"] != "message"),
            "{why}: {frames:?}"
        );
    }

    pub async fn join(&mut self, channel: &str) -> Value {
        self.send(json!({"type": "join", "channel": channel})).await;
        self.expect(&format!("joined {channel}"), |f| {
            f["type"] == "joined" && f["channel"] == channel
        })
        .await
    }

    /// Sends `frame` and returns the answer to it (by its `ref`): its ack or error.
    pub async fn answer(&mut self, frame: Value) -> Value {
        let reference = frame["ref"].clone();
        self.send(frame).await;
        self.expect(&format!("the answer to {reference}"), |f| {
            (f["type"] == "ack" || f["type"] == "error") && f["ref"] == reference
        })
        .await
    }

    /// Sends a message and returns its id from the ack. Refused because the
    /// server was overloaded, it is sent again in a moment, as clients do.
    pub async fn say(&mut self, channel: &str, text: &str) -> String {
        let reference = format!("r-{}", chat_shared::message::next_id());
        for _ in 0..100 {
            self.send(json!({"type": "send", "channel": channel, "text": text, "ref": reference}))
                .await;
            let ack = self
                .expect(&format!("ack {reference}"), |f| {
                    (f["type"] == "ack" || f["type"] == "error") && f["ref"] == reference.as_str()
                })
                .await;
            if ack["code"] == "overloaded" {
                actix_rt::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            assert_eq!(ack["type"], "ack", "send refused: {ack}");
            return ack["id"].as_str().unwrap().to_owned();
        }
        panic!("the server stayed overloaded for 20 s");
    }

    /// Waits for a message with `text` in `channel`.
    pub async fn expect_message(&mut self, channel: &str, text: &str) -> Value {
        let f = self
            .expect(&format!("message {text:?}"), |f| {
                f["type"] == "message"
                    && f["message"]["channel"] == channel
                    && f["message"]["text"] == text
            })
            .await;
        f["message"].clone()
    }

    /// Waits for an error frame and returns it.
    pub async fn expect_error(&mut self, code: &str) -> Value {
        self.expect(&format!("error {code}"), |f| {
            f["type"] == "error" && f["code"] == code
        })
        .await
    }
}
