//! The chaos: every 2–4 s one random process (a chat server, a NATS node, an
//! archiver or a bot) is killed with SIGKILL and started again about a second
//! later, as it was (same ports, same NATS store, same database); once, in
//! the middle, PostgreSQL is stopped for about 2 s instead. One thing is down
//! at a time: the next kill waits until the last victim is back.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Rng;
use crate::support::cluster::Cluster;
use crate::support::pg::PrivatePg;

/// What the chaos did.
#[derive(Default)]
pub struct Kills {
    pub servers: u32,
    pub nats: u32,
    pub archivers: u32,
    pub bots: u32,
    pub pg_restarts: u32,
    /// One line per action, with its time from the start.
    pub log: String,
}

#[derive(Clone, Copy, Debug)]
enum Victim {
    Server(usize),
    Nats(usize),
    Archiver(usize),
    Bot(usize),
}

/// Any one process of the cluster, each as likely.
fn pick(cluster: &Cluster, rng: &mut Rng) -> Victim {
    let counts = [
        cluster.servers.len(),
        cluster.nats.len(),
        cluster.archivers.len(),
        cluster.bots.len(),
    ];
    let mut i = rng.below(counts.iter().sum::<usize>() as u64) as usize;
    for (kind, n) in counts.into_iter().enumerate() {
        if i < n {
            return match kind {
                0 => Victim::Server(i),
                1 => Victim::Nats(i),
                2 => Victim::Archiver(i),
                _ => Victim::Bot(i),
            };
        }
        i -= n;
    }
    unreachable!("i is below the sum of the counts")
}

/// Kills `victim` at once (SIGKILL) and counts it.
fn kill(cluster: &mut Cluster, victim: Victim, kills: &mut Kills) {
    match victim {
        Victim::Server(i) => {
            cluster.servers[i].proc.kill();
            kills.servers += 1;
        }
        Victim::Nats(i) => {
            cluster.nats[i].kill();
            kills.nats += 1;
        }
        Victim::Archiver(i) => {
            cluster.archivers[i].kill();
            kills.archivers += 1;
        }
        Victim::Bot(i) => {
            cluster.bots[i].kill();
            kills.bots += 1;
        }
    }
}

/// Starts `victim` again as it was; returns once it is ready.
async fn restart(cluster: &mut Cluster, victim: Victim) {
    match victim {
        Victim::Server(i) => cluster.restart_server(i).await,
        Victim::Nats(i) => cluster.nats[i].restart().await,
        Victim::Archiver(i) => cluster.restart_archiver(i).await,
        Victim::Bot(i) => cluster.restart_bot(i).await,
    }
}

/// Stops PostgreSQL for about 2 s (off this thread: `pg_ctl` blocks).
async fn restart_pg(pg: &Arc<PrivatePg>) {
    let stopping = Arc::clone(pg);
    actix_rt::task::spawn_blocking(move || stopping.stop())
        .await
        .expect("pg_ctl stop ran");
    actix_rt::time::sleep(Duration::from_secs(2)).await;
    let starting = Arc::clone(pg);
    actix_rt::task::spawn_blocking(move || starting.start_again())
        .await
        .expect("pg_ctl start ran");
}

/// Runs the chaos for `length`, then returns with every process running.
pub async fn run(
    cluster: &mut Cluster,
    pg: &Arc<PrivatePg>,
    rng: &mut Rng,
    length: Duration,
) -> Kills {
    let start = Instant::now();
    let end = start + length;
    let pg_at = start + length / 2;
    let mut kills = Kills::default();
    let mut next = start + rng.between(Duration::from_secs(2), Duration::from_secs(4));
    while next < end {
        actix_rt::time::sleep_until(next.into()).await;
        let at = start.elapsed().as_secs_f64();
        if kills.pg_restarts == 0 && Instant::now() >= pg_at {
            restart_pg(pg).await;
            kills.pg_restarts += 1;
            let _ = writeln!(kills.log, "{at:6.1}s postgres restarted");
        } else {
            let victim = pick(cluster, rng);
            kill(cluster, victim, &mut kills);
            actix_rt::time::sleep(Duration::from_secs(1)).await;
            let back = Instant::now();
            restart(cluster, victim).await;
            let took = back.elapsed().as_secs_f64();
            let _ = writeln!(
                kills.log,
                "{at:6.1}s killed {victim:?}, back {took:.1}s after its restart"
            );
        }
        let gap = rng.between(Duration::from_secs(2), Duration::from_secs(4));
        next = (next + gap).max(Instant::now() + Duration::from_millis(500));
    }
    kills
}
