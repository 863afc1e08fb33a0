//! Micro-benchmark of the fan-out path as the server runs it: a member posts
//! to a `ChannelActor`, which serializes the message once, queues it for the
//! bus and hands the same bytes to every member's mailbox; the members are
//! actors on another thread, as sessions live on worker arbiters. One
//! iteration ends when every member has the message. Run with
//! `cargo bench -p chat-bench --bench fanout`.

// A benchmark: a failure here is a broken setup, reported by panicking.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chat_server::actors::channel::{BusLink, ChannelActor, ChannelIdle, Join, PeerSeen, Post};
use chat_server::actors::outbox::Outbox;
use chat_server::actors::{ChannelFrame, FellBehind};
use chat_server::durable::{Committer, Durability};
use chat_server::publisher::Publisher;
use chat_shared::bus::{Bus, BusKey, LocalBus};
use chat_shared::names::{ChannelName, MessageText};
use chat_shared::store::{SqliteStore, Store};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tokio::sync::Notify;

/// Counts deliveries; the last expected one wakes the benchmark.
struct Member {
    seen: Arc<AtomicUsize>,
    expected: usize,
    all_in: Arc<Notify>,
}

impl Actor for Member {
    type Context = Context<Self>;
}

impl Handler<ChannelFrame> for Member {
    type Result = ();
    fn handle(&mut self, d: ChannelFrame, _: &mut Context<Self>) {
        std::hint::black_box(d.frame.len());
        if self.seen.fetch_add(1, Ordering::AcqRel) + 1 == self.expected {
            self.all_in.notify_one();
        }
    }
}

impl Handler<FellBehind> for Member {
    type Result = ();
    fn handle(&mut self, _: FellBehind, _: &mut Context<Self>) {
        panic!("a member was evicted: the benchmark outran its mailbox");
    }
}

/// Stands in for the registry.
struct Registry;

impl Actor for Registry {
    type Context = Context<Self>;
}

impl Handler<ChannelIdle> for Registry {
    type Result = ();
    fn handle(&mut self, _: ChannelIdle, _: &mut Context<Self>) {}
}

impl Handler<PeerSeen> for Registry {
    type Result = ();
    fn handle(&mut self, _: PeerSeen, _: &mut Context<Self>) {}
}

struct Room {
    channel: Addr<ChannelActor>,
    seen: Arc<AtomicUsize>,
    all_in: Arc<Notify>,
    text: MessageText,
    _members: Arbiter,
    /// Where posts are committed before they are delivered, as in embedded mode.
    _db: tempfile::TempDir,
}

async fn room(members: usize) -> Room {
    let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
    let db = tempfile::tempdir().expect("a temp dir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&db.path().join("chat.db")).expect("a database"));
    let link = BusLink {
        bus: bus.clone(),
        publisher: Publisher::start(bus.clone()),
        server_id: Arc::from("bench"),
        key: BusKey::derive(&[0; 64]),
        rejected: Arc::default(),
        durability: Durability::Database(Committer::start(store), bus),
    };
    let registry = Registry.start();
    let channel = ChannelActor::new(
        ChannelName::general(),
        link,
        registry.clone().recipient(),
        registry.recipient(),
    )
    .start();
    let arbiter = Arbiter::new();
    let seen = Arc::new(AtomicUsize::new(0));
    let all_in = Arc::new(Notify::new());
    for session in 0..members {
        let (seen, all_in) = (seen.clone(), all_in.clone());
        let member = Member::start_in_arbiter(&arbiter.handle(), move |_| Member {
            seen,
            expected: members,
            all_in,
        });
        channel
            .send(Join {
                conn: session as u64,
                user: Arc::from(format!("user{session}")),
                frames: member.clone().recipient(),
                fell_behind: member.recipient(),
                outbox: Outbox::new(
                    usize::MAX,
                    chat_server::load::Load::new(Duration::from_secs(1), Duration::from_secs(1)),
                ),
            })
            .await
            .unwrap();
    }
    Room {
        channel,
        seen,
        all_in,
        text: MessageText::parse(
            "b0000beef 0 3 1234 1764000000000000 a message of ordinary length",
        )
        .unwrap(),
        _members: arbiter,
        _db: db,
    }
}

impl Room {
    /// Posts one message and waits until every member has it.
    async fn post_and_deliver(&self) {
        self.seen.store(0, Ordering::Release);
        self.channel
            .send(Post {
                conn: 0,
                text: self.text.clone(),
                reference: None,
                reply_to: None,
                mentions: Vec::new(),
            })
            .await
            .unwrap()
            .expect("the post is accepted");
        self.all_in.notified().await;
    }
}

fn fan_out(c: &mut Criterion) {
    let system = System::new();
    let mut group = c.benchmark_group("fan_out_one_message");
    for members in [10, 100, 1000] {
        let room = system.block_on(room(members));
        group.throughput(Throughput::Elements(members as u64));
        group.bench_with_input(BenchmarkId::from_parameter(members), &room, |b, room| {
            b.iter_custom(|iters| {
                system.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        room.post_and_deliver().await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = fan_out
}
criterion_main!(benches);
