//! The bot's gate to the quote services: at most `per_second` requests in
//! any second, the waiting served in turn by who asked (round robin, so one
//! person asking for many codes does not hold up everyone else), and a
//! quick "busy" instead of a queue that would outlast anyone's patience.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// Seconds of waiting the gate queues at most: past that, "busy".
pub const MAX_WAIT_SECS: u32 = 2;

/// Too many are waiting: ask again in a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Requests to an upstream service, spaced and queued fairly. Lives on one
/// thread (the bot's actix system).
pub struct Gate {
    per_second: usize,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// When the requests of the last second went out.
    sent: VecDeque<Instant>,
    /// Who waits, in turn; each asker's waiting requests.
    turns: VecDeque<String>,
    waiting: HashMap<String, VecDeque<oneshot::Sender<()>>>,
    queued: usize,
    pumping: bool,
}

impl State {
    fn forget_before(&mut self, now: Instant) {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.sent.pop_front();
        }
    }

    /// The next waiter, taking turns by asker.
    fn next_waiter(&mut self) -> Option<oneshot::Sender<()>> {
        let who = self.turns.pop_front()?;
        let queue = self.waiting.get_mut(&who)?;
        let next = queue.pop_front();
        if queue.is_empty() {
            self.waiting.remove(&who);
        } else {
            self.turns.push_back(who);
        }
        self.queued -= 1;
        next
    }
}

impl Gate {
    /// At most `per_second` requests per second (at least 1).
    pub fn new(per_second: u32) -> Rc<Self> {
        Rc::new(Self {
            per_second: per_second.max(1) as usize,
            state: RefCell::new(State::default()),
        })
    }

    /// Most requests that may wait at once.
    fn max_queued(&self) -> usize {
        self.per_second * MAX_WAIT_SECS as usize
    }

    /// Waits for a turn to send one request for `who`; `Busy` at once when
    /// the queue is full or `who` already waits for a second's worth.
    pub async fn admit(self: &Rc<Self>, who: &str) -> Result<(), Busy> {
        let turn = {
            let mut state = self.state.borrow_mut();
            let now = Instant::now();
            state.forget_before(now);
            if state.queued == 0 && state.sent.len() < self.per_second {
                state.sent.push_back(now);
                return Ok(());
            }
            let mine = state.waiting.get(who).map_or(0, VecDeque::len);
            if state.queued >= self.max_queued() || mine >= self.per_second {
                return Err(Busy);
            }
            let (tx, rx) = oneshot::channel();
            if mine == 0 {
                state.turns.push_back(who.to_owned());
            }
            state
                .waiting
                .entry(who.to_owned())
                .or_default()
                .push_back(tx);
            state.queued += 1;
            if !state.pumping {
                state.pumping = true;
                actix_rt::spawn(self.clone().pump());
            }
            rx
        };
        turn.await.map_err(|_| Busy)
    }

    /// Lets the waiting through as the rate allows, until none wait.
    async fn pump(self: Rc<Self>) {
        loop {
            let pause = {
                let mut state = self.state.borrow_mut();
                let now = Instant::now();
                state.forget_before(now);
                if state.queued == 0 {
                    state.pumping = false;
                    return;
                }
                if state.sent.len() < self.per_second {
                    if let Some(waiter) = state.next_waiter() {
                        // One whose asker gave up takes no slot.
                        if waiter.send(()).is_ok() {
                            state.sent.push_back(now);
                        }
                    }
                    continue;
                }
                let oldest = *state.sent.front().expect("a full second has a first");
                (oldest + Duration::from_secs(1)).saturating_duration_since(now)
            };
            tokio::time::sleep(pause).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn at_most_the_rate_goes_out_in_any_second() {
        let gate = Gate::new(5);
        let started = Instant::now();
        let mut sent = Vec::new();
        let asks = (0..10).map(|i| {
            let gate = gate.clone();
            async move {
                let r = gate.admit(&format!("user{i}")).await;
                (r, started.elapsed())
            }
        });
        for (r, at) in futures::future::join_all(asks).await {
            assert_eq!(r, Ok(()));
            sent.push(at);
        }
        sent.sort();
        assert!(sent[4] < Duration::from_millis(200), "{sent:?}");
        assert!(
            sent[5] >= Duration::from_millis(990),
            "the sixth waits a second: {sent:?}"
        );
    }

    #[actix_rt::test]
    async fn a_full_queue_is_busy_and_askers_take_turns() {
        let gate = Gate::new(2);
        // Two go at once; one asker then queues two (its most), a third is busy.
        assert_eq!(gate.admit("a").await, Ok(()));
        assert_eq!(gate.admit("a").await, Ok(()));
        let order = Rc::new(RefCell::new(Vec::new()));
        let ask = |who: &'static str| {
            let (gate, order) = (gate.clone(), order.clone());
            actix_rt::spawn(async move {
                let r = gate.admit(who).await;
                order.borrow_mut().push((who, r));
            })
        };
        let mut waits = vec![ask("a"), ask("a")];
        tokio::task::yield_now().await;
        assert_eq!(
            gate.admit("a").await,
            Err(Busy),
            "a waits for a second's worth already"
        );
        waits.push(ask("b"));
        waits.push(ask("c"));
        tokio::task::yield_now().await;
        assert_eq!(
            gate.admit("d").await,
            Err(Busy),
            "the queue holds 2 s of requests"
        );
        for w in waits {
            w.await.unwrap();
        }
        let served: Vec<_> = order.borrow().iter().map(|(w, r)| (*w, *r)).collect();
        assert_eq!(
            served,
            vec![("a", Ok(())), ("b", Ok(())), ("c", Ok(())), ("a", Ok(()))],
            "b and c are not held up behind a's second request"
        );
    }
}
