//! Other servers of the cluster and when each was last heard from: a server
//! silent for longer than `GONE_AFTER` is gone, and its users with it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often a server says it is alive.
pub const BEAT: Duration = Duration::from_secs(5);
/// How long a server may stay silent before the others count it gone.
pub const GONE_AFTER: Duration = Duration::from_secs(15);

#[derive(Default)]
pub struct Peers {
    last_heard: HashMap<String, Instant>,
}

impl Peers {
    /// `server` beat at `now`; whether it was new here.
    pub fn heard(&mut self, server: String, now: Instant) -> bool {
        self.last_heard.insert(server, now).is_none()
    }

    /// `server` was seen in a channel; watched from `now` if it is new.
    pub fn seen(&mut self, server: String, now: Instant) {
        self.last_heard.entry(server).or_insert(now);
    }

    /// Every server heard from and not gone yet.
    pub fn ids(&self) -> Vec<String> {
        self.last_heard.keys().cloned().collect()
    }

    /// Forgets and returns the servers silent for longer than `GONE_AFTER`.
    pub fn take_gone(&mut self, now: Instant) -> Vec<String> {
        let gone: Vec<String> = self
            .last_heard
            .iter()
            .filter(|(_, heard)| now.duration_since(**heard) > GONE_AFTER)
            .map(|(server, _)| server.clone())
            .collect();
        for server in &gone {
            self.last_heard.remove(server);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_gone_only_after_a_silence_longer_than_gone_after() {
        let start = Instant::now();
        let mut peers = Peers::default();
        peers.heard("srv-a".into(), start);
        peers.seen("srv-b".into(), start);
        assert!(peers.take_gone(start + GONE_AFTER).is_empty());
        peers.heard("srv-a".into(), start + GONE_AFTER);
        let gone = peers.take_gone(start + GONE_AFTER + BEAT);
        assert_eq!(gone, vec!["srv-b".to_owned()]);
        assert!(
            peers.take_gone(start + GONE_AFTER + BEAT).is_empty(),
            "forgotten once gone"
        );
    }

    #[test]
    fn being_seen_in_a_channel_does_not_refresh_a_known_server() {
        let start = Instant::now();
        let mut peers = Peers::default();
        peers.heard("srv-a".into(), start);
        peers.seen("srv-a".into(), start + GONE_AFTER);
        assert_eq!(
            peers.take_gone(start + GONE_AFTER + BEAT),
            vec!["srv-a".to_owned()]
        );
    }
}
