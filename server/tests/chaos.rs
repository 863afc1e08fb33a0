//! The chaos test: 3 chat servers, a 3-node NATS cluster with the `CHAT`
//! stream on 3 replicas, 2 archivers, 2 bots and a PostgreSQL of its own;
//! 20 clients that behave like the UI send 200 messages/s between them while
//! a random process is killed (SIGKILL) every 2–4 s and started again, and
//! PostgreSQL is restarted once. At the end every acknowledged message must
//! be in PostgreSQL once and in every client's final view once, each
//! sender's in the order sent. `CHAT_CHAOS_SECS` sets the length (30 s by
//! default, as CI runs it), `CHAT_CHAOS_SEED` replays a run's choices; a
//! failed run keeps every process's log under `target/chaos-logs/<seed>/`.

use std::io::Write as _;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::chaos::check::{Report, Row};
use crate::support::chaos::client::ChaosClient;
use crate::support::chaos::control::Control;
use crate::support::chaos::monkey::{self, Kills};
use crate::support::chaos::Rng;
use crate::support::cluster::{Cluster, Shape};
use crate::support::machine;
use crate::support::pg::PrivatePg;

const CLIENTS: usize = 20;
/// Messages per second, all clients together.
const RATE: u32 = 200;
/// How long unacknowledged sends may still be answered once the chaos stops.
const DRAIN: Duration = Duration::from_secs(30);
/// How long the archivers may take to store everything after that.
const ARCHIVED_WITHIN: Duration = Duration::from_secs(60);

/// Writes to standard error directly: the harness keeps `eprintln!` of a
/// passing test to itself, and the summary is for every run.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number")),
    )
}

fn shape(db_url: String) -> Shape {
    Shape {
        nats_nodes: 3,
        servers: 3,
        bots: 2,
        archivers: 2,
        archiver_env: vec![
            ("CHAT_STREAM_REPLICAS", "3"),
            // A killed archiver's unacknowledged batch comes back after this.
            ("ARCHIVER_ACK_WAIT_SECS", "5"),
        ],
        db_url: Some(db_url),
        // 10 messages/s per connection, past the default per-connection limit.
        server_env: vec![("CHAT_RATE_COUNT", "100000")],
        nats_failover: true,
        ..Shape::default()
    }
}

/// Registers the clients' users, spread over the servers.
async fn clients(cluster: &Cluster, rng: &mut Rng) -> Vec<ChaosClient> {
    let servers: Rc<[String]> = cluster.servers.iter().map(|s| s.addr.clone()).collect();
    let every = Duration::from_secs(CLIENTS as u64) / RATE;
    let mut out = Vec::new();
    for i in 0..CLIENTS {
        let name = format!("c{i:02}");
        let at = i % servers.len();
        let session = cluster.user(at, &name).await;
        let cookie = session.cookie.expect("a session cookie");
        let client = ChaosClient::new(&name, &cookie, servers.clone(), at, rng.fork());
        out.push(client.sending_every(every));
    }
    out
}

/// Polls until `done` holds; panics with `what` at the deadline.
async fn wait_for(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The archive's messages of #general, once it holds every id in `acked`
/// (or whatever it holds at the deadline).
async fn archived(pg: &Arc<PrivatePg>, acked: Vec<String>) -> Vec<Row> {
    let deadline = Instant::now() + ARCHIVED_WITHIN;
    loop {
        let reader = Arc::clone(pg);
        let rows = actix_rt::task::spawn_blocking(move || {
            let sql =
                "SELECT id, username, text FROM messages WHERE channel = 'general' ORDER BY id";
            reader.query("postgres", sql)
        })
        .await
        .expect("psql ran")
        .unwrap_or_default();
        let rows: Vec<Row> = rows.iter().map(|r| Row::from_fields(r)).collect();
        let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        if acked.iter().all(|id| ids.contains(id.as_str())) || Instant::now() > deadline {
            return rows;
        }
        actix_rt::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Ends the run: every process running, every send answered (or past the
/// deadline), each client reconnected and rejoined once more.
async fn settle(cluster: &mut Cluster, ctl: &Control, kills: &Kills) {
    let down = cluster.not_running();
    assert!(
        down.is_empty(),
        "processes exited by themselves: {down:?}\n{}\n{}",
        kills.log,
        cluster.logs()
    );
    ctl.drain(Instant::now() + DRAIN);
    let all_drained = || ctl.drained.get() == CLIENTS;
    wait_for("every client drains", DRAIN * 2, all_drained).await;
    ctl.finish();
}

fn summary(report: &Report, kills: &Kills, secs: u64, took: Duration, seed: u64) -> String {
    format!(
        "chaos: sent {}, acked {}, never acked {}, stored {} ({} of them never acked), \
         duplicates {}, lost {}; acked but missing from a view {}, shown twice in a view {}, \
         out of order {}; bot replies {}; kills: {} servers, {} NATS nodes, \
         {} archivers, {} bots; {} PostgreSQL restart; {secs} s of chaos, {:.0} s in all; \
         seed {seed}",
        report.sent,
        report.acked,
        report.never_acked,
        report.stored,
        report.stored_unacked,
        report.duplicates,
        report.lost,
        report.unseen,
        report.seen_twice,
        report.out_of_order,
        report.bot_replies,
        kills.servers,
        kills.nats,
        kills.archivers,
        kills.bots,
        kills.pg_restarts,
        took.as_secs_f64(),
    )
}

#[actix_rt::test]
async fn under_chaos_every_acked_message_is_stored_once_and_shown_once_in_order_in_every_view() {
    let _alone = machine::alone();
    let started = Instant::now();
    let Some(pg) = PrivatePg::start() else { return };
    let pg = Arc::new(pg);
    let secs = env_number("CHAT_CHAOS_SECS").unwrap_or(30);
    let seed = env_number("CHAT_CHAOS_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.expect("the clock is past 1970").as_nanos() as u64
    });
    say(&format!(
        "chaos: seed {seed} (CHAT_CHAOS_SEED={seed} replays its choices), {secs} s"
    ));
    let mut rng = Rng::new(seed);
    let Some(mut cluster) = Cluster::start(shape(pg.url("postgres"))).await else {
        return;
    };
    let ctl = Control::new();
    let runs: Vec<_> = clients(&cluster, &mut rng)
        .await
        .into_iter()
        .map(|c| actix_rt::spawn(c.run(Rc::clone(&ctl))))
        .collect();
    wait_for("every client joins", Duration::from_secs(30), || {
        ctl.joined.get() == CLIENTS
    })
    .await;
    ctl.start_sending();
    let kills = monkey::run(&mut cluster, &pg, &mut rng, Duration::from_secs(secs)).await;
    settle(&mut cluster, &ctl, &kills).await;
    let mut clients = Vec::new();
    for run in runs {
        clients.push(run.await.expect("a client ran to the end"));
    }
    let acked = clients
        .iter()
        .flat_map(|c| c.sends.iter().filter_map(|s| s.id.clone()))
        .collect();
    let rows = archived(&pg, acked).await;
    let report = Report::new(&clients, &rows);
    let line = summary(&report, &kills, secs, started.elapsed(), seed);
    say(&line);
    let problems = report.problems;
    if !problems.is_empty() {
        let to = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../target/chaos-logs/{seed}"));
        cluster.keep_logs(&to);
        say(&format!(
            "chaos: the processes' logs are in {}",
            to.display()
        ));
    }
    assert!(
        problems.is_empty(),
        "{}\n{line}\nchaos:\n{}",
        problems.join("\n"),
        kills.log
    );
}
