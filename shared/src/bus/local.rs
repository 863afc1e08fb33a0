//! The in-process bus of embedded mode, with the NATS semantics the system
//! relies on: wildcards, queue groups, request/reply, no-responders.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::pattern::{is_valid_pattern, is_valid_subject, matches};
use super::{Bus, BusError, Envelope, Headers, StoredAt, Subscription};

/// How many messages a subscriber may have waiting. A publisher to a full
/// subscriber waits for room, so nothing is dropped in-process.
const SUBSCRIBER_QUEUE: usize = 8192;

struct Sub {
    id: u64,
    pattern: String,
    queue: Option<String>,
    tx: mpsc::Sender<Envelope>,
}

/// The subscriptions, found by subject: those to one subject (most of them:
/// a channel's messages, a person's frames) by that subject, so that a
/// publish costs the same with ten thousand people connected as with ten;
/// those with wildcards (a few services) tried one by one.
#[derive(Default)]
struct Subs {
    exact: HashMap<String, Vec<Arc<Sub>>>,
    wild: Vec<Arc<Sub>>,
}

impl Subs {
    fn add(&mut self, sub: Arc<Sub>) {
        match has_wildcard(&sub.pattern) {
            true => self.wild.push(sub),
            false => self.exact.entry(sub.pattern.clone()).or_default().push(sub),
        }
    }

    fn remove(&mut self, id: u64, pattern: &str) {
        if has_wildcard(pattern) {
            self.wild.retain(|s| s.id != id);
        } else if let Some(subs) = self.exact.get_mut(pattern) {
            subs.retain(|s| s.id != id);
            if subs.is_empty() {
                self.exact.remove(pattern);
            }
        }
    }

    /// Every subscription whose pattern matches `subject`.
    fn matching<'a>(&'a self, subject: &'a str) -> impl Iterator<Item = &'a Arc<Sub>> {
        let exact = self.exact.get(subject).into_iter().flatten();
        exact.chain(
            self.wild
                .iter()
                .filter(move |s| matches(&s.pattern, subject)),
        )
    }
}

fn has_wildcard(pattern: &str) -> bool {
    pattern.split('.').any(|t| t == "*" || t == ">")
}

#[derive(Default)]
struct Inner {
    subs: RwLock<Subs>,
    next_id: AtomicU64,
    round_robin: AtomicUsize,
}

impl Inner {
    fn remove(&self, id: u64, pattern: &str) {
        if let Ok(mut subs) = self.subs.write() {
            subs.remove(id, pattern);
        }
    }

    /// The subscribers a message on `subject` goes to: every plain subscriber
    /// and one member of each queue group.
    fn targets(&self, subject: &str) -> Vec<mpsc::Sender<Envelope>> {
        let subs = self.subs.read().expect("bus lock is never poisoned");
        let mut out = Vec::new();
        let mut groups: HashMap<&str, Vec<&Arc<Sub>>> = HashMap::new();
        for s in subs.matching(subject) {
            match &s.queue {
                None => out.push(s.tx.clone()),
                Some(q) => groups.entry(q.as_str()).or_default().push(s),
            }
        }
        for members in groups.values() {
            let live: Vec<_> = members.iter().filter(|s| !s.tx.is_closed()).collect();
            if !live.is_empty() {
                let n = self.round_robin.fetch_add(1, Ordering::Relaxed);
                out.push(live[n % live.len()].tx.clone());
            }
        }
        out
    }
}

/// An in-process bus. Clones share the same subscribers.
#[derive(Clone, Default)]
pub struct LocalBus {
    inner: Arc<Inner>,
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&self, pattern: &str, queue: Option<&str>) -> Result<Subscription, BusError> {
        if !is_valid_pattern(pattern) {
            return Err(BusError::InvalidSubject(pattern.to_owned()));
        }
        let (tx, rx) = mpsc::channel(SUBSCRIBER_QUEUE);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let sub = Arc::new(Sub {
            id,
            pattern: pattern.to_owned(),
            queue: queue.map(str::to_owned),
            tx,
        });
        self.inner
            .subs
            .write()
            .expect("bus lock is never poisoned")
            .add(sub);
        let guard = Unsubscribe {
            inner: Arc::downgrade(&self.inner),
            id,
            pattern: pattern.to_owned(),
        };
        let stream = tokio_stream_from(rx).map(move |e| {
            let _keep = &guard;
            e
        });
        Ok(Subscription::new(stream))
    }

    async fn deliver(&self, envelope: Envelope) -> Result<usize, BusError> {
        if !is_valid_subject(&envelope.subject) {
            return Err(BusError::InvalidSubject(envelope.subject));
        }
        let targets = self.inner.targets(&envelope.subject);
        let n = targets.len();
        for tx in targets {
            // A subscriber that went away in the meantime just misses it, as in NATS.
            let _ = tx.send(envelope.clone()).await;
        }
        Ok(n)
    }
}

/// Removes a subscription when its stream is dropped.
struct Unsubscribe {
    inner: Weak<Inner>,
    id: u64,
    pattern: String,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.remove(self.id, &self.pattern);
        }
    }
}

fn tokio_stream_from(mut rx: mpsc::Receiver<Envelope>) -> impl futures::Stream<Item = Envelope> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[async_trait]
impl Bus for LocalBus {
    async fn publish(
        &self,
        subject: &str,
        headers: Headers,
        payload: Bytes,
    ) -> Result<(), BusError> {
        let envelope = Envelope {
            subject: subject.to_owned(),
            reply: None,
            headers,
            payload,
        };
        self.deliver(envelope).await.map(drop)
    }

    async fn publish_stored(
        &self,
        _subject: &str,
        _headers: Headers,
        _payload: Bytes,
    ) -> Result<StoredAt, BusError> {
        Err(BusError::Unavailable(
            "the in-process bus keeps no stream".to_owned(),
        ))
    }

    async fn stored(&self, _stream: &str, _sequence: u64) -> Result<Envelope, BusError> {
        Err(BusError::Unavailable(
            "the in-process bus keeps no stream".to_owned(),
        ))
    }

    async fn publish_with_reply(
        &self,
        subject: &str,
        reply: &str,
        payload: Bytes,
    ) -> Result<(), BusError> {
        let envelope = Envelope {
            subject: subject.to_owned(),
            reply: Some(reply.to_owned()),
            headers: Vec::new(),
            payload,
        };
        self.deliver(envelope).await.map(drop)
    }

    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError> {
        self.add(pattern, None)
    }

    async fn subscribe_stored(
        &self,
        _stream: &str,
        subject: &str,
    ) -> Result<Subscription, BusError> {
        self.add(subject, None)
    }

    async fn queue_subscribe(&self, pattern: &str, queue: &str) -> Result<Subscription, BusError> {
        self.add(pattern, Some(queue))
    }

    async fn request(
        &self,
        subject: &str,
        headers: Headers,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Envelope, BusError> {
        let inbox = format!("_INBOX.{}", crate::message::next_id());
        let mut replies = self.add(&inbox, None)?;
        let envelope = Envelope {
            subject: subject.to_owned(),
            reply: Some(inbox),
            headers,
            payload,
        };
        if self.deliver(envelope).await? == 0 {
            return Err(BusError::NoResponders(subject.to_owned()));
        }
        tokio::time::timeout(timeout, replies.next())
            .await
            .ok()
            .flatten()
            .ok_or_else(|| BusError::Timeout(subject.to_owned()))
    }

    fn is_connected(&self) -> bool {
        true
    }

    async fn flush(&self) -> Result<(), BusError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn next(sub: &mut Subscription) -> Option<Envelope> {
        tokio::time::timeout(Duration::from_millis(200), sub.next())
            .await
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn wildcard_subscribers_each_get_a_copy() {
        let bus = LocalBus::new();
        let mut all = bus.subscribe("chat.>").await.unwrap();
        let mut msgs = bus.subscribe("chat.msg.*").await.unwrap();
        let mut other = bus.subscribe("chat.msg.other").await.unwrap();
        bus.publish(
            "chat.msg.general",
            vec![("Chat-Origin".into(), "s1".into())],
            "x".into(),
        )
        .await
        .unwrap();
        let e = next(&mut all).await.unwrap();
        assert_eq!(e.subject, "chat.msg.general");
        assert_eq!(e.header("Chat-Origin"), Some("s1"));
        assert_eq!(next(&mut msgs).await.unwrap().payload, "x");
        assert!(next(&mut other).await.is_none());
    }

    #[tokio::test]
    async fn a_queue_group_gets_each_message_once() {
        let bus = LocalBus::new();
        let mut a = bus.queue_subscribe("chat.cmd.stock", "bot").await.unwrap();
        let mut b = bus.queue_subscribe("chat.cmd.stock", "bot").await.unwrap();
        let mut watcher = bus.subscribe("chat.cmd.*").await.unwrap();
        for i in 0..10 {
            bus.publish("chat.cmd.stock", vec![], format!("{i}").into())
                .await
                .unwrap();
        }
        let mut got = Vec::new();
        while let Some(e) = next(&mut a).await {
            got.push(e.payload);
        }
        let from_a = got.len();
        while let Some(e) = next(&mut b).await {
            got.push(e.payload);
        }
        got.sort();
        assert_eq!(got.len(), 10, "each message exactly once across the group");
        got.dedup();
        assert_eq!(got.len(), 10);
        assert!(from_a > 0 && from_a < 10, "both members share the work");
        for _ in 0..10 {
            assert!(
                next(&mut watcher).await.is_some(),
                "plain subscribers see all"
            );
        }
    }

    #[tokio::test]
    async fn dropping_a_subscription_unsubscribes() {
        let bus = LocalBus::new();
        let (plain, wild) = (
            bus.subscribe("a.b").await.unwrap(),
            bus.subscribe("a.*").await.unwrap(),
        );
        drop((plain, wild));
        let subs = bus.inner.subs.read().unwrap();
        assert!(subs.exact.is_empty() && subs.wild.is_empty());
    }

    #[tokio::test]
    async fn a_subject_reaches_its_own_subscribers_and_the_wildcards_among_thousands_of_others() {
        let bus = LocalBus::new();
        let mut others = Vec::new();
        for i in 0..2000 {
            others.push(bus.subscribe(&format!("chat.user.v{i}")).await.unwrap());
        }
        let mut one = bus.subscribe("chat.user.u7").await.unwrap();
        let mut again = bus.subscribe("chat.user.u7").await.unwrap();
        let mut wild = bus.subscribe("chat.user.*").await.unwrap();
        let mut tail = bus.subscribe("chat.>").await.unwrap();
        assert_eq!(
            bus.deliver(Envelope {
                subject: "chat.user.u7".into(),
                reply: None,
                headers: vec![],
                payload: Bytes::from_static(b"hi"),
            })
            .await
            .unwrap(),
            4
        );
        for sub in [&mut one, &mut again, &mut wild, &mut tail] {
            assert_eq!(next(sub).await.unwrap().payload, "hi");
        }
        drop(again);
        bus.publish("chat.user.u7", vec![], Bytes::new())
            .await
            .unwrap();
        assert!(
            next(&mut one).await.is_some(),
            "one of two gone: the other stays"
        );
    }

    #[tokio::test]
    async fn request_reply_and_no_responders() {
        let bus = LocalBus::new();
        assert!(matches!(
            bus.request("svc.x", Vec::new(), "q".into(), Duration::from_millis(100))
                .await,
            Err(BusError::NoResponders(_))
        ));
        let mut svc = bus.queue_subscribe("svc.*", "g").await.unwrap();
        let server = bus.clone();
        tokio::spawn(async move {
            let req = svc.next().await.unwrap();
            let answer = format!("re:{}", String::from_utf8_lossy(&req.payload));
            super::super::respond(&server, &req, answer.into())
                .await
                .unwrap();
        });
        let reply = bus
            .request("svc.x", Vec::new(), "q".into(), Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(reply.payload, "re:q");
    }

    #[tokio::test]
    async fn invalid_subjects_are_refused() {
        let bus = LocalBus::new();
        assert!(bus.publish("chat.*", vec![], Bytes::new()).await.is_err());
        assert!(bus.subscribe("chat..x").await.is_err());
    }
}
