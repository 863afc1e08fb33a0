//! Heartbeats for every connection of a thread from one timer. A connection
//! notes when it last heard from its peer; once a second the thread's
//! watcher looks at all of them at once, tells the few that have been silent
//! for a heartbeat to ping, and the ones silent past the timeout to close.
//! One timer per connection would wake the thread at a different moment
//! for each of them (a thousand wake-ups a second for 10,000 connections,
//! each a context switch); one per thread wakes it once a second, and the
//! pings due then go out together.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::load::clock_ms;

/// How often a thread's watcher looks at its connections.
const TICK: Duration = Duration::from_secs(1);

/// What the watcher tells a connection.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
#[rtype(result = "()")]
pub enum Beat {
    /// Silent for a heartbeat: ping the peer.
    Ping,
    /// Silent past the timeout: close.
    Silent,
}

/// When a connection last heard from its peer (`clock_ms`), shared with its
/// thread's watcher.
#[derive(Debug, Clone)]
pub struct Heard(Arc<AtomicU64>);

impl Heard {
    pub fn now() -> Self {
        Self(Arc::new(AtomicU64::new(clock_ms())))
    }

    /// The peer was heard from just now.
    pub fn heard(&self) {
        self.0.store(clock_ms(), Ordering::Relaxed);
    }

    fn at_ms(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// How the watcher times pings and drops.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Silence after which the peer is pinged (and pinged again).
    pub ping_after: Duration,
    /// Silence after which the connection closes.
    pub timeout: Duration,
}

struct Watched {
    heard: Heard,
    /// When it was last told to ping (`clock_ms`).
    pinged_ms: u64,
    beat: Recipient<Beat>,
}

/// The connections one thread runs, and how they are timed.
struct Watch {
    timing: Timing,
    connections: Vec<Watched>,
}

impl Watch {
    fn new(timing: Timing) -> Self {
        Self {
            timing,
            connections: Vec::new(),
        }
    }

    /// Tells every connection what its silence calls for at `now_ms`, and
    /// forgets the ones that stopped (or were told to close).
    fn sweep(&mut self, now_ms: u64) {
        let (ping_after, timeout) = (
            self.timing.ping_after.as_millis() as u64,
            self.timing.timeout.as_millis() as u64,
        );
        self.connections.retain_mut(|w| {
            if !w.beat.connected() {
                return false;
            }
            let silent = now_ms.saturating_sub(w.heard.at_ms());
            if silent > timeout {
                w.beat.do_send(Beat::Silent);
                return false;
            }
            if silent >= ping_after && now_ms.saturating_sub(w.pinged_ms) >= ping_after {
                w.beat.do_send(Beat::Ping);
                w.pinged_ms = now_ms;
            }
            true
        });
    }
}

thread_local! {
    static WATCH: RefCell<Option<Watch>> = const { RefCell::new(None) };
}

/// Watches a connection running on the current thread (an actix arbiter):
/// it is told `Beat`s until it stops. The first call on a thread starts its
/// watcher, which runs with that call's `timing`.
pub fn watch(heard: Heard, beat: Recipient<Beat>, timing: Timing) {
    WATCH.with(|w| {
        let mut w = w.borrow_mut();
        let watch = w.get_or_insert_with(|| {
            actix::spawn(run());
            Watch::new(timing)
        });
        watch.connections.push(Watched {
            heard,
            pinged_ms: 0,
            beat,
        });
    });
}

/// The thread's watcher: a sweep of its connections once a `TICK` (and
/// the thread's deliveries counted so far added to the metrics).
async fn run() {
    loop {
        actix_rt::time::sleep(TICK).await;
        crate::metrics::flush_delivered();
        WATCH.with(|w| {
            if let Some(watch) = w.borrow_mut().as_mut() {
                watch.sweep(clock_ms());
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Peer {
        beats: Vec<Beat>,
    }

    impl Actor for Peer {
        type Context = Context<Self>;
    }

    impl Handler<Beat> for Peer {
        type Result = ();
        fn handle(&mut self, beat: Beat, _: &mut Context<Self>) {
            self.beats.push(beat);
        }
    }

    #[derive(Message)]
    #[rtype(result = "Vec<Beat>")]
    struct Told;

    #[derive(Message)]
    #[rtype(result = "()")]
    struct Stop;

    impl Handler<Stop> for Peer {
        type Result = ();
        fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
            ctx.stop();
        }
    }

    impl Handler<Told> for Peer {
        type Result = Vec<Beat>;
        fn handle(&mut self, _: Told, _: &mut Context<Self>) -> Vec<Beat> {
            std::mem::take(&mut self.beats)
        }
    }

    const TIMING: Timing = Timing {
        ping_after: Duration::from_secs(20),
        timeout: Duration::from_secs(30),
    };

    fn heard_at(ms: u64) -> Heard {
        Heard(Arc::new(AtomicU64::new(ms)))
    }

    #[actix_rt::test]
    async fn a_silent_peer_is_pinged_once_a_heartbeat_and_closed_after_the_timeout() {
        let peer = Peer::default().start();
        let heard = heard_at(0);
        let mut watch = Watch::new(TIMING);
        watch.connections.push(Watched {
            heard: heard.clone(),
            pinged_ms: 0,
            beat: peer.clone().recipient(),
        });
        watch.sweep(19_000);
        assert_eq!(peer.send(Told).await.unwrap(), [], "not silent long enough");
        watch.sweep(20_000);
        watch.sweep(21_000);
        assert_eq!(peer.send(Told).await.unwrap(), [Beat::Ping], "pinged once");
        // It answered: silence starts again.
        heard.0.store(21_500, Ordering::Relaxed);
        watch.sweep(40_000);
        assert_eq!(peer.send(Told).await.unwrap(), []);
        watch.sweep(41_500);
        assert_eq!(peer.send(Told).await.unwrap(), [Beat::Ping]);
        watch.sweep(51_500);
        assert_eq!(
            peer.send(Told).await.unwrap(),
            [],
            "30 s to the byte is not past it"
        );
        watch.sweep(51_501);
        assert_eq!(peer.send(Told).await.unwrap(), [Beat::Silent]);
        assert!(
            watch.connections.is_empty(),
            "told to close, then forgotten"
        );
    }

    #[actix_rt::test]
    async fn a_stopped_connection_is_forgotten() {
        let peer = Peer::default().start();
        let mut watch = Watch::new(TIMING);
        watch.connections.push(Watched {
            heard: heard_at(0),
            pinged_ms: 0,
            beat: peer.clone().recipient(),
        });
        peer.send(Stop).await.unwrap();
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        watch.sweep(25_000);
        assert!(watch.connections.is_empty());
    }
}
