//! Posts on their way to durable storage. Each is answered (delivered and
//! acknowledged, or refused) only once it and every post accepted before it
//! in the channel are settled, so members see the channel's messages in the
//! order they were accepted, however the stores answer.

use std::collections::VecDeque;

/// Posts accepted and not yet answered, in the order they were accepted.
#[derive(Debug)]
pub struct InFlight<P, O> {
    next: u64,
    queue: VecDeque<Entry<P, O>>,
}

#[derive(Debug)]
struct Entry<P, O> {
    seq: u64,
    post: P,
    outcome: Option<O>,
}

impl<P, O> Default for InFlight<P, O> {
    fn default() -> Self {
        Self {
            next: 0,
            queue: VecDeque::new(),
        }
    }
}

impl<P, O> InFlight<P, O> {
    /// Takes a post; its number, for `settle`.
    pub fn push(&mut self, post: P) -> u64 {
        let seq = self.next;
        self.next += 1;
        self.queue.push_back(Entry {
            seq,
            post,
            outcome: None,
        });
        seq
    }

    /// Posts waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Records how post `seq` ended; returns every post now ready to be
    /// answered, oldest first: the settled ones with no unsettled one before.
    pub fn settle(&mut self, seq: u64, outcome: O) -> Vec<(P, O)> {
        if let Some(entry) = self.queue.iter_mut().find(|e| e.seq == seq) {
            entry.outcome = Some(outcome);
        }
        let mut ready = Vec::new();
        while self.queue.front().is_some_and(|e| e.outcome.is_some()) {
            let Some(Entry {
                post,
                outcome: Some(outcome),
                ..
            }) = self.queue.pop_front()
            else {
                break;
            };
            ready.push((post, outcome));
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_are_answered_in_the_order_they_were_accepted() {
        let mut f = InFlight::default();
        let (a, b, c) = (f.push("a"), f.push("b"), f.push("c"));
        assert!(f.settle(c, 3).is_empty(), "c waits for a and b");
        assert!(f.settle(b, 2).is_empty(), "b waits for a");
        assert_eq!(f.settle(a, 1), vec![("a", 1), ("b", 2), ("c", 3)]);
        assert_eq!(f.len(), 0);
        let d = f.push("d");
        assert_eq!(f.settle(d, 4), vec![("d", 4)]);
    }
}
