//! `archiver`: publish messages straight onto `chat.msg.<room>` over NATS (as
//! an operator would) at a fixed rate, and watch PostgreSQL fill up: archive
//! throughput and lag (the age of the oldest message not yet stored).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chat_shared::message::Message;
use chat_shared::names::{ChannelName, MessageText};
use serde::Serialize;

use crate::archive::pg_connect;
use crate::hist::{Histogram, Summary};
use crate::procfs::CpuMeter;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// NATS user allowed to publish on chat.msg.> (nats.conf: ops).
    #[arg(long, env = "NATS_USER")]
    pub nats_user: Option<String>,
    #[arg(long, env = "NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
    /// The archiver's database.
    #[arg(long, env = "DATABASE_URL")]
    pub pg_url: String,
    /// Messages per second.
    #[arg(long, default_value_t = 20_000.0)]
    pub rate: f64,
    /// Messages in all.
    #[arg(long, default_value_t = 400_000)]
    pub total: u64,
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    #[arg(long, default_value = "bench-r")]
    pub room_prefix: String,
    /// Bytes of message text.
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Milliseconds between looks at the database.
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Seconds to wait after the last publish for the archive to catch up.
    #[arg(long, default_value_t = 60)]
    pub drain_secs: u64,
    /// PIDs whose CPU use to report (archiver, nats-server, postgres…).
    #[arg(long, value_delimiter = ',')]
    pub pid: Vec<u32>,
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub published: u64,
    pub publish_rate: f64,
    pub archived: u64,
    /// Messages stored per second while publishing (after the first second).
    pub archive_rate: f64,
    /// Age of the oldest unarchived message, sampled every poll while publishing.
    pub lag: Summary,
    /// From the last publish until everything was stored.
    pub catch_up_ms: f64,
    pub bench_cores: f64,
    pub others_cores: f64,
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    let mut options = async_nats::ConnectOptions::new().name("chat-bench");
    if let (Some(u), Some(p)) = (&args.nats_user, &args.nats_password) {
        options = options.user_and_password(u.clone(), p.clone());
    }
    let nats = options
        .connect(&args.nats_url)
        .await
        .context("connecting to NATS")?;
    let db = pg_connect(&args.pg_url).await?;
    let rooms: Vec<ChannelName> = crate::accounts::room_names(&args.room_prefix, args.rooms.max(1))
        .iter()
        .map(|r| ChannelName::parse(r).map_err(|e| anyhow::anyhow!("{r}: {e}")))
        .collect::<anyhow::Result<_>>()?;
    let room_names: Vec<String> = rooms.iter().map(|r| r.as_str().to_owned()).collect();

    let total = args.total.max(1);
    let ids: Arc<Vec<String>> = Arc::new(
        (0..total)
            .map(|_| chat_shared::message::next_id().to_string())
            .collect(),
    );
    let published_at: Arc<Vec<AtomicU64>> =
        Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let published = Arc::new(AtomicU64::new(0));
    let cpu = CpuMeter::start(&args.pid);
    let start = Instant::now();
    let publisher = tokio::spawn(publish(
        nats.clone(),
        args.rate,
        rooms,
        args.size,
        ids.clone(),
        published_at.clone(),
        published.clone(),
    ));

    let count_from = db
        .prepare("SELECT count(*) FROM messages WHERE channel = ANY($1) AND id >= $2 AND id <= $3")
        .await?;
    let last_id = ids[ids.len() - 1].clone();
    let lag = Histogram::default();
    // Messages below the frontier are all stored (one archiver stores in order);
    // each look counts only from there on.
    let mut frontier = 0u64;
    let (mut publish_done, mut rate_mark) = (None::<Instant>, None::<(Instant, u64)>);
    let mut rate_end = (start, 0u64);
    let caught_up = loop {
        tokio::time::sleep(Duration::from_millis(args.poll_ms)).await;
        let row = db
            .query_one(
                &count_from,
                &[&room_names, &ids[frontier as usize], &last_id],
            )
            .await?;
        let archived = frontier + row.get::<_, i64>(0) as u64;
        let now = Instant::now();
        let sent = published.load(Relaxed);
        if publish_done.is_none() {
            if archived < sent {
                let oldest = published_at[archived as usize].load(Relaxed);
                lag.record(crate::wire::now_micros().saturating_sub(oldest));
            } else {
                lag.record(0);
            }
            if start.elapsed() >= Duration::from_secs(1) && rate_mark.is_none() {
                rate_mark = Some((now, archived));
            }
            rate_end = (now, archived);
            if sent >= total {
                publish_done = Some(now);
            }
        }
        frontier = archived.min(total - 1);
        if archived >= total {
            break Some(now);
        }
        if publish_done.is_some_and(|t| t.elapsed() > Duration::from_secs(args.drain_secs)) {
            break None;
        }
    };
    publisher.await??;
    let (bench_cores, others_cores) = cpu.cores();
    let final_count = db
        .query_one(&count_from, &[&room_names, &ids[0], &last_id])
        .await?
        .get::<_, i64>(0) as u64;
    let publish_secs = publish_done.map_or(0.0, |t| (t - start).as_secs_f64());
    let archive_rate = match rate_mark {
        Some((t0, c0)) if rate_end.0 > t0 => {
            (rate_end.1 - c0) as f64 / (rate_end.0 - t0).as_secs_f64()
        }
        _ => 0.0,
    };
    Ok(Report {
        published: total,
        publish_rate: total as f64 / publish_secs.max(1e-9),
        archived: final_count,
        archive_rate,
        lag: lag.take().summary(),
        catch_up_ms: match (publish_done, caught_up) {
            (Some(p), Some(c)) => (c - p).as_secs_f64() * 1000.0,
            _ => f64::INFINITY,
        },
        bench_cores,
        others_cores,
    })
}

/// Publishes `ids.len()` messages at `rate`, round-robin over the rooms.
async fn publish(
    nats: async_nats::Client,
    rate: f64,
    rooms: Vec<ChannelName>,
    size: usize,
    ids: Arc<Vec<String>>,
    published_at: Arc<Vec<AtomicU64>>,
    published: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    let mut next = 0usize;
    let padding = "x".repeat(size.saturating_sub(32));
    while next < ids.len() {
        ticker.tick().await;
        let due = ((start.elapsed().as_secs_f64() * rate) as usize).min(ids.len());
        while next < due {
            let room = &rooms[next % rooms.len()];
            let text = MessageText::parse(&format!("archive {next} {padding}"))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut message = Message::new(room.clone(), "benchops", text, false);
            message.id = ids[next].clone();
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", message.id.as_str());
            let payload = serde_json::to_vec(&message)?;
            published_at[next].store(crate::wire::now_micros(), Relaxed);
            nats.publish_with_headers(
                format!("chat.msg.{}", room.as_str()),
                headers,
                payload.into(),
            )
            .await?;
            next += 1;
        }
        published.store(next as u64, Relaxed);
    }
    nats.flush().await?;
    Ok(())
}
