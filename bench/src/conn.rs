//! One benchmark connection: a WebSocket that joins its rooms, counts and
//! times every bench message it receives, and (for senders) sends at the rate
//! the coordinator sets.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::hist::Histogram;
use crate::wire::{self, Frame, Probe};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket with a session cookie; small buffers so that ten
/// thousand idle connections stay cheap on the client side too.
pub async fn connect(ws_url: &str, cookie: &str) -> anyhow::Result<Ws> {
    let mut request = ws_url.into_client_request()?;
    request
        .headers_mut()
        .insert("Cookie", cookie.parse().context("cookie header")?);
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    Ok(ws)
}

/// Counters every connection adds to.
#[derive(Default)]
pub struct Stats {
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    /// Acks per room, for the expected number of deliveries.
    pub acked_in: Vec<AtomicU64>,
    pub rate_limited: AtomicU64,
    pub unavailable: AtomicU64,
    pub other_errors: AtomicU64,
    /// Bench messages of this run received (duplicates included).
    pub delivered: AtomicU64,
    /// Connections whose joins have all been answered.
    pub joined: AtomicUsize,
    /// Connections the server closed (or that failed) before the end.
    pub dropped: AtomicUsize,
    /// Latency of deliveries on the sender's server.
    pub local: Histogram,
    /// Latency of deliveries that crossed to another server.
    pub cross: Histogram,
}

impl Stats {
    pub fn new(rooms: usize) -> Self {
        Self {
            acked_in: (0..rooms).map(|_| AtomicU64::new(0)).collect(),
            ..Self::default()
        }
    }

    pub fn errors(&self) -> u64 {
        self.rate_limited.load(Relaxed)
            + self.unavailable.load(Relaxed)
            + self.other_errors.load(Relaxed)
    }
}

/// What the coordinator shares with every connection.
pub struct Shared {
    pub run: u32,
    pub rooms: Vec<String>,
    pub size: usize,
    pub stats: Stats,
}

/// What one connection does.
#[derive(Debug, Clone)]
pub struct Role {
    /// Index of the server it talks to (carried in its messages).
    pub server: u16,
    pub rooms: Vec<usize>,
    /// `Some((sender id, room))` for a sender.
    pub sends: Option<(u32, usize)>,
}

/// Controls from the coordinator: each sender's rate (messages/s) and the end.
#[derive(Clone)]
pub struct Control {
    pub rate: watch::Receiver<f64>,
    pub stop: watch::Receiver<bool>,
}

/// What a connection received, by sender: unique messages and duplicates.
#[derive(Debug, Default)]
pub struct Tally {
    seen: Vec<Vec<u64>>,
    pub unique: u64,
    pub duplicates: u64,
}

impl Tally {
    fn note(&mut self, sender: u32, seq: u64) {
        let sender = sender as usize;
        if self.seen.len() <= sender {
            self.seen.resize_with(sender + 1, Vec::new);
        }
        let bits = &mut self.seen[sender];
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        if bits[word] & bit != 0 {
            self.duplicates += 1;
        } else {
            bits[word] |= bit;
            self.unique += 1;
        }
    }
}

struct Sender {
    id: u32,
    room: usize,
    seq: u64,
    rate: f64,
    since: Instant,
    sent_since: u64,
    /// Where in its interval this sender sends (0..1), so that senders at the
    /// same rate do not all send in the same instant.
    phase: f64,
}

impl Sender {
    fn new(id: u32, room: usize) -> Self {
        // Spread evenly whatever the number of senders (golden-ratio steps).
        let phase = (f64::from(id) * 0.618_033_988_75).fract();
        Sender {
            id,
            room,
            seq: 0,
            rate: 0.0,
            since: Instant::now(),
            sent_since: 0,
            phase,
        }
    }

    /// A new rate is kept from now on, whatever was sent before.
    fn set_rate(&mut self, rate: f64) {
        self.rate = rate;
        self.since = Instant::now();
        self.sent_since = 0;
    }

    /// Messages due now to keep the rate since it was last set.
    fn due(&self) -> u64 {
        let should = (self.since.elapsed().as_secs_f64() * self.rate + self.phase) as u64;
        should.saturating_sub(self.sent_since).min(10_000)
    }

    /// Sends the messages due, in one flush; an error means the connection is gone.
    async fn send_due(&mut self, ws: &mut Ws, shared: &Shared, server: u16) -> Result<(), WsError> {
        let due = self.due();
        for _ in 0..due {
            let probe = Probe {
                run: shared.run,
                server,
                sender: self.id,
                seq: self.seq,
                sent_us: wire::now_micros(),
            };
            self.seq += 1;
            let frame = wire::send(&shared.rooms[self.room], &probe.text(shared.size));
            if ws.feed(WsMessage::text(frame)).await.is_err() {
                break;
            }
        }
        self.sent_since += due;
        shared.stats.sent.fetch_add(due, Relaxed);
        if due > 0 {
            ws.flush().await?;
        }
        Ok(())
    }
}

/// Asks to join each of the connection's rooms.
async fn send_joins(ws: &mut Ws, role: &Role, shared: &Shared) -> Result<(), WsError> {
    for r in &role.rooms {
        ws.send(WsMessage::text(wire::join(&shared.rooms[*r])))
            .await?;
    }
    Ok(())
}

/// Runs the connection until told to stop or dropped by the server.
pub async fn run(mut ws: Ws, role: Role, shared: Arc<Shared>, mut control: Control) -> Tally {
    let stats = &shared.stats;
    let mut tally = Tally::default();
    if send_joins(&mut ws, &role, &shared).await.is_err() {
        stats.dropped.fetch_add(1, Relaxed);
        return tally;
    }
    let mut joins_left = role.rooms.len();
    if joins_left == 0 {
        stats.joined.fetch_add(1, Relaxed);
    }
    let mut sender = role.sends.map(|(id, room)| Sender::new(id, room));
    let mut ticker = tokio::time::interval(Duration::from_millis(2));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let sending = sender.as_ref().is_some_and(|s| s.rate > 0.0);
        tokio::select! {
            changed = control.stop.changed() => {
                if changed.is_err() || *control.stop.borrow() {
                    break;
                }
            }
            changed = control.rate.changed(), if sender.is_some() => {
                if changed.is_err() {
                    break;
                }
                let s = sender.as_mut().expect("guarded by the branch condition");
                s.set_rate(*control.rate.borrow_and_update());
            }
            _ = ticker.tick(), if sending => {
                let s = sender.as_mut().expect("guarded by the branch condition");
                if s.send_due(&mut ws, &shared, role.server).await.is_err() {
                    stats.dropped.fetch_add(1, Relaxed);
                    return tally;
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    on_frame(text.as_str(), &role, &shared, sender.as_ref().map(|s| s.room), &mut tally, &mut joins_left);
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => {
                    stats.dropped.fetch_add(1, Relaxed);
                    return tally;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = ws.close(None).await;
    tally
}

fn on_frame(
    text: &str,
    role: &Role,
    shared: &Shared,
    send_room: Option<usize>,
    tally: &mut Tally,
    joins_left: &mut usize,
) {
    let stats = &shared.stats;
    match wire::classify(text) {
        Frame::Message(body) => {
            let Some(probe) = Probe::parse(body).filter(|p| p.run == shared.run) else {
                return;
            };
            let latency = wire::now_micros().saturating_sub(probe.sent_us);
            if probe.server == role.server {
                &stats.local
            } else {
                &stats.cross
            }
            .record(latency);
            stats.delivered.fetch_add(1, Relaxed);
            tally.note(probe.sender, probe.seq);
        }
        Frame::Ack => {
            stats.acked.fetch_add(1, Relaxed);
            if let Some(room) = send_room {
                stats.acked_in[room].fetch_add(1, Relaxed);
            }
        }
        Frame::Joined => {
            *joins_left = joins_left.saturating_sub(1);
            if *joins_left == 0 {
                stats.joined.fetch_add(1, Relaxed);
            }
        }
        Frame::Error(e) => {
            match wire::error_code(e) {
                "rate_limited" => &stats.rate_limited,
                "unavailable" => &stats.unavailable,
                _ => &stats.other_errors,
            }
            .fetch_add(1, Relaxed);
            if stats.errors() <= 3 {
                eprintln!("server error frame: {e}");
            }
        }
        Frame::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_each_message_once_and_the_rest_as_duplicates() {
        let mut t = Tally::default();
        for (sender, seq) in [(0, 0), (0, 1), (3, 200), (0, 1), (3, 200), (3, 199)] {
            t.note(sender, seq);
        }
        assert_eq!((t.unique, t.duplicates), (4, 2));
    }
}
