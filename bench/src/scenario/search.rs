//! `search`: how long `GET /api/search` takes on a large archive. The
//! archive is first filled straight through the store (`--fill` messages in
//! `--rooms` rooms, SQLite file or PostgreSQL, while the server runs), each
//! text four words of a 50,000-word vocabulary, the first three skewed (a
//! few words are in a fifth of all messages, most are rare) and `hello` in
//! every one. Then queries are asked one after another: a word common,
//! middling or rare, two words, one room only, and the next page of a
//! common word (`before`); each kind in turn. PostgreSQL is analyzed after
//! the fill, as autovacuum would do after such a load.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chat_shared::message::Message;
use chat_shared::names::{ChannelName, MessageText};
use chat_shared::store::{PgStore, SqliteStore, Store};
use serde::Serialize;

use crate::accounts;
use crate::hist::{Histogram, Summary};
use crate::procfs::CpuMeter;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server, as host:port or http://host:port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub url: String,
    /// Messages to store before measuring (0: search what is there).
    #[arg(long, default_value_t = 0)]
    pub fill: usize,
    /// Rooms the filled messages are spread over (`search-r0`, …).
    #[arg(long, default_value_t = 20)]
    pub rooms: usize,
    /// The embedded server's database file, to fill.
    #[arg(long)]
    pub sqlite: Option<std::path::PathBuf>,
    /// The distributed archive, to fill.
    #[arg(long)]
    pub pg_url: Option<String>,
    /// Queries measured.
    #[arg(long, default_value_t = 3000)]
    pub queries: usize,
    /// PIDs of the server processes, for their CPU use (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub filled: usize,
    pub fill_secs: f64,
    pub queries: usize,
    /// Every query.
    pub latency: Summary,
    /// Each kind of query on its own.
    pub by_kind: Vec<(String, Summary)>,
    /// The fewest results a query that should find some got.
    pub min_results: usize,
    pub server_cores: f64,
}

/// Words in the vocabulary.
const VOCABULARY: u64 = 50_000;
/// Messages stored per transaction while filling.
const FILL_BATCH: usize = 5_000;

/// A small, fast, deterministic generator (xorshift), so every run fills
/// the same texts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// 0..1
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A skewed word: w0 is in about a fifth of the texts, w1999 in few.
    fn skewed(&mut self) -> u64 {
        (self.unit().powi(3) * 2000.0) as u64
    }
}

fn text(rng: &mut Rng) -> String {
    let (a, b, c) = (rng.skewed(), rng.skewed(), rng.skewed());
    format!("w{a} w{b} w{c} w{} hello", rng.next() % VOCABULARY)
}

/// The rooms filled: `search-r0`, ….
fn room_names(rooms: usize) -> Vec<String> {
    accounts::room_names("search-r", rooms.max(1))
}

async fn fill(store: &dyn Store, n: usize, rooms: usize) -> anyhow::Result<()> {
    let rooms: Vec<ChannelName> = room_names(rooms)
        .iter()
        .map(|name| ChannelName::parse(name))
        .collect::<Result<_, _>>()?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut batch = Vec::with_capacity(FILL_BATCH);
    for i in 0..n {
        let room = rooms[i % rooms.len()].clone();
        let body = MessageText::parse(&text(&mut rng)).context("a filler text")?;
        batch.push(Message::new(
            room,
            format!("bench{:04}", i % 500),
            body,
            false,
        ));
        if batch.len() == FILL_BATCH || i + 1 == n {
            store.insert_messages(&batch).await?;
            batch.clear();
        }
    }
    Ok(())
}

/// The kinds of query asked in turn: (name, query string without `before`).
fn kinds() -> Vec<(&'static str, String)> {
    vec![
        ("common word (1 in 5)", "q=w0".into()),
        ("every message", "q=hello".into()),
        ("middling word", "q=w150".into()),
        ("rare word", "q=w1999".into()),
        ("two words", "q=w20+w50".into()),
        ("common word, one room", "q=w0&channel=search-r3".into()),
    ]
}

/// Asks `/api/search` as one signed-in account.
struct Asker {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Asker {
    /// How long `query` took, how many messages it found, and the last one's id.
    async fn ask(&self, query: &str) -> anyhow::Result<(Duration, usize, Option<String>)> {
        let t = Instant::now();
        let response = self
            .client
            .get(format!("{}/api/search?{query}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        if !status.is_success() {
            bail!("search {query}: {status} {body}");
        }
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        let last = messages
            .last()
            .and_then(|m| m["id"].as_str())
            .map(str::to_owned);
        Ok((t.elapsed(), messages.len(), last))
    }
}

async fn fill_store(args: &Args) -> anyhow::Result<()> {
    match (&args.sqlite, &args.pg_url) {
        _ if args.fill == 0 => Ok(()),
        (Some(path), None) => fill(&SqliteStore::open(path)?, args.fill, args.rooms).await,
        (None, Some(url)) => {
            fill(&PgStore::connect(url, 4).await?, args.fill, args.rooms).await?;
            // The statistics autovacuum would gather after such a load, at
            // once: without them the planner takes the table for empty.
            let db = crate::archive::pg_connect(url).await?;
            db.batch_execute("ANALYZE messages").await?;
            Ok(())
        }
        _ => bail!("--fill needs one of --sqlite and --pg-url"),
    }
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    let started = Instant::now();
    fill_store(&args).await?;
    let fill_secs = started.elapsed().as_secs_f64();
    eprintln!("filled {} messages in {fill_secs:.1}s", args.fill);

    let base = accounts::http_base(&args.url);
    let (me, _) = accounts::sign_in_all(&base, 1, 1).await?;
    let me = me.first().context("no account")?.clone();
    accounts::create_rooms(&base, &me, &room_names(args.rooms)).await?;
    let asker = Asker {
        client: accounts::http(),
        base,
        cookie: me.cookie,
    };
    let mut kinds = kinds();
    // The page after the first of a common word.
    if let (_, _, Some(id)) = asker.ask("q=w0").await? {
        kinds.push(("common word, next page", format!("q=w0&before={id}")));
    }
    for (_, query) in &kinds {
        asker.ask(query).await?; // warm
    }
    let all = Histogram::default();
    let each: Vec<Histogram> = kinds.iter().map(|_| Histogram::default()).collect();
    let mut min_results = usize::MAX;
    let cpu = CpuMeter::start(&args.server_pid);
    for i in 0..args.queries {
        let k = i % kinds.len();
        let (took, found, _) = asker.ask(&kinds[k].1).await?;
        all.record(took.as_micros() as u64);
        each[k].record(took.as_micros() as u64);
        min_results = min_results.min(found);
    }
    let (server_cores, _) = cpu.cores();
    let by_kind = kinds
        .iter()
        .zip(&each)
        .map(|((name, _), h)| (name.to_string(), h.take().summary()))
        .collect();
    Ok(Report {
        filled: args.fill,
        fill_secs,
        queries: args.queries,
        latency: all.take().summary(),
        by_kind,
        min_results: if args.queries == 0 { 0 } else { min_results },
        server_cores,
    })
}
