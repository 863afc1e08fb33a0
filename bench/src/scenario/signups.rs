//! `signups`: what a burst of sign-ups (each a bcrypt hash) does to everyone
//! else. `GET /api/me` is asked at a steady pace (each request on its own, so
//! a slow answer does not hold back the next question), first with nothing
//! else running, then while `--burst` sign-ups are in flight at once, round
//! after round; the report compares the two medians.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{ensure, Context};
use futures::future::try_join_all;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use tokio::time::MissedTickBehavior;

use crate::accounts::{self, Account};
use crate::hist::{Histogram, Summary};
use crate::procfs::CpuMeter;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server, as host:port or http://host:port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub url: String,
    /// Sign-ups sent at once in each round.
    #[arg(long, default_value_t = 16)]
    pub burst: usize,
    /// Rounds of sign-ups measured.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Seconds of `GET /api/me` with nothing else running.
    #[arg(long, default_value_t = 3)]
    pub alone_secs: u64,
    /// Milliseconds between two `GET /api/me`.
    #[arg(long, default_value_t = 5)]
    pub probe_every_ms: u64,
    /// PIDs of the server processes, for their CPU use (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub burst: usize,
    pub rounds: usize,
    /// `/api/me` with nothing else running.
    pub me_alone: Summary,
    /// `/api/me` while a burst is in flight.
    pub me_during_bursts: Summary,
    /// Median during bursts / median alone.
    pub median_ratio: f64,
    /// How long each sign-up took, from sending to its answer.
    pub signup: Summary,
    /// Median time for a whole burst to be answered, in milliseconds.
    pub burst_ms: f64,
    pub server_cores: f64,
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    let base = accounts::http_base(&args.url);
    let (me, _) = accounts::sign_in_all(&base, 1, 1).await?;
    let me = me.first().context("no account")?.clone();
    let probe = Probe {
        client: accounts::http(),
        base: base.clone(),
        me,
        every: Duration::from_millis(args.probe_every_ms.max(1)),
    };
    let warm_up = Histogram::default();
    probe
        .until(&warm_up, tokio::time::sleep(Duration::from_millis(500)))
        .await?;
    let alone = Histogram::default();
    let quiet = tokio::time::sleep(Duration::from_secs(args.alone_secs));
    probe.until(&alone, quiet).await?;
    let (during, signup) = (Histogram::default(), Histogram::default());
    let mut bursts = Vec::new();
    let cpu = CpuMeter::start(&args.server_pid);
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() % 1_000_000;
    for round in 0..args.rounds {
        let names = (0..args.burst).map(|i| format!("burst{run}r{round}n{i}"));
        let started = Instant::now();
        probe
            .until(&during, burst(&probe, names, &signup))
            .await??;
        bursts.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (_, server_cores) = cpu.cores();
    let (me_alone, me_during_bursts) = (alone.take().summary(), during.take().summary());
    bursts.sort_by(f64::total_cmp);
    Ok(Report {
        burst: args.burst,
        rounds: args.rounds,
        median_ratio: me_during_bursts.p50_ms / me_alone.p50_ms.max(0.001),
        me_alone,
        me_during_bursts,
        signup: signup.take().summary(),
        burst_ms: bursts.get(bursts.len() / 2).copied().unwrap_or_default(),
        server_cores,
    })
}

/// Signs `names` up all at once; each one's time goes into `signup`.
async fn burst(
    probe: &Probe,
    names: impl Iterator<Item = String>,
    signup: &Histogram,
) -> anyhow::Result<()> {
    try_join_all(names.map(|name| async move {
        let started = Instant::now();
        accounts::sign_in(&probe.client, &probe.base, name).await?;
        signup.record(started.elapsed().as_micros() as u64);
        anyhow::Ok(())
    }))
    .await
    .map(drop)
}

/// `GET /api/me` as one account, at a steady pace.
struct Probe {
    client: reqwest::Client,
    base: String,
    me: Account,
    every: Duration,
}

impl Probe {
    /// Asks every `every` until `until` is done, recording each latency
    /// into `latency`; returns what `until` gave.
    async fn until<T>(
        &self,
        latency: &Histogram,
        until: impl Future<Output = T>,
    ) -> anyhow::Result<T> {
        let mut ticks = tokio::time::interval(self.every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut asks = FuturesUnordered::new();
        tokio::pin!(until);
        let out = loop {
            tokio::select! {
                out = &mut until => break out,
                _ = ticks.tick() => asks.push(get_me(&self.client, &self.base, &self.me)),
                Some(took) = asks.next() => latency.record(took?),
            }
        };
        while let Some(took) = asks.next().await {
            latency.record(took?);
        }
        Ok(out)
    }
}

/// One `GET /api/me`; its latency in microseconds.
async fn get_me(client: &reqwest::Client, base: &str, me: &Account) -> anyhow::Result<u64> {
    let started = Instant::now();
    let response = client
        .get(format!("{base}/api/me"))
        .header(reqwest::header::COOKIE, &me.cookie)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    ensure!(
        response.status().is_success(),
        "/api/me: {}",
        response.status()
    );
    response.bytes().await?;
    Ok(started.elapsed().as_micros() as u64)
}
