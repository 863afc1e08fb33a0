//! What the chaos test and its clients share: the phases of a run, what a
//! client sent and holds, and the quote commands it sends.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Instant;

/// What the test asks of every client, in this order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Join and wait.
    Starting,
    /// Send on schedule.
    Sending,
    /// Send nothing new; finish what is unacknowledged, until the deadline.
    Draining,
    /// Reconnect once more, rejoin with `since`, and stop.
    Final,
}

/// Shared by the test and its clients (one thread).
pub struct Control {
    phase: Cell<Phase>,
    pub(super) started: Cell<Option<Instant>>,
    drain_until: Cell<Option<Instant>>,
    /// Clients that have joined once, and clients done draining.
    pub joined: Cell<usize>,
    pub drained: Cell<usize>,
}

impl Control {
    pub fn new() -> Rc<Self> {
        Rc::new(Control {
            phase: Cell::new(Phase::Starting),
            started: Cell::new(None),
            drain_until: Cell::new(None),
            joined: Cell::new(0),
            drained: Cell::new(0),
        })
    }

    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    pub fn start_sending(&self) {
        self.started.set(Some(Instant::now()));
        self.phase.set(Phase::Sending);
    }

    /// Stops new sends; what is unacknowledged at `until` is never acked.
    pub fn drain(&self, until: Instant) {
        self.drain_until.set(Some(until));
        self.phase.set(Phase::Draining);
    }

    pub fn finish(&self) {
        self.phase.set(Phase::Final);
    }

    pub(super) fn drain_over(&self) -> bool {
        self.drain_until.get().is_some_and(|t| Instant::now() >= t)
    }
}

/// One message a client sent, in send order.
pub struct Sent {
    pub text: String,
    pub reference: String,
    /// The id from its ack; `None` if it was never acknowledged.
    pub id: Option<String>,
}

/// A message as the client holds it.
pub struct Viewed {
    pub user: String,
    pub text: String,
}

/// What happened to a client's connections.
#[derive(Default)]
pub struct Stats {
    pub connections: u32,
    pub drops: u32,
    /// Upgrades refused, by HTTP status.
    pub refused: BTreeMap<u16, u32>,
    /// `error` frames by code.
    pub errors: BTreeMap<String, u32>,
    pub resends: u32,
    /// Whether the last reconnection and `since` join worked.
    pub final_join: bool,
    /// The `since` of every join after the first, in order.
    pub rejoins: Vec<String>,
    /// What happened to its connections, in order (shown when its view
    /// misses something).
    pub trail: Vec<String>,
}

/// The `k`th quote command of a client: `/stock=aapl.us` written one of 128
/// ways (the code's case, `=` or a space), so that no two of a client's
/// messages have the same text and a duplicate shows as one.
pub fn command(k: usize) -> String {
    let mut letter = 0;
    let code: String = "aapl.us"
        .chars()
        .map(|c| {
            if !c.is_ascii_alphabetic() {
                return c;
            }
            letter += 1;
            if (k >> (letter - 1)) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    let separator = if (k >> 6) & 1 == 1 { ' ' } else { '=' };
    format!("/stock{separator}{code}")
}

/// How many of each (user, text) a view holds.
pub fn texts(view: &BTreeMap<String, Viewed>) -> HashMap<(&str, &str), usize> {
    let mut counts = HashMap::new();
    for viewed in view.values() {
        *counts
            .entry((viewed.user.as_str(), viewed.text.as_str()))
            .or_default() += 1;
    }
    counts
}
