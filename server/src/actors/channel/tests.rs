//! Unit tests of the channel actor with stand-in connections and an in-process bus.
use std::time::Duration;

use bytes::Bytes;
use chat_shared::bot_commands::StockCommand;
use chat_shared::bus::{LocalBus, Subscription};
use chat_shared::names::MessageText;
use futures::StreamExt;
use serde_json::json;

use super::*;
use chat_shared::frames::{ErrorCode, ErrorFrame};
use chat_shared::payloads::PresenceNote;

/// A stand-in connection that records the frames it is sent.
struct Probe(tokio::sync::mpsc::UnboundedSender<String>);

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Handler<ChannelFrame> for Probe {
    type Result = ();
    fn handle(&mut self, d: ChannelFrame, _: &mut Context<Self>) {
        let _ = self.0.send(d.frame.to_string());
    }
}

impl Handler<FellBehind> for Probe {
    type Result = ();
    fn handle(&mut self, _: FellBehind, _: &mut Context<Self>) {}
}

struct Idle;
impl Actor for Idle {
    type Context = Context<Self>;
}
impl Handler<ChannelIdle> for Idle {
    type Result = ();
    fn handle(&mut self, _: ChannelIdle, _: &mut Context<Self>) {}
}
impl Handler<PeerSeen> for Idle {
    type Result = ();
    fn handle(&mut self, _: PeerSeen, _: &mut Context<Self>) {}
}

struct Room {
    bus: LocalBus,
    addr: Addr<ChannelActor>,
    /// Messages from the bus the channel refused.
    rejected: Arc<AtomicU64>,
    /// Where posts are committed (kept while the room lives).
    _db: tempfile::TempDir,
}

/// The key every server of the test deployment signs with.
fn key() -> BusKey {
    BusKey::derive(&[7; 64])
}

fn room(server_id: &str) -> Room {
    room_with(server_id, settings(100))
}

/// Presence told every 20 ms; joins name at most `named`.
fn settings(named: usize) -> RoomSettings {
    RoomSettings {
        presence_interval: Duration::from_millis(20),
        joined_members: named,
        ..RoomSettings::default()
    }
}

fn room_with(server_id: &str, settings: RoomSettings) -> Room {
    let bus = LocalBus::new();
    let shared: Arc<dyn Bus> = Arc::new(bus.clone());
    let rejected = Arc::new(AtomicU64::new(0));
    let db = tempfile::tempdir().unwrap();
    let store: Arc<dyn chat_shared::store::Store> =
        Arc::new(chat_shared::store::SqliteStore::open(&db.path().join("chat.db")).unwrap());
    let link = BusLink {
        bus: shared.clone(),
        publisher: Publisher::start(shared.clone()),
        server_id: Arc::from(server_id),
        key: key(),
        rejected: rejected.clone(),
        durability: Durability::Database(crate::durable::Committer::start(store), shared),
    };
    let idle = Idle.start();
    let addr = ChannelActor::new(
        ChannelName::general(),
        link,
        idle.clone().recipient(),
        idle.recipient(),
    )
    .settings(settings)
    .start();
    Room {
        bus,
        addr,
        rejected,
        _db: db,
    }
}

async fn member(
    room: &Room,
    conn: ConnId,
    user: &str,
) -> (Roster, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let probe = Probe(tx).start();
    let members = room
        .addr
        .send(Join {
            conn,
            user: Arc::from(user),
            frames: probe.clone().recipient(),
            fell_behind: probe.recipient(),
            outbox: Outbox::new(
                usize::MAX,
                crate::load::Load::new(Duration::from_secs(1), Duration::from_secs(1)),
            ),
        })
        .await
        .unwrap();
    (members, rx)
}

async fn next_json(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> serde_json::Value {
    let frame = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&frame).unwrap()
}

async fn next_envelope(sub: &mut Subscription) -> Envelope {
    tokio::time::timeout(Duration::from_secs(2), sub.next())
        .await
        .unwrap()
        .unwrap()
}

/// Connection `conn` posts `body` to the room.
async fn post(room: &Room, conn: ConnId, body: &str) -> Result<Posted, ErrorFrame> {
    room.addr
        .send(Post {
            conn,
            text: text(body),
            reference: None,
            reply_to: None,
            mentions: Vec::new(),
        })
        .await
        .unwrap()
}

fn text(s: &str) -> MessageText {
    MessageText::parse(s).unwrap()
}

#[actix_rt::test]
async fn a_post_reaches_every_member_and_the_bus_once() {
    let room = room("srv-a");
    // Embedded: once committed, it is published for other listeners.
    let mut wire = room.bus.subscribe("chat.msg.general").await.unwrap();
    let (_, mut alice) = member(&room, 1, "alice").await;
    assert_eq!(next_json(&mut alice).await["joins"], json!(["alice"]));
    let (roster, mut bob) = member(&room, 2, "bob").await;
    assert_eq!(roster.members, vec!["alice", "bob"]);
    assert_eq!(roster.count, 2);
    let arrived = next_json(&mut alice).await;
    assert_eq!(
        (&arrived["user"], &arrived["joins"], &arrived["count"]),
        (&json!("bob"), &json!(["bob"]), &json!(2)),
        "alice hears bob arrive"
    );
    assert_eq!(next_json(&mut bob).await["joins"], json!(["bob"]));

    let id = post(&room, 1, "hi").await.unwrap().id;
    for rx in [&mut alice, &mut bob] {
        let f = next_json(rx).await;
        assert_eq!(
            (f["type"].as_str(), f["message"]["id"].as_str()),
            (Some("message"), Some(id.as_str()))
        );
    }
    let published = next_envelope(&mut wire).await;
    assert_eq!(published.header(ORIGIN_HEADER), Some("srv-a"));
    assert!(key().signed(&published), "signed as a chat server's");
    let m: Message = serde_json::from_slice(&published.payload).unwrap();
    assert_eq!((m.id, m.user.as_str()), (id, "alice"));
}

#[actix_rt::test]
async fn a_non_member_cannot_post() {
    let room = room("srv-a");
    let err = post(&room, 9, "hi").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotJoined);
}

#[actix_rt::test]
async fn messages_from_elsewhere_are_delivered_and_its_own_echo_is_not() {
    let room = room("srv-a");
    let (_, mut alice) = member(&room, 1, "alice").await;
    let from_bot = Message::new(ChannelName::general(), "stockbot", text("quote"), true);
    let own = Message::new(ChannelName::general(), "alice", text("echo"), false);
    let publish = |m: &Message, origin: &str| {
        let bus = room.bus.clone();
        let payload = Bytes::from(serde_json::to_vec(m).unwrap());
        let headers = vec![(ORIGIN_HEADER.to_owned(), origin.to_owned())];
        async move {
            bus.publish("chat.msg.general", headers, payload)
                .await
                .unwrap()
        }
    };
    publish(&own, "srv-a").await;
    publish(&from_bot, "bot-1").await;
    let f = next_json(&mut alice).await;
    assert_eq!(
        f["message"]["text"], "quote",
        "the server's own echo is skipped"
    );
    assert_eq!(f["message"]["bot"], true);
    room.bus
        .publish("chat.msg.general", vec![], Bytes::from_static(b"not json"))
        .await
        .unwrap();
    publish(&from_bot, "bot-1").await;
    let next = Message::new(ChannelName::general(), "stockbot", text("quote 2"), true);
    publish(&next, "bot-1").await;
    assert_eq!(
        next_json(&mut alice).await["message"]["text"],
        "quote 2",
        "garbage is dropped, a message seen before is not delivered again, the room lives on"
    );
}

#[actix_rt::test]
async fn a_message_from_elsewhere_is_a_persons_only_when_a_server_signed_it() {
    let room = room("srv-a");
    let (_, mut alice) = member(&room, 1, "alice").await;
    let signed = |m: &Message| {
        let payload = Bytes::from(m.to_json());
        (vec![key().header(&payload)], payload)
    };
    let from_bob = Message::new(ChannelName::general(), "bob", text("hi"), false);
    let unsigned_bob = Message::new(ChannelName::general(), "bob", text("hi"), false);
    let later = Message::new(ChannelName::general(), "bob", text("later"), false);
    for (headers, payload) in [
        signed(&from_bob),
        (Vec::new(), Bytes::from(unsigned_bob.to_json())),
        (Vec::new(), Bytes::from_static(b"{\"not\":\"a message\"}")),
        signed(&later),
    ] {
        room.bus
            .publish("chat.msg.general", headers, payload)
            .await
            .unwrap();
    }
    let person = next_json(&mut alice).await["message"].clone();
    assert_eq!((&person["bot"], person.get("kind")), (&json!(false), None));
    let unsigned = next_json(&mut alice).await["message"].clone();
    assert_eq!(
        (&unsigned["bot"], &unsigned["kind"]),
        (&json!(true), &json!("operator")),
        "without a signature: an operator's post"
    );
    assert_eq!(next_json(&mut alice).await["message"]["text"], "later");
    assert_eq!(
        room.rejected.load(Ordering::Relaxed),
        1,
        "the garbage is dropped and counted"
    );
}

#[actix_rt::test]
async fn a_command_comes_back_as_a_request_for_the_bot() {
    let room = room("srv-a");
    let (_, _alice) = member(&room, 1, "alice").await;
    let posted = post(&room, 1, "/stock=aapl.us").await.unwrap();
    let command = posted.command.expect("a command");
    assert_eq!(command.subject, "chat.cmd.stock");
    let cmd: StockCommand = serde_json::from_slice(&command.payload).unwrap();
    assert_eq!(
        (cmd.code.as_str(), cmd.user.as_str(), cmd.id),
        ("aapl.us", "alice", posted.id)
    );
    let help = post(&room, 1, "/HELP").await.unwrap();
    assert_eq!(help.command.unwrap().subject, "chat.cmd.help");
    let plain = post(&room, 1, "hello /stock=x").await.unwrap();
    assert!(plain.command.is_none());
}

#[actix_rt::test]
async fn presence_counts_a_user_once_across_connections() {
    let room = room("srv-a");
    let mut notes = room.bus.subscribe("chat.presence.general").await.unwrap();
    let (_, mut watcher) = member(&room, 1, "watcher").await;
    assert_eq!(next_json(&mut watcher).await["joins"], json!(["watcher"]));
    let (_, _t1) = member(&room, 2, "alice").await;
    let (_, _t2) = member(&room, 3, "alice").await;
    let f = next_json(&mut watcher).await;
    assert_eq!(
        (f["user"].as_str(), f["event"].as_str(), &f["count"]),
        (Some("alice"), Some("join"), &json!(2))
    );
    room.addr.send(Leave { conn: 2 }).await.unwrap();
    room.addr.send(Leave { conn: 3 }).await.unwrap();
    let f = next_json(&mut watcher).await;
    assert_eq!(
        (f["user"].as_str(), f["event"].as_str()),
        (Some("alice"), Some("leave")),
        "one join, one leave"
    );
    let mut published = Vec::new();
    for _ in 0..3 {
        let note: PresenceNote =
            serde_json::from_slice(&next_envelope(&mut notes).await.payload).unwrap();
        published.push((note.user, note.event));
    }
    assert_eq!(
        published,
        vec![
            ("watcher".to_owned(), NoteEvent::Join),
            ("alice".to_owned(), NoteEvent::Join),
            ("alice".to_owned(), NoteEvent::Leave)
        ],
        "other servers hear of alice once each way"
    );
}

#[actix_rt::test]
async fn presence_is_told_in_batches_and_a_join_names_only_the_first_members() {
    let room = room_with("srv-a", settings(3));
    let (_, mut watcher) = member(&room, 1, "watcher").await;
    assert_eq!(next_json(&mut watcher).await["joins"], json!(["watcher"]));
    // Five arrive, one leaves again, all within one batch.
    let mut held = Vec::new();
    for (i, name) in ["erin", "Bob", "dave", "carol", "alice"].iter().enumerate() {
        held.push(member(&room, 10 + i as ConnId, name).await);
    }
    room.addr.send(Leave { conn: 10 }).await.unwrap();
    let batch = next_json(&mut watcher).await;
    assert_eq!(
        batch,
        json!({"type": "presence", "channel": "general", "joins": ["alice", "Bob", "carol"],
               "leaves": [], "count": 5, "more": true}),
        "one frame, in name order, cut at three names; erin came and went unseen"
    );
    let (roster, _late) = member(&room, 20, "zed").await;
    assert_eq!(roster.members, vec!["alice", "Bob", "carol"]);
    assert_eq!(roster.count, 6);
    let page = room
        .addr
        .send(Present {
            after: Some("carol".into()),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(page.members, vec!["dave", "watcher", "zed"]);
    let quiet = tokio::time::timeout(Duration::from_millis(100), watcher.recv()).await;
    let zed = serde_json::from_str::<serde_json::Value>(&quiet.unwrap().unwrap()).unwrap();
    assert_eq!(zed["user"], "zed", "the next batch holds zed alone");
}

#[actix_rt::test]
async fn it_stops_only_when_empty() {
    let room = room("srv-a");
    let (_, _alice) = member(&room, 1, "alice").await;
    assert!(!room.addr.send(StopIfEmpty).await.unwrap());
    room.addr.send(Leave { conn: 1 }).await.unwrap();
    assert!(room.addr.send(StopIfEmpty).await.unwrap());
}

#[actix_rt::test]
async fn after_a_crowd_arrives_every_member_last_hears_the_full_count() {
    let room = room_with("srv-a", settings(5));
    let mut crowd = Vec::new();
    for i in 0..300u64 {
        crowd.push(member(&room, 100 + i, &format!("p{i:03}")).await.1);
        if i % 50 == 0 {
            actix_rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    for (i, rx) in crowd.iter_mut().enumerate() {
        let mut last = None;
        while let Ok(frame) = rx.try_recv() {
            let f: serde_json::Value = serde_json::from_str(&frame).unwrap();
            if f["type"] == "presence" {
                last = f["count"].as_u64();
            }
        }
        assert_eq!(last, Some(300), "member {i} last heard {last:?}");
    }
}
