//! `fanout` (and `cross`): N connections in R rooms, S of them sending at a
//! fixed rate or ramping up to the highest rate the system sustains. Reports
//! deliveries/s, end-to-end latency, lost and duplicated deliveries.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::accounts;
use crate::archive::Archive;
use crate::conn::{Role, Shared, Stats};
use crate::fleet::{self, Opened, Running, Target};
use crate::hist::Summary;
use crate::procfs::CpuMeter;
use crate::scenario::Common;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Rooms; connection i joins room i mod R.
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    /// Room names are this prefix and a number.
    #[arg(long, default_value = "bench-r")]
    pub room_prefix: String,
    /// Connections that also send (sender k sends in room k mod R).
    #[arg(long, default_value_t = 10)]
    pub senders: usize,
    /// Messages per second, all senders together (the ramp's first step).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seconds measured at a fixed rate.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Seconds at the rate before measuring.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// Bytes of message text (at least the probe itself).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Ramp the rate up step by step until it is no longer sustained.
    #[arg(long)]
    pub ramp: bool,
    /// Each ramp step's rate is the previous one times this.
    #[arg(long, default_value_t = 1.25)]
    pub ramp_factor: f64,
    /// Seconds per ramp step.
    #[arg(long, default_value_t = 5)]
    pub step_secs: u64,
    /// The ramp stops here at the latest (messages/s).
    #[arg(long, default_value_t = 1_000_000.0)]
    pub max_rate: f64,
    /// A step is sustained when ≥ 95 % of the offered deliveries arrive
    /// within it, nothing is refused or dropped, and p99 stays under this.
    #[arg(long, default_value_t = 500.0)]
    pub max_p99_ms: f64,
    /// Write an SVG plot of latency percentiles against load (ramp only).
    #[arg(long)]
    pub plot: Option<std::path::PathBuf>,
    /// Check that every acknowledged message was archived in PostgreSQL.
    #[arg(long)]
    pub archive_pg: Option<String>,
    /// Check that every acknowledged message was archived in this SQLite file.
    #[arg(long)]
    pub archive_sqlite: Option<std::path::PathBuf>,
}

/// One measured interval at one rate.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Step {
    pub rate_msgs: f64,
    pub offered_dps: f64,
    pub achieved_dps: f64,
    pub latency: Summary,
    pub cross: Summary,
    pub bench_cores: f64,
    pub server_cores: f64,
    pub sustained: bool,
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct Report {
    pub servers: usize,
    pub connections: usize,
    pub rooms: usize,
    pub senders: usize,
    pub members_per_room: f64,
    pub steps: Vec<Step>,
    /// The fixed-rate window, or the ramp's highest sustained step.
    pub result: Option<Step>,
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub dropped_connections: usize,
    pub archived: Option<u64>,
}

/// Sets the senders' rate and measures intervals.
struct Meter<'a> {
    shared: &'a Shared,
    running: &'a Running,
    pids: &'a [u32],
    members_per_room: f64,
    senders: usize,
    max_p99_ms: f64,
}

impl Meter<'_> {
    /// Runs at `rate` for `secs` and measures that interval (sustained:
    /// delivered, clean and with p99 within the bound).
    async fn step(&self, rate: f64, secs: u64) -> Step {
        let stats = &self.shared.stats;
        let _ = self.running.rate.send(rate / self.senders as f64);
        let (errors0, dropped0) = (stats.errors(), stats.dropped.load(Relaxed));
        self.shared.stats.local.take();
        self.shared.stats.cross.take();
        let (cpu, start, delivered0) = (
            CpuMeter::start(self.pids),
            Instant::now(),
            stats.delivered.load(Relaxed),
        );
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let achieved =
            (stats.delivered.load(Relaxed) - delivered0) as f64 / start.elapsed().as_secs_f64();
        let (bench_cores, server_cores) = cpu.cores();
        let cross = stats.cross.take();
        let mut all = stats.local.take();
        all.add(&cross);
        let offered = rate * self.members_per_room;
        let latency = all.summary();
        let clean = stats.errors() == errors0 && stats.dropped.load(Relaxed) == dropped0;
        let sustained = clean && achieved >= 0.95 * offered && latency.p99_ms <= self.max_p99_ms;
        Step {
            rate_msgs: rate,
            offered_dps: offered,
            achieved_dps: achieved,
            latency,
            cross: cross.summary(),
            bench_cores,
            server_cores,
            sustained,
        }
    }

    /// Raises the rate step by step while each step is sustained (up to
    /// `--max-rate`); all the steps and the highest sustained one.
    async fn ramp(&self, args: &Args) -> (Vec<Step>, Option<Step>) {
        let mut steps = Vec::new();
        let mut rate = args.rate;
        let mut best: Option<Step> = None;
        while rate <= args.max_rate {
            let step = self.step(rate, args.step_secs).await;
            eprintln!(
                "ramp {rate:.0} msg/s: offered {:.0} achieved {:.0} deliveries/s, {} ({})",
                step.offered_dps,
                step.achieved_dps,
                step.latency,
                if step.sustained {
                    "sustained"
                } else {
                    "NOT sustained"
                }
            );
            let sustained = step.sustained;
            if sustained {
                best = Some(step.clone());
            }
            steps.push(step);
            if !sustained {
                break;
            }
            rate *= args.ramp_factor;
        }
        (steps, best)
    }

    /// Warms up at `--rate`, then measures one window of `--duration`.
    async fn fixed(&self, args: &Args) -> (Vec<Step>, Option<Step>) {
        let _ = self.running.rate.send(args.rate / self.senders as f64);
        tokio::time::sleep(Duration::from_secs(args.warmup)).await;
        let step = self.step(args.rate, args.duration).await;
        eprintln!(
            "{:.0} msg/s: {:.0} deliveries/s, {}",
            args.rate, step.achieved_dps, step.latency
        );
        (vec![step.clone()], Some(step))
    }
}

pub async fn run(args: Args, cross_servers: bool) -> anyhow::Result<Report> {
    anyhow::ensure!(
        !cross_servers || args.common.url.len() >= 2,
        "cross needs --url A,B"
    );
    let clients = Clients::start(&args).await?;
    let meter = Meter {
        shared: &clients.shared,
        running: &clients.running,
        pids: &args.common.server_pid,
        members_per_room: clients.members_per_room,
        senders: clients.senders,
        max_p99_ms: args.max_p99_ms,
    };
    let (steps, result) = if args.ramp {
        meter.ramp(&args).await
    } else {
        meter.fixed(&args).await
    };
    clients.finish(&args, steps, result).await
}

/// The run's connections, each joined to its room, and what the report
/// needs to know about them.
struct Clients {
    shared: Arc<Shared>,
    running: Running,
    rooms: usize,
    /// Connections open in each room.
    members: Vec<usize>,
    members_per_room: f64,
    senders: usize,
    count: usize,
}

impl Clients {
    /// Signs in, opens the connections and waits until they have joined.
    async fn start(args: &Args) -> anyhow::Result<Self> {
        let c = &args.common;
        let rooms = args.rooms.max(1);
        let room_names = accounts::room_names(&args.room_prefix, rooms);
        let (targets, opened) = open_connections(c, rooms, &room_names).await?;
        let mut members = vec![0usize; rooms];
        for (i, _) in &opened.sockets {
            members[i % rooms] += 1;
        }
        let senders = args.senders.clamp(1, c.connections);
        let shared = Arc::new(Shared {
            run: (crate::wire::now_micros() as u32) | 1,
            rooms: room_names,
            size: args.size,
            stats: Stats::new(rooms),
        });
        let roles: Vec<Role> = (0..targets.len())
            .map(|i| Role {
                server: targets[i].server as u16,
                rooms: vec![i % rooms],
                sends: (i < senders).then_some((i as u32, i % rooms)),
            })
            .collect();
        let count = opened.sockets.len();
        let running = Running::start(opened.sockets, &shared, |i| roles[i].clone());
        let joined = running
            .joined(&shared, count, Duration::from_secs(120))
            .await;
        eprintln!("{joined} of {count} connections joined their rooms");
        let members_per_room = members.iter().sum::<usize>() as f64 / rooms as f64;
        Ok(Clients {
            shared,
            running,
            rooms,
            members,
            members_per_room,
            senders,
            count,
        })
    }

    /// Stops sending, lets the deliveries settle, closes the connections and
    /// reports (checking the archive and plotting when asked).
    async fn finish(
        self,
        args: &Args,
        steps: Vec<Step>,
        result: Option<Step>,
    ) -> anyhow::Result<Report> {
        let _ = self.running.rate.send(0.0);
        let expected = drain(&self.shared, &self.members).await;
        let dropped = self.shared.stats.dropped.load(Relaxed);
        let tally = self.running.finish().await;

        let stats = &self.shared.stats;
        let archived =
            match Archive::from_flags(args.archive_pg.as_deref(), args.archive_sqlite.as_deref()) {
                Some(archive) => {
                    Some(wait_archived(&archive, self.shared.run, stats.acked.load(Relaxed)).await?)
                }
                None => None,
            };
        if let Some(path) = &args.plot {
            crate::plot::latency_vs_load(path, std::slice::from_ref(&steps), "fan-out ramp")?;
        }
        Ok(Report {
            servers: args.common.url.len(),
            connections: self.count,
            rooms: self.rooms,
            senders: self.senders,
            members_per_room: self.members_per_room,
            steps,
            result,
            sent: stats.sent.load(Relaxed),
            acked: stats.acked.load(Relaxed),
            refused: stats.errors(),
            expected,
            delivered: stats.delivered.load(Relaxed),
            lost: expected.saturating_sub(tally.unique),
            duplicated: tally.duplicates,
            dropped_connections: dropped,
            archived,
        })
    }
}

/// Signs in, creates the rooms and opens the connections.
async fn open_connections(
    c: &Common,
    rooms: usize,
    room_names: &[String],
) -> anyhow::Result<(Vec<Target>, Opened)> {
    let servers = c.url.len();
    // Room r's members alternate between servers, and so do consecutive senders.
    let server_of = move |i: usize| (i / rooms + i % rooms) % servers;
    let (accounts, targets) = fleet::plan(
        &c.url,
        c.connections,
        c.users(),
        c.login_concurrency,
        server_of,
    )
    .await?;
    accounts::create_rooms(&accounts::http_base(&c.url[0]), &accounts[0], room_names).await?;
    let opened = fleet::open(&targets, c.concurrency).await;
    eprintln!(
        "opened {} of {}; connect {}",
        opened.sockets.len(),
        targets.len(),
        opened.connect
    );
    Ok((targets, opened))
}

/// Waits until every acknowledged message has reached every member (or no
/// progress for 3 s); returns the deliveries expected.
async fn drain(shared: &Shared, members: &[usize]) -> u64 {
    let stats = &shared.stats;
    let expected = || -> u64 {
        stats
            .acked_in
            .iter()
            .zip(members)
            .map(|(a, m)| a.load(Relaxed) * *m as u64)
            .sum()
    };
    let (mut last, mut still_since) = (u64::MAX, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = (stats.delivered.load(Relaxed), stats.acked.load(Relaxed));
        let settled = stats.acked.load(Relaxed) + stats.errors() >= stats.sent.load(Relaxed);
        if settled && now.0 >= expected() {
            return expected();
        }
        if now.0 + now.1 != last {
            (last, still_since) = (now.0 + now.1, Instant::now());
        } else if still_since.elapsed() > Duration::from_secs(3) {
            return expected();
        }
    }
}

/// Waits (up to 30 s) for the archive to hold every acknowledged message of the run.
async fn wait_archived(archive: &Archive, run: u32, acked: u64) -> anyhow::Result<u64> {
    let prefix = format!("b{run:08x} ");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = archive.count_with_prefix(&prefix).await?;
        if n >= acked || Instant::now() > deadline {
            return Ok(n);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
