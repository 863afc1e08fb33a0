//! `storm`: N connections, one account each, open and idle, then all join
//! their room at once (one room, or N/R each in R rooms). Reports how long
//! until every one is joined, each join's latency, the server's CPU for the
//! storm, what presence cost the clients (frames and bytes) and whether any
//! connection was closed.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::accounts;
use crate::conn::Ws;
use crate::fleet::{self, Target};
use crate::hist::{Histogram, Summary};
use crate::procfs;
use crate::scenario::Common;
use crate::wire::{self, Frame};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Rooms the connections are spread over (1: everyone in one room).
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    #[arg(long, default_value = "storm")]
    pub room_prefix: String,
    /// Where the accounts' session cookies are kept between runs (made on
    /// the first run; later runs need a server on a copy of that run's data
    /// directory). Without it, every run signs every account in.
    #[arg(long)]
    pub cookies: Option<std::path::PathBuf>,
    /// Seconds the storm may take before the run gives up waiting.
    #[arg(long, default_value_t = 120)]
    pub deadline_secs: u64,
    /// Seconds to keep every connection open after the last join, reading
    /// (the trailing presence batches, and to see that none is closed).
    #[arg(long, default_value_t = 3)]
    pub hold_secs: u64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub connections: usize,
    pub rooms: usize,
    pub joined: usize,
    /// From the first join sent until the last `joined` arrived.
    pub storm_secs: f64,
    pub join_ms: Summary,
    /// Server CPU seconds from the first join until the hold ended.
    pub server_cpu_secs: f64,
    pub bench_cpu_secs: f64,
    /// Connections the server closed (or that failed) during the run.
    pub closed: usize,
    pub presence_frames: u64,
    pub presence_bytes: u64,
    /// The smallest `count` in the last presence frame each client saw.
    pub final_count_min: u64,
    /// The largest such `count`.
    pub final_count_max: u64,
    /// Clients whose last presence frame (before the end) said fewer than
    /// `final_count_max`: they missed a batch.
    pub clients_behind: usize,
}

#[derive(Default)]
struct Tallies {
    joined: AtomicUsize,
    closed: AtomicUsize,
    presence_frames: AtomicU64,
    presence_bytes: AtomicU64,
    /// Each client's `count` in the last presence frame it saw.
    last_counts: std::sync::Mutex<Vec<u64>>,
    join_us: Histogram,
}

impl Tallies {
    /// The smallest and largest last count, and how many clients' last
    /// count was below the largest (they missed a batch).
    fn final_counts(&self) -> (u64, u64, usize) {
        let counts = self
            .last_counts
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        let (min, max) = (
            counts.iter().copied().min().unwrap_or(u64::MAX),
            counts.iter().copied().max().unwrap_or(0),
        );
        (min, max, counts.iter().filter(|c| **c < max).count())
    }
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    let c = &args.common;
    let rooms = accounts::room_names(&args.room_prefix, args.rooms.max(1));
    let sockets = connect_all(&args, &rooms).await?;
    let count = sockets.len();
    // Let the handshakes' work finish before the storm is measured.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let tallies = Arc::new(Tallies::default());
    let (stop, stop_rx) = watch::channel(false);
    let (go, go_rx) = watch::channel(false);
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|(i, ws)| {
            let room = rooms[i % rooms.len()].clone();
            let (t, go, stop) = (tallies.clone(), go_rx.clone(), stop_rx.clone());
            tokio::spawn(member(ws, room, t, go, stop))
        })
        .collect();
    tokio::task::yield_now().await;
    let server_cpu = procfs::total_cpu_secs;
    let (cpu0, bench0) = (server_cpu(&c.server_pid), procfs::cpu_secs(0));
    let start = Instant::now();
    let _ = go.send(true);
    let deadline = start + Duration::from_secs(args.deadline_secs);
    while tallies.joined.load(Relaxed) + tallies.closed.load(Relaxed) < count
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let storm = start.elapsed();
    eprintln!(
        "{} joined in {:.2}s; holding {}s",
        tallies.joined.load(Relaxed),
        storm.as_secs_f64(),
        args.hold_secs
    );
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    let (cpu1, bench1) = (server_cpu(&c.server_pid), procfs::cpu_secs(0));
    let _ = stop.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let t = &tallies;
    let (final_count_min, final_count_max, clients_behind) = t.final_counts();
    Ok(Report {
        connections: count,
        rooms: rooms.len(),
        joined: t.joined.load(Relaxed),
        storm_secs: storm.as_secs_f64(),
        join_ms: t.join_us.take().summary(),
        server_cpu_secs: cpu1 - cpu0,
        bench_cpu_secs: bench1 - bench0,
        closed: t.closed.load(Relaxed),
        presence_frames: t.presence_frames.load(Relaxed),
        presence_bytes: t.presence_bytes.load(Relaxed),
        final_count_min,
        final_count_max,
        clients_behind,
    })
}

/// Signs in (or reads back) one account per connection, creates the rooms
/// and opens every WebSocket; returns the open ones by index.
async fn connect_all(args: &Args, rooms: &[String]) -> anyhow::Result<Vec<(usize, Ws)>> {
    let c = &args.common;
    let base = accounts::http_base(&c.url[0]);
    let (accounts, took) = match &args.cookies {
        Some(cache) => {
            accounts::sign_in_cached(&base, c.connections, c.login_concurrency, cache).await?
        }
        None => accounts::sign_in_all(&base, c.connections, c.login_concurrency).await?,
    };
    eprintln!(
        "{} accounts ready in {:.1}s",
        accounts.len(),
        took.as_secs_f64()
    );
    accounts::create_rooms(&base, &accounts[0], rooms).await?;
    let targets: Vec<Target> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let server = i % c.url.len();
            Target {
                server,
                ws_url: accounts::ws_url(&c.url[server]),
                cookie: a.cookie.clone(),
            }
        })
        .collect();
    let opened = fleet::open(&targets, c.concurrency).await;
    eprintln!(
        "opened {} of {} in {:.1}s",
        opened.sockets.len(),
        targets.len(),
        opened.elapsed.as_secs_f64()
    );
    Ok(opened.sockets)
}

/// One connection: waits for the signal, joins, times `joined`, then reads
/// (counting presence) until told to stop.
async fn member(
    mut ws: Ws,
    room: String,
    t: Arc<Tallies>,
    mut go: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
) {
    if go.wait_for(|g| *g).await.is_err() {
        return;
    }
    let sent = Instant::now();
    if ws.send(WsMessage::text(wire::join(&room))).await.is_err() {
        t.closed.fetch_add(1, Relaxed);
        return;
    }
    let mut last_count = None;
    loop {
        // The end is seen before any later frame: once some connections
        // close, the rest hear them leave, which is the end, not the storm.
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            frame = ws.next() => match frame {
                Some(Ok(WsMessage::Text(text))) => match wire::classify(text.as_str()) {
                    Frame::Joined => {
                        t.join_us.record(sent.elapsed().as_micros() as u64);
                        t.joined.fetch_add(1, Relaxed);
                    }
                    _ if text.as_str().starts_with(r#"{"type":"presence""#) => {
                        t.presence_frames.fetch_add(1, Relaxed);
                        t.presence_bytes.fetch_add(text.len() as u64, Relaxed);
                        last_count = wire::presence_count(text.as_str()).or(last_count);
                    }
                    _ => {}
                },
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => {
                    t.closed.fetch_add(1, Relaxed);
                    return;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    if let Some(n) = last_count {
        if let Ok(mut counts) = t.last_counts.lock() {
            counts.push(n);
        }
    }
    let _ = ws.close(None).await;
}
