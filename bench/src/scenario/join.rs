//! `join`: how long a join takes to answer with its history. Clients join a
//! room, wait for `joined` (with the last 50 messages), leave, and go on to
//! the next room. Rooms can be filled first through the normal protocol; a
//! large archive is filled faster with the `archiver` scenario (over NATS).

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::accounts;
use crate::conn::{self, Ws};
use crate::fleet;
use crate::hist::{Histogram, Summary};
use crate::procfs::CpuMeter;
use crate::scenario::Common;
use crate::wire::{self, Frame};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Rooms to join in turn.
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    #[arg(long, default_value = "bench-r")]
    pub room_prefix: String,
    /// Joins measured, all clients together.
    #[arg(long, default_value_t = 2000)]
    pub joins: usize,
    /// Joins before measuring (channel actors start, caches warm).
    #[arg(long, default_value_t = 100)]
    pub warmup_joins: usize,
    /// Messages to send into each room first, through the protocol.
    #[arg(long, default_value_t = 0)]
    pub prefill: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub clients: usize,
    pub joins: usize,
    pub latency: Summary,
    pub joins_per_sec: f64,
    /// The smallest history seen in a `joined` frame.
    pub min_history: usize,
    pub bench_cores: f64,
    pub server_cores: f64,
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    let c = &args.common;
    let rooms = accounts::room_names(&args.room_prefix, args.rooms.max(1));
    let (accounts, targets) =
        fleet::plan(&c.url, c.connections, c.users(), c.login_concurrency, |i| i).await?;
    accounts::create_rooms(&accounts::http_base(&c.url[0]), &accounts[0], &rooms).await?;
    if args.prefill > 0 {
        let mut ws = conn::connect(&targets[0].ws_url, &targets[0].cookie).await?;
        prefill(&mut ws, &rooms, args.prefill).await?;
    }
    let opened = fleet::open(&targets, c.concurrency).await;
    anyhow::ensure!(
        opened.failures == 0,
        "{} connections failed",
        opened.failures
    );

    let budget = Arc::new(AtomicUsize::new(args.warmup_joins));
    let mut sockets = opened.sockets;
    run_clients(&mut sockets, &rooms, &budget, &Histogram::default()).await?;

    let latency = Arc::new(Histogram::default());
    budget.store(args.joins, Relaxed);
    let (cpu, start) = (CpuMeter::start(&c.server_pid), Instant::now());
    let min_history = run_clients(&mut sockets, &rooms, &budget, &latency).await?;
    let elapsed = start.elapsed().as_secs_f64();
    let (bench_cores, server_cores) = cpu.cores();
    let latency = latency.take().summary();
    Ok(Report {
        clients: sockets.len(),
        joins: latency.count as usize,
        joins_per_sec: latency.count as f64 / elapsed,
        latency,
        min_history,
        bench_cores,
        server_cores,
    })
}

/// Every client joins and leaves rooms until `budget` joins are done;
/// returns the smallest history seen.
async fn run_clients(
    sockets: &mut [(usize, Ws)],
    rooms: &[String],
    budget: &AtomicUsize,
    latency: &Histogram,
) -> anyhow::Result<usize> {
    let clients = sockets.iter_mut().map(|(i, ws)| {
        let offset = *i;
        async move {
            let mut min_history = usize::MAX;
            let mut k = offset;
            while budget
                .fetch_update(Relaxed, Relaxed, |b| b.checked_sub(1))
                .is_ok()
            {
                let room = &rooms[k % rooms.len()];
                k += 1;
                let start = Instant::now();
                ws.send(WsMessage::text(wire::join(room))).await?;
                let history = wait_joined(ws).await?;
                latency.record(start.elapsed().as_micros() as u64);
                min_history = min_history.min(history);
                ws.send(WsMessage::text(wire::leave(room))).await?;
            }
            anyhow::Ok(min_history)
        }
    });
    let results = futures::future::try_join_all(clients).await?;
    Ok(results
        .into_iter()
        .filter(|h| *h != usize::MAX)
        .min()
        .unwrap_or(0))
}

/// Reads until a `joined` frame; returns the length of its history.
async fn wait_joined(ws: &mut Ws) -> anyhow::Result<usize> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .context("no joined frame within 10 s")?;
        match frame {
            Some(Ok(WsMessage::Text(t))) => match wire::classify(t.as_str()) {
                Frame::Joined => return Ok(wire::history_len(t.as_str())),
                Frame::Error(e) => bail!("join refused: {e}"),
                _ => {}
            },
            Some(Ok(_)) => {}
            other => bail!("connection ended while joining: {other:?}"),
        }
    }
}

/// Sends `count` messages into each room, 200 in flight at most.
async fn prefill(ws: &mut Ws, rooms: &[String], count: usize) -> anyhow::Result<()> {
    let start = Instant::now();
    for room in rooms {
        ws.send(WsMessage::text(wire::join(room))).await?;
        wait_joined(ws).await?;
    }
    let total = rooms.len() * count;
    let (mut sent, mut acked) = (0, 0);
    while acked < total {
        while sent < total && sent - acked < 200 {
            let text = format!("history {sent} {}", "x".repeat(40));
            ws.feed(WsMessage::text(wire::send(
                &rooms[sent % rooms.len()],
                &text,
            )))
            .await?;
            sent += 1;
        }
        ws.flush().await?;
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .context("prefill stalled")?
        {
            Some(Ok(WsMessage::Text(t))) => match wire::classify(t.as_str()) {
                Frame::Ack => acked += 1,
                Frame::Error(e) => {
                    bail!("prefill refused: {e} (start the server with a higher --rate-count)")
                }
                _ => {}
            },
            Some(Ok(_)) => {}
            other => bail!("connection ended during prefill: {other:?}"),
        }
    }
    for room in rooms {
        ws.send(WsMessage::text(wire::leave(room))).await?;
    }
    eprintln!(
        "prefilled {total} messages in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
