//! `connections`: open N WebSockets, hold them idle (answering the server's
//! pings), and report connect times and the server's memory per connection.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::accounts::{self, Account};
use crate::conn::{Role, Shared, Stats};
use crate::fleet::{self, Running};
use crate::hist::Summary;
use crate::procfs;
use crate::scenario::Common;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Seconds to hold the connections after they are all open.
    #[arg(long, default_value_t = 20)]
    pub hold_secs: u64,
    /// Seconds to let the server settle before reading its memory.
    #[arg(long, default_value_t = 3)]
    pub settle_secs: u64,
    /// Rooms the connections join, one each, round robin (0: none).
    #[arg(long, default_value_t = 0)]
    pub rooms: usize,
    #[arg(long, default_value = "idle")]
    pub room_prefix: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub requested: usize,
    pub opened: usize,
    pub failed: usize,
    /// Still open at the end of the hold.
    pub held: usize,
    pub connect_ms: Summary,
    pub connect_wall_secs: f64,
    pub rss_empty_kib: Option<u64>,
    pub rss_held_kib: Option<u64>,
    pub rss_per_connection_kib: Option<f64>,
    /// Rooms joined (each connection one).
    pub rooms: usize,
    /// Connections whose join was answered.
    pub joined: usize,
    /// Server CPU seconds while the connections sat idle after settling,
    /// over `idle_secs`.
    pub idle_server_cpu_secs: f64,
    pub idle_secs: f64,
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    let c = &args.common;
    let (accounts, targets) =
        fleet::plan(&c.url, c.connections, c.users(), c.login_concurrency, |i| i).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_empty = rss_of(&c.server_pid)?;

    let opened = fleet::open(&targets, c.concurrency).await;
    eprintln!(
        "opened {} of {} in {:.1}s; connect {}",
        opened.sockets.len(),
        targets.len(),
        opened.elapsed.as_secs_f64(),
        opened.connect
    );
    let count = opened.sockets.len();
    let shared = rooms_of(&args, &accounts).await?;
    let room_count = shared.rooms.len();
    let servers: Vec<u16> = (0..targets.len())
        .map(|i| targets[i].server as u16)
        .collect();
    let running = Running::start(opened.sockets, &shared, |i| Role {
        server: servers[i],
        rooms: (room_count > 0)
            .then_some(i % room_count.max(1))
            .into_iter()
            .collect(),
        sends: None,
    });

    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let rss_held = rss_of(&c.server_pid)?;
    let joined = shared.stats.joined.load(Relaxed);
    let rest = args.hold_secs.saturating_sub(args.settle_secs);
    let (idle_server_cpu_secs, idle_secs) = server_cpu_over(&c.server_pid, rest).await;
    let dropped = shared.stats.dropped.load(Relaxed);
    running.finish().await;

    let per_connection = rss_empty
        .zip(rss_held)
        .filter(|_| count > 0)
        .map(|(a, b)| (b as f64 - a as f64) / count as f64);
    Ok(Report {
        requested: targets.len(),
        opened: count,
        failed: opened.failures,
        held: count - dropped.min(count),
        connect_ms: opened.connect,
        connect_wall_secs: opened.elapsed.as_secs_f64(),
        rss_empty_kib: rss_empty,
        rss_held_kib: rss_held,
        rss_per_connection_kib: per_connection,
        rooms: room_count,
        joined,
        idle_server_cpu_secs,
        idle_secs,
    })
}

/// The servers' memory now, when their pids are known.
fn rss_of(pids: &[u32]) -> anyhow::Result<Option<u64>> {
    (!pids.is_empty())
        .then(|| procfs::total_rss_kib(pids))
        .transpose()
}

/// The servers' CPU seconds over the next `secs` seconds, and the seconds
/// that took.
async fn server_cpu_over(pids: &[u32], secs: u64) -> (f64, f64) {
    let (cpu0, from) = (procfs::total_cpu_secs(pids), std::time::Instant::now());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    (
        procfs::total_cpu_secs(pids) - cpu0,
        from.elapsed().as_secs_f64(),
    )
}

/// The rooms the connections join (created first, as the first account),
/// shared with every connection.
async fn rooms_of(args: &Args, accounts: &[Account]) -> anyhow::Result<Arc<Shared>> {
    let rooms = accounts::room_names(&args.room_prefix, args.rooms);
    if let Some(first) = accounts.first().filter(|_| !rooms.is_empty()) {
        accounts::create_rooms(&accounts::http_base(&args.common.url[0]), first, &rooms).await?;
    }
    let count = rooms.len();
    Ok(Arc::new(Shared {
        run: 0,
        rooms,
        size: 0,
        stats: Stats::new(count),
    }))
}
