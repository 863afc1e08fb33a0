//! Password hashing with bounds: at most `--hash-concurrency` bcrypt runs at
//! once, so a burst of sign-ups cannot starve chat traffic of CPU, and at
//! most `--hash-queue` requests waiting for a turn; the rest are told to come
//! back (503 `busy`). The number running and its peak are on `/metrics`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::web;
use chat_shared::names::Password;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

/// Seconds a request refused for lack of a turn is told to wait.
const COME_BACK_SECS: u64 = 1;

pub struct HashGate {
    cost: u32,
    turns: Arc<Semaphore>,
    max_waiting: usize,
    waiting: AtomicUsize,
    running: Arc<Running>,
}

/// Hashes running now, and the most there ever were at once.
#[derive(Default)]
struct Running {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// A turn at hashing: the permit and the count, given back when the hash is done.
struct Turn {
    _permit: OwnedSemaphorePermit,
    running: Arc<Running>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.running.now.fetch_sub(1, Ordering::Relaxed);
    }
}

impl HashGate {
    pub fn new(cost: u32, concurrency: usize, max_waiting: usize) -> Self {
        Self {
            cost,
            turns: Arc::new(Semaphore::new(concurrency.max(1))),
            max_waiting,
            waiting: AtomicUsize::new(0),
            running: Arc::default(),
        }
    }

    /// A bcrypt hash of `password` for storage.
    pub async fn hash(&self, password: Password) -> Result<String, AppError> {
        let cost = self.cost;
        self.run(move || crate::passwords::hash(password.expose(), cost))
            .await?
            .map_err(|_| AppError::Internal)
    }

    /// Whether `password` matches `stored`; with no stored hash (an unknown
    /// user) it is checked against a dummy, so timing does not tell.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        let cost = self.cost;
        self.run(move || {
            let stored = stored.unwrap_or_else(|| crate::passwords::dummy_hash(cost).to_owned());
            crate::passwords::verify(&password, &stored)
        })
        .await
    }

    /// Runs `work` on a blocking thread once a turn is free. The turn goes
    /// with the work, so a request given up by its client still holds it
    /// until its hash is done.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let turn = self.turn().await?;
        web::block(move || {
            let _turn = turn;
            work()
        })
        .await
        .map_err(|_| AppError::Internal)
    }

    async fn turn(&self) -> Result<Turn, AppError> {
        let permit = match self.turns.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::Relaxed);
                    tracing::debug!("password hashing is saturated; refusing a request");
                    return Err(AppError::Busy(COME_BACK_SECS));
                }
                let acquired = self.turns.clone().acquire_owned().await;
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                acquired.map_err(|_| AppError::Internal)?
            }
        };
        let now = self.running.now.fetch_add(1, Ordering::Relaxed) + 1;
        self.running.peak.fetch_max(now, Ordering::Relaxed);
        Ok(Turn {
            _permit: permit,
            running: self.running.clone(),
        })
    }

    /// Hashes running now.
    pub fn running(&self) -> usize {
        self.running.now.load(Ordering::Relaxed)
    }

    /// The most hashes that ever ran at once.
    pub fn peak(&self) -> usize {
        self.running.peak.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join_all;

    #[actix_rt::test]
    async fn no_more_than_the_cap_run_and_past_the_queue_requests_are_refused() {
        let gate = HashGate::new(4, 2, 3);
        let checks = (0..12).map(|i| gate.verify(format!("guess {i}"), None));
        let results = join_all(checks).await;
        assert!(gate.peak() <= 2, "peak {}", gate.peak());
        assert_eq!(gate.running(), 0);
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(AppError::Busy(_))))
            .count();
        assert_eq!(busy, 12 - 2 - 3, "two running, three waiting: {results:?}");
        assert!(results.iter().flatten().all(|valid| !valid));
    }
}
