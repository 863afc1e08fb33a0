//! Many connections at once: accounts signed in, WebSockets opened with
//! bounded concurrency (each connect timed), and the connection tasks run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{stream, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::accounts::{self, Account};
use crate::conn::{self, Control, Role, Shared, Tally, Ws};
use crate::hist::{Histogram, Summary};

/// Where connection `i` goes: its server and account.
pub struct Target {
    pub server: usize,
    pub ws_url: String,
    pub cookie: String,
}

/// Signs in `users` accounts on the first server and spreads `count`
/// connections over the servers as `server_of(i)` says, accounts round-robin.
pub async fn plan(
    urls: &[String],
    count: usize,
    users: usize,
    login_concurrency: usize,
    server_of: impl Fn(usize) -> usize,
) -> anyhow::Result<(Vec<Account>, Vec<Target>)> {
    let users = users.clamp(1, count.max(1));
    let (accounts, took) =
        accounts::sign_in_all(&accounts::http_base(&urls[0]), users, login_concurrency).await?;
    let last = accounts.last().map_or("", |a| a.username.as_str());
    eprintln!(
        "signed in {} accounts (up to {last}) in {:.1}s",
        accounts.len(),
        took.as_secs_f64()
    );
    let targets = (0..count)
        .map(|i| {
            let server = server_of(i) % urls.len();
            Target {
                server,
                ws_url: accounts::ws_url(&urls[server]),
                cookie: accounts[i % users].cookie.clone(),
            }
        })
        .collect();
    Ok((accounts, targets))
}

/// Open sockets (index, socket) and how connecting went.
pub struct Opened {
    pub sockets: Vec<(usize, Ws)>,
    pub connect: Summary,
    pub failures: usize,
    pub elapsed: Duration,
}

/// Opens every target's WebSocket, at most `concurrency` handshakes at a time.
pub async fn open(targets: &[Target], concurrency: usize) -> Opened {
    let times = Histogram::default();
    let start = Instant::now();
    let mut failures = 0;
    let mut sockets = Vec::with_capacity(targets.len());
    let mut attempts = stream::iter(targets.iter().enumerate().map(|(i, t)| {
        let times = &times;
        async move {
            let began = Instant::now();
            let result = conn::connect(&t.ws_url, &t.cookie).await;
            times.record(began.elapsed().as_micros() as u64);
            (i, result)
        }
    }))
    .buffer_unordered(concurrency.max(1));
    while let Some((i, result)) = attempts.next().await {
        match result {
            Ok(ws) => sockets.push((i, ws)),
            Err(e) => {
                failures += 1;
                if failures <= 3 {
                    eprintln!("connection {i} failed: {e}");
                }
            }
        }
        let done = sockets.len() + failures;
        if done % 1000 == 0 {
            eprintln!("{done}/{} connections attempted", targets.len());
        }
    }
    drop(attempts);
    Opened {
        sockets,
        connect: times.take().summary(),
        failures,
        elapsed: start.elapsed(),
    }
}

/// Running connection tasks and the switches that drive them.
pub struct Running {
    pub rate: watch::Sender<f64>,
    pub stop: watch::Sender<bool>,
    pub tasks: Vec<JoinHandle<Tally>>,
}

impl Running {
    /// Starts a task per socket with the role `role_of(index)` gives.
    pub fn start(
        sockets: Vec<(usize, Ws)>,
        shared: &Arc<Shared>,
        role_of: impl Fn(usize) -> Role,
    ) -> Self {
        let (rate, rate_rx) = watch::channel(0.0);
        let (stop, stop_rx) = watch::channel(false);
        let tasks = sockets
            .into_iter()
            .map(|(i, ws)| {
                let control = Control {
                    rate: rate_rx.clone(),
                    stop: stop_rx.clone(),
                };
                tokio::spawn(conn::run(ws, role_of(i), shared.clone(), control))
            })
            .collect();
        Running { rate, stop, tasks }
    }

    /// Waits until `count` connections have joined their rooms (or the deadline).
    pub async fn joined(&self, shared: &Shared, count: usize, wait: Duration) -> usize {
        let deadline = Instant::now() + wait;
        loop {
            let joined = shared
                .stats
                .joined
                .load(std::sync::atomic::Ordering::Relaxed);
            if joined >= count || Instant::now() > deadline {
                return joined;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops every connection and adds up what they received.
    pub async fn finish(self) -> Tally {
        let _ = self.stop.send(true);
        let mut total = Tally::default();
        for t in self.tasks {
            if let Ok(tally) = t.await {
                total.unique += tally.unique;
                total.duplicates += tally.duplicates;
            }
        }
        total
    }
}
