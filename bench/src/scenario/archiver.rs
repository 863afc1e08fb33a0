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
    let nats = nats_connect(&args).await?;
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

    let stored = Stored::prepare(db, room_names, ids).await?;
    let mut watch = Watch::new(start);
    let caught_up = loop {
        tokio::time::sleep(Duration::from_millis(args.poll_ms)).await;
        let archived = watch.frontier + stored.count_from(watch.frontier).await?;
        let now = Instant::now();
        let sent = published.load(Relaxed);
        watch.note(archived, sent, now, &published_at, total);
        if archived >= total {
            break Some(now);
        }
        if watch.drained_for(Duration::from_secs(args.drain_secs)) {
            break None;
        }
    };
    publisher.await??;
    let (bench_cores, others_cores) = cpu.cores();
    let final_count = stored.count_from(0).await?;
    Ok(Report {
        published: total,
        publish_rate: total as f64 / watch.publish_secs().max(1e-9),
        archived: final_count,
        archive_rate: watch.archive_rate(),
        lag: watch.lag.take().summary(),
        catch_up_ms: watch.catch_up_ms(caught_up),
        bench_cores,
        others_cores,
    })
}

async fn nats_connect(args: &Args) -> anyhow::Result<async_nats::Client> {
    let mut options = async_nats::ConnectOptions::new().name("chat-bench");
    if let (Some(u), Some(p)) = (&args.nats_user, &args.nats_password) {
        options = options.user_and_password(u.clone(), p.clone());
    }
    options
        .connect(&args.nats_url)
        .await
        .context("connecting to NATS")
}

/// Counts the run's messages in the archive's database.
struct Stored {
    db: tokio_postgres::Client,
    count_from: tokio_postgres::Statement,
    rooms: Vec<String>,
    ids: Arc<Vec<String>>,
    last_id: String,
}

impl Stored {
    async fn prepare(
        db: tokio_postgres::Client,
        rooms: Vec<String>,
        ids: Arc<Vec<String>>,
    ) -> anyhow::Result<Self> {
        let count_from = db
            .prepare(
                "SELECT count(*) FROM messages WHERE channel = ANY($1) AND id >= $2 AND id <= $3",
            )
            .await?;
        let last_id = ids[ids.len() - 1].clone();
        Ok(Stored {
            db,
            count_from,
            rooms,
            ids,
            last_id,
        })
    }

    /// Stored messages from the `first`-th published one on.
    async fn count_from(&self, first: u64) -> anyhow::Result<u64> {
        let row = self
            .db
            .query_one(
                &self.count_from,
                &[&self.rooms, &self.ids[first as usize], &self.last_id],
            )
            .await?;
        Ok(row.get::<_, i64>(0) as u64)
    }
}

/// What the looks at the database have seen so far.
struct Watch {
    start: Instant,
    lag: Histogram,
    /// Messages below the frontier are all stored (one archiver stores in
    /// order); each look counts only from there on.
    frontier: u64,
    publish_done: Option<Instant>,
    /// The first look after the first second, where the archive rate is
    /// measured from.
    rate_mark: Option<(Instant, u64)>,
    /// The last look while publishing.
    rate_end: (Instant, u64),
}

impl Watch {
    fn new(start: Instant) -> Self {
        Watch {
            start,
            lag: Histogram::default(),
            frontier: 0,
            publish_done: None,
            rate_mark: None,
            rate_end: (start, 0),
        }
    }

    /// Notes a look at `now`: `archived` of `total` stored, `sent` published.
    fn note(
        &mut self,
        archived: u64,
        sent: u64,
        now: Instant,
        published_at: &[AtomicU64],
        total: u64,
    ) {
        if self.publish_done.is_none() {
            if archived < sent {
                let oldest = published_at[archived as usize].load(Relaxed);
                self.lag
                    .record(crate::wire::now_micros().saturating_sub(oldest));
            } else {
                self.lag.record(0);
            }
            if self.start.elapsed() >= Duration::from_secs(1) && self.rate_mark.is_none() {
                self.rate_mark = Some((now, archived));
            }
            self.rate_end = (now, archived);
            if sent >= total {
                self.publish_done = Some(now);
            }
        }
        self.frontier = archived.min(total - 1);
    }

    /// Whether publishing ended more than `wait` ago.
    fn drained_for(&self, wait: Duration) -> bool {
        self.publish_done.is_some_and(|t| t.elapsed() > wait)
    }

    fn publish_secs(&self) -> f64 {
        self.publish_done
            .map_or(0.0, |t| (t - self.start).as_secs_f64())
    }

    fn archive_rate(&self) -> f64 {
        match self.rate_mark {
            Some((t0, c0)) if self.rate_end.0 > t0 => {
                (self.rate_end.1 - c0) as f64 / (self.rate_end.0 - t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    /// From the last publish until `caught_up` (infinite if it never was).
    fn catch_up_ms(&self, caught_up: Option<Instant>) -> f64 {
        match (self.publish_done, caught_up) {
            (Some(p), Some(c)) => (c - p).as_secs_f64() * 1000.0,
            _ => f64::INFINITY,
        }
    }
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
