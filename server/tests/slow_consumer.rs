//! One client that stops reading among 100: it is disconnected once its
//! outbox passes the bound, and the others' latency does not suffer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::{machine, Client, TestApp, Ws};

const RECEIVERS: usize = 99;
const RATE_PER_SEC: u64 = 20;
/// The stated bound: a stalled client may add at most this to the others' p99.
const P99_ALLOWANCE: Duration = Duration::from_millis(100);

/// A WebSocket client that joins #general and #flood and then never reads again.
async fn stalled_client(addr: &str, cookie: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr.parse().unwrap()).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    for join in [
        &br#"{"type":"join","channel":"general"}"#[..],
        br#"{"type":"join","channel":"flood"}"#,
    ] {
        let mask = [1u8, 2, 3, 4];
        let mut frame = vec![0x81, 0x80 | join.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(join.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        stream.write_all(&frame).await.unwrap();
    }
    stream
}

/// Reads server frames until a close frame; returns its code.
async fn read_until_close(stream: &mut TcpStream) -> Option<u16> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut head = [0u8; 2];
        let read = tokio::time::timeout_at(deadline.into(), stream.read_exact(&mut head)).await;
        if !matches!(read, Ok(Ok(_))) {
            return None;
        }
        let len = match head[1] & 0x7f {
            126 => stream.read_u16().await.ok()? as usize,
            127 => stream.read_u64().await.ok()? as usize,
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).await.ok()?;
        if head[0] & 0x0f == 0x8 {
            return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
        }
    }
}

/// When each message was sent, by the key its text starts with.
type SentAt = Rc<RefCell<HashMap<String, Instant>>>;
type Seen = Rc<RefCell<Vec<Duration>>>;
/// The latencies readers saw, by phase.
type Latencies = HashMap<&'static str, Seen>;

/// Sends `count` messages at a steady rate; returns when all were acked.
async fn send_steadily(sender: &mut Ws, sent_at: &SentAt, tag: &str, count: usize) {
    let filler = "x".repeat(100);
    let mut next = Instant::now();
    for i in 0..count {
        let key = format!("{tag}-{i}");
        sent_at.borrow_mut().insert(key.clone(), Instant::now());
        sender
            .send(json!({"type": "send", "channel": "general", "text": format!("{key} {filler}")}))
            .await;
        next += Duration::from_millis(1000 / RATE_PER_SEC);
        actix_rt::time::sleep_until(next.into()).await;
    }
}

/// Starts sending 600 messages of 2,000 characters into #flood.
async fn flood(flooder: &Client) {
    let mut ws = flooder.ws().await;
    ws.join("flood").await;
    actix_rt::spawn(async move {
        let big = "y".repeat(2000);
        for _ in 0..600 {
            ws.send(json!({"type": "send", "channel": "flood", "text": big}))
                .await;
        }
        while ws.next_text(Duration::from_secs(5)).await.is_some() {}
    });
}

fn p99(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[(s.len() * 99 / 100).min(s.len() - 1)]
}

/// Starts the 99 readers of #general, on 10 accounts, each noting how long
/// every message took to reach it.
async fn start_readers(app: &TestApp, sent_at: &SentAt, latencies: &Latencies) {
    let mut users = Vec::new();
    for u in 0..10 {
        users.push(app.user(&format!("reader{u}")).await);
    }
    for r in 0..RECEIVERS {
        let mut ws = users[r % users.len()].ws().await;
        ws.join("general").await;
        actix_rt::spawn(read_and_time(ws, sent_at.clone(), latencies.clone()));
    }
}

/// Reads until the connection goes quiet, noting each message's latency
/// under its phase (its key up to the dash: `calm-7` is in `calm`).
async fn read_and_time(mut ws: Ws, sent_at: SentAt, latencies: Latencies) {
    // Raw text, not parsed JSON: the readers must stay fast readers.
    while let Some(frame) = ws.next_text(Duration::from_secs(60)).await {
        let Some(start) = frame.find("\"text\":\"") else {
            continue;
        };
        let text = &frame[start + 8..];
        let key = text.split(' ').next().unwrap_or_default();
        if let (Some(at), Some(phase)) = (sent_at.borrow().get(key), key.split('-').next()) {
            if let Some(seen) = latencies.get(phase) {
                seen.borrow_mut().push(at.elapsed());
            }
        }
    }
}

/// A reader of #flood that keeps up.
async fn start_healthy_flood_reader(app: &TestApp) {
    let mut healthy = app.user("healthy").await.ws().await;
    healthy.join("flood").await;
    actix_rt::spawn(
        async move { while healthy.next_text(Duration::from_secs(20)).await.is_some() {} },
    );
}

/// Waits until every reader has seen the `sent` messages of both phases,
/// checks that they all did, and returns the p99 latency of each.
async fn p99_of(latencies: &Latencies, [a, b]: [&str; 2], sent: usize) -> (Duration, Duration) {
    let expected = sent * RECEIVERS;
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies[b].borrow().len() < expected && Instant::now() < deadline {
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    let (first, second) = (latencies[a].borrow().clone(), latencies[b].borrow().clone());
    assert_eq!(
        first.len(),
        expected,
        "every reader got every message of {a}"
    );
    assert_eq!(second.len(), expected, "and of {b}: the room lost nothing");
    (p99(&first), p99(&second))
}

#[actix_rt::test]
async fn a_client_that_stops_reading_is_cut_loose_without_slowing_the_room() {
    // Latency is measured: no other test may load the machine meanwhile.
    let _alone = machine::alone();
    // The phases are compared by latency of the same sends: none may be
    // refused for load in one and not the other (a debug build under this
    // flood lags), so the overload thresholds are out of reach here; a stalled
    // reader is cut off whether the server is overloaded or not (its outbox
    // gets no overdraft: `actors::outbox`).
    let env = [
        ("CHAT_RATE_COUNT", "100000"),
        ("CHAT_OUTBOX_BYTES", "524288"),
        ("CHAT_SOCKET_SEND_BUFFER", "65536"),
        ("CHAT_OVERLOAD_LAG_MS", "60000"),
        ("CHAT_OVERLOAD_WAIT_MS", "60000"),
    ];
    let app = TestApp::spawn_with_env(&env).await;
    let sent_at = SentAt::default();
    let latencies: Latencies = ["calm", "stalled", "again"]
        .map(|phase| (phase, Seen::default()))
        .into();
    start_readers(&app, &sent_at, &latencies).await;
    let mut sender = app.user("sender").await.ws().await;
    sender.join("general").await;

    let mut flooder = app.user("flooder").await;
    assert_eq!(flooder.create_channel("flood").await.0, 201);

    // Both phases carry the same flood of big messages in #flood. In the calm
    // phase a healthy client reads it; in the other, the stalled client's
    // buffers fill with it.
    start_healthy_flood_reader(&app).await;
    flood(&flooder).await;
    send_steadily(&mut sender, &sent_at, "calm", 200).await;
    let cookie = app.user("stuck").await.cookie.unwrap();
    let mut stuck = stalled_client(&app.addr, &cookie).await;
    flood(&flooder).await;
    send_steadily(&mut sender, &sent_at, "stalled", 200).await;

    let (calm, stalled) = p99_of(&latencies, ["calm", "stalled"], 200).await;
    assert_eq!(
        read_until_close(&mut stuck).await,
        Some(1013),
        "the stalled client is told why it was cut off"
    );
    // Calm again, the same flood: how much a calm room's p99 varies by itself.
    flood(&flooder).await;
    send_steadily(&mut sender, &sent_at, "again", 200).await;
    let (again, _) = p99_of(&latencies, ["again", "again"], 200).await;
    let before = calm.max(again);
    eprintln!("p99 without a stalled client: {calm:?}, then {again:?}; with one: {stalled:?}");
    assert!(
        stalled <= before + P99_ALLOWANCE,
        "p99 rose from {before:?} to {stalled:?}"
    );
    let log = app.log();
    assert!(
        log.contains("evicting a connection that fell behind"),
        "the server says so"
    );
}

/// Sends `count` messages of 2,000 characters into #flood as fast as acks come.
async fn flood_now(flooder: &Client, count: usize) {
    let mut ws = flooder.ws().await;
    ws.join("flood").await;
    let big = "z".repeat(1990);
    for i in 0..count {
        ws.send(json!({"type": "send", "channel": "flood", "text": format!("{i} {big}"), "ref": i.to_string()}))
            .await;
        if i % 50 == 49 {
            let last = i.to_string();
            ws.expect("a batch acked", |f| f["type"] == "ack" && f["ref"] == last)
                .await;
        }
    }
}

#[actix_rt::test]
async fn a_hundred_stalled_readers_are_cut_off_at_their_byte_bound_and_memory_stays_bounded() {
    let _alone = machine::alone();
    const BOUND: u64 = 256 * 1024;
    const STALLED: usize = 100;
    const MESSAGES: usize = 400;
    let env = [
        ("CHAT_RATE_COUNT", "100000"),
        ("CHAT_OUTBOX_BYTES", "262144"),
        ("CHAT_SOCKET_SEND_BUFFER", "65536"),
    ];
    let app = TestApp::spawn_with_env(&env).await;
    let mut flooder = app.user("flooder").await;
    assert_eq!(flooder.create_channel("flood").await.0, 201);
    let mut reader = app.user("reader").await.ws().await;
    reader.join("flood").await;

    let mut stalled = Vec::new();
    for u in 0..STALLED / 20 {
        let cookie = app.user(&format!("stuck{u}")).await.cookie.unwrap();
        for _ in 0..20 {
            stalled.push(stalled_client(&app.addr, &cookie).await);
        }
    }
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    let before = app.rss_bytes();

    let rss_peak = Rc::new(RefCell::new(before));
    let sampling = {
        let (peak, pid_app_rss) = (rss_peak.clone(), app.rss_bytes_reader());
        actix_rt::spawn(async move {
            loop {
                let now = pid_app_rss();
                peak.replace_with(|p| (*p).max(now));
                actix_rt::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let reading = actix_rt::spawn(async move {
        let mut got = 0;
        while got < MESSAGES {
            let frame = reader
                .expect("a flood message", |f| f["type"] == "message")
                .await;
            assert_eq!(frame["message"]["channel"], "flood");
            got += 1;
        }
        got
    });
    flood_now(&flooder, MESSAGES).await;
    assert_eq!(
        reading.await.unwrap(),
        MESSAGES,
        "the reader got everything"
    );
    for (i, stream) in stalled.iter_mut().enumerate() {
        assert_eq!(
            read_until_close(stream).await,
            Some(1013),
            "stalled client {i}"
        );
    }
    sampling.abort();
    let grew = rss_peak.borrow().saturating_sub(before);
    eprintln!("RSS before {before} B, peak growth {grew} B");
    // Each stalled client may hold its bound; the rest (the flood's own
    // frames and buffers) is the server's normal working size.
    let normal = 48 * 1024 * 1024;
    assert!(
        grew <= STALLED as u64 * BOUND + normal,
        "RSS grew by {grew} B, over {STALLED} × {BOUND} B + {normal} B"
    );
}
