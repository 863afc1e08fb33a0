//! WebSocket bad input: every mistake is answered with the documented `error`
//! frame and the same connection keeps working (except for an oversized frame,
//! which closes it with 1009); nothing half-written reaches the history.

use serde_json::{json, Value};

use crate::support::{pluck, Client, TestApp, Ws};

/// The largest frame the server accepts by default, in bytes.
const MAX_FRAME: usize = 16 * 1024;

/// A new user's connection, joined to `general`.
async fn joined(app: &TestApp, username: &str) -> Ws {
    let mut ws = app.user(username).await.ws().await;
    ws.join("general").await;
    ws
}

/// alice, who created #random, and a connection of hers joined to `general` only.
async fn alice_with_random(app: &TestApp) -> (Client, Ws) {
    let mut alice = app.user("alice").await;
    assert_eq!(alice.create_channel("random").await.0, 201);
    let mut ws = alice.ws().await;
    ws.join("general").await;
    (alice, ws)
}

/// Waits for the next error frame and checks its code, its `ref` (absent when
/// `reference` is None) and that it carries a human message.
async fn expect_error(ws: &mut Ws, code: &str, reference: Option<&str>) -> Value {
    let e = ws
        .expect(&format!("error {code}"), |f| f["type"] == "error")
        .await;
    assert_eq!(e["code"], code, "{e}");
    assert_eq!(
        e.get("ref").and_then(Value::as_str),
        reference,
        "ref echoed: {e}"
    );
    assert!(
        e["message"].as_str().is_some_and(|m| !m.trim().is_empty()),
        "a human message: {e}"
    );
    e
}

/// Proves the connection still works: a message sent on it is acked and comes back.
async fn still_works(ws: &mut Ws) {
    let text = format!("still here {}", chat_shared::message::next_id());
    let id = ws.say("general", &text).await;
    let m = ws.expect_message("general", &text).await;
    assert_eq!(m["id"], id.as_str());
}

/// A `send` frame to `general` padded with JSON whitespace to exactly `bytes` bytes.
fn send_frame_of_size(text: &str, reference: &str, bytes: usize) -> String {
    let head =
        json!({"type": "send", "channel": "general", "text": text, "ref": reference}).to_string();
    let head = head.strip_suffix('}').expect("a JSON object");
    assert!(head.len() < bytes, "the frame fits");
    format!("{head}{}}}", " ".repeat(bytes - head.len() - 1))
}

fn texts(messages: &Value) -> Vec<String> {
    pluck(messages, "text")
}

#[actix_rt::test]
async fn malformed_json_is_an_invalid_frame_and_the_connection_keeps_working() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    for bad in ["not json", "{\"type\":\"send\",", "", "[]", "42"] {
        ws.send_text(bad).await;
        expect_error(&mut ws, "invalid_frame", None).await;
    }
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn an_unknown_frame_type_is_an_invalid_frame_and_the_connection_keeps_working() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    ws.send(json!({"type": "dance", "channel": "general"}))
        .await;
    expect_error(&mut ws, "invalid_frame", None).await;
    ws.send(json!({"channel": "general", "text": "no type"}))
        .await;
    expect_error(&mut ws, "invalid_frame", None).await;
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn a_frame_missing_fields_is_an_invalid_frame_and_the_connection_keeps_working() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    for bad in [
        json!({"type": "send", "channel": "general", "ref": "m-1"}),
        json!({"type": "send", "text": "where to?"}),
        json!({"type": "join"}),
        json!({"type": "typing"}),
    ] {
        ws.send(bad).await;
        expect_error(&mut ws, "invalid_frame", None).await;
    }
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn a_frame_with_extra_or_mistyped_fields_is_an_invalid_frame_and_the_connection_keeps_working(
) {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    for bad in [
        json!({"type": "send", "channel": "general", "text": "hi", "colour": "red"}),
        json!({"type": "join", "channel": 7}),
        json!({"type": "send", "channel": "general", "text": ["hi"]}),
    ] {
        ws.send(bad).await;
        expect_error(&mut ws, "invalid_frame", None).await;
    }
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn sending_to_a_channel_not_joined_is_not_joined_with_the_ref_echoed() {
    let app = TestApp::spawn().await;
    let (_alice, mut ws) = alice_with_random(&app).await;
    ws.send(json!({"type": "send", "channel": "random", "text": "wrong room", "ref": "c-17"}))
        .await;
    expect_error(&mut ws, "not_joined", Some("c-17")).await;
    still_works(&mut ws).await;
    let joined = ws.join("random").await;
    assert_eq!(
        texts(&joined["history"]),
        Vec::<String>::new(),
        "the refused message was not stored"
    );
}

#[actix_rt::test]
async fn empty_or_whitespace_only_text_is_refused_as_empty() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    for (text, reference) in [("", "e-1"), ("   ", "e-2"), (" \n\t\r\n ", "e-3")] {
        ws.send(json!({"type": "send", "channel": "general", "text": text, "ref": reference}))
            .await;
        expect_error(&mut ws, "empty", Some(reference)).await;
    }
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn text_over_2000_characters_is_too_long_while_exactly_2000_is_accepted() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    ws.send(json!({"type": "send", "channel": "general", "text": "a".repeat(2001), "ref": "long"}))
        .await;
    expect_error(&mut ws, "too_long", Some("long")).await;
    ws.send(
        json!({"type": "send", "channel": "general", "text": "é".repeat(2001), "ref": "long-é"}),
    )
    .await;
    expect_error(&mut ws, "too_long", Some("long-é")).await;

    // Characters, not bytes: 2,000 two-byte characters are 4,000 bytes.
    for text in ["a".repeat(2000), "é".repeat(2000)] {
        let id = ws.say("general", &text).await;
        let m = ws.expect_message("general", &text).await;
        assert_eq!(m["id"], id.as_str());
        assert_eq!(m["text"].as_str().unwrap().chars().count(), 2000);
    }
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn text_is_measured_after_trimming() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    let padded = format!("  \n{}\n  ", "b".repeat(2000));
    ws.send(json!({"type": "send", "channel": "general", "text": padded, "ref": "t"}))
        .await;
    let ack = ws.expect("ack t", |f| f["ref"] == "t").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ws.expect_message("general", &"b".repeat(2000)).await;
}

#[actix_rt::test]
async fn a_binary_frame_is_an_invalid_frame_and_the_connection_keeps_working() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    ws.send_binary(br#"{"type":"send","channel":"general","text":"in binary"}"#)
        .await;
    expect_error(&mut ws, "invalid_frame", None).await;
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn joining_a_badly_named_channel_is_invalid_channel() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    for bad in [
        "Bad Name",
        "UPPER",
        "x",
        "-lead",
        &"a".repeat(51),
        "a.b",
        "a>",
    ] {
        ws.send(json!({"type": "join", "channel": bad})).await;
        expect_error(&mut ws, "invalid_channel", None).await;
    }
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn joining_a_channel_that_does_not_exist_is_no_such_channel() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    ws.send(json!({"type": "join", "channel": "nowhere"})).await;
    expect_error(&mut ws, "no_such_channel", None).await;
    still_works(&mut ws).await;
    ws.send(json!({"type": "send", "channel": "nowhere", "text": "hello?", "ref": "n"}))
        .await;
    expect_error(&mut ws, "not_joined", Some("n")).await;
}

#[actix_rt::test]
async fn a_join_since_something_that_is_not_a_message_id_is_an_invalid_frame() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    for since in [
        "yesterday",
        "",
        "01JD",
        "0".repeat(27).as_str(),
        "!!!!!!!!!!!!!!!!!!!!!!!!!!",
    ] {
        ws.send(json!({"type": "join", "channel": "general", "since": since}))
            .await;
        expect_error(&mut ws, "invalid_frame", None).await;
    }
    still_works(&mut ws).await;
}

#[actix_rt::test]
async fn more_than_20_messages_in_10_seconds_are_rate_limited_and_the_connection_stays_open() {
    let app = TestApp::spawn().await;
    let (_alice, mut ws) = alice_with_random(&app).await;
    let mut bob = joined(&app, "bob").await;

    for i in 0..21 {
        ws.send(json!({"type": "send", "channel": "general", "text": format!("burst {i}"), "ref": format!("b-{i}")}))
            .await;
    }
    let mut ids = Vec::new();
    for i in 0..20 {
        let reference = format!("b-{i}");
        let reply = ws
            .expect(&format!("reply to {reference}"), |f| {
                f["ref"] == reference.as_str()
            })
            .await;
        assert_eq!(
            reply["type"], "ack",
            "message {i} of 20 is accepted: {reply}"
        );
        ids.push(reply["id"].as_str().unwrap().to_owned());
    }
    expect_error(&mut ws, "rate_limited", Some("b-20")).await;
    for i in 0..20 {
        bob.expect_message("general", &format!("burst {i}")).await;
    }

    // The connection is still open and useful.
    let joined = ws.join("random").await;
    assert_eq!(joined["channel"], "random");
    ws.send(json!({"type": "typing", "channel": "general"}))
        .await;
    bob.expect("alice typing", |f| {
        f["type"] == "typing" && f["user"] == "alice"
    })
    .await;

    let mut carol = app.user("carol").await.ws().await;
    let history = carol.join("general").await["history"].clone();
    assert_eq!(
        pluck(&history, "id"),
        ids,
        "exactly the 20 accepted messages are stored"
    );
}

#[actix_rt::test]
async fn a_frame_over_16_kib_is_refused_with_frame_too_large_and_close_1009() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    ws.send_text(&send_frame_of_size("too big", "big", MAX_FRAME + 1))
        .await;
    assert_eq!(
        ws.expect_close().await,
        Some(1009),
        "the connection closes with 1009"
    );
    expect_error(&mut ws, "frame_too_large", None).await;

    let mut bob = app.user("bob").await.ws().await;
    let joined = bob.join("general").await;
    assert!(
        !texts(&joined["history"]).contains(&"too big".to_owned()),
        "{joined}"
    );
}

#[actix_rt::test]
async fn a_frame_of_exactly_16_kib_is_accepted() {
    let app = TestApp::spawn().await;
    let mut ws = joined(&app, "alice").await;
    ws.send_text(&send_frame_of_size("just fits", "fits", MAX_FRAME))
        .await;
    let ack = ws.expect("ack fits", |f| f["ref"] == "fits").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ws.expect_message("general", "just fits").await;
    still_works(&mut ws).await;
}

/// Every way a `send` is refused, with the error code and the `ref` echoed.
fn refused_sends() -> [(Value, &'static str, Option<&'static str>); 7] {
    [
        (
            json!({"type": "send", "channel": "general", "text": "  ", "ref": "e"}),
            "empty",
            Some("e"),
        ),
        (
            json!({"type": "send", "channel": "general", "text": "z".repeat(2001), "ref": "l"}),
            "too_long",
            Some("l"),
        ),
        (
            json!({"type": "send", "channel": "general", "ref": "m"}),
            "invalid_frame",
            None,
        ),
        (
            json!({"type": "send", "channel": "general", "text": "extra", "ref": "x", "bogus": 1}),
            "invalid_frame",
            None,
        ),
        (
            json!({"type": "shout", "channel": "general", "text": "unknown"}),
            "invalid_frame",
            None,
        ),
        (
            json!({"type": "send", "channel": "random", "text": "wrong room", "ref": "w"}),
            "not_joined",
            Some("w"),
        ),
        (
            json!({"type": "send", "channel": "Bad Name", "text": "bad name", "ref": "b"}),
            "invalid_channel",
            Some("b"),
        ),
    ]
}

/// Sends every kind of bad input on `ws`, each answered with its error.
async fn send_bad_input(ws: &mut Ws) {
    for (bad, code, reference) in refused_sends() {
        ws.send(bad).await;
        expect_error(ws, code, reference).await;
    }
    ws.send_binary(br#"{"type":"send","channel":"general","text":"binary"}"#)
        .await;
    expect_error(ws, "invalid_frame", None).await;
}

/// Sends an oversized frame on a new connection of `user`, which is closed with 1009.
async fn send_oversized_frame(user: &Client) {
    let mut big = user.ws().await;
    big.join("general").await;
    big.send_text(&send_frame_of_size("oversized", "o", MAX_FRAME + 1))
        .await;
    assert_eq!(big.expect_close().await, Some(1009));
}

#[actix_rt::test]
async fn history_holds_exactly_the_good_messages_after_bad_input() {
    let app = TestApp::spawn().await;
    let (alice, mut ws) = alice_with_random(&app).await;

    ws.say("general", "good 1").await;
    ws.send_text(r#"{"type":"send","channel":"general","text":"half"#)
        .await;
    expect_error(&mut ws, "invalid_frame", None).await;
    ws.say("general", "good 2").await;
    send_bad_input(&mut ws).await;
    ws.say("general", "good 3").await;
    send_oversized_frame(&alice).await;

    let mut carol = app.user("carol").await;
    let joined = carol.ws().await.join("general").await;
    assert_eq!(texts(&joined["history"]), ["good 1", "good 2", "good 3"]);
    let (status, page) = carol.get("/api/channels/general/messages").await;
    assert_eq!(status, 200);
    assert_eq!(texts(&page["messages"]), ["good 1", "good 2", "good 3"]);
    let (_, random) = carol.get("/api/channels/random/messages").await;
    assert_eq!(texts(&random["messages"]), Vec::<String>::new());
}

#[actix_rt::test]
async fn control_characters_and_bidi_overrides_never_reach_readers_or_the_archive() {
    let mut app = TestApp::spawn().await;
    let (mut alice, mut ws) = alice_with_random(&app).await;
    let mut bob = joined(&app, "bob").await;
    let sent = "invoice \u{202e}fdp.exe\u{202c} from \u{1b}[31mbank\u{1b}[0m\u{7}\r\nthanks";
    let clean = "invoice fdp.exe from [31mbank[0m\nthanks";
    ws.send(json!({"type": "send", "channel": "general", "text": sent, "ref": "t1"}))
        .await;
    ws.expect("ack t1", |f| f["type"] == "ack" && f["ref"] == "t1")
        .await;
    let got = bob.expect_message("general", clean).await;
    assert_eq!(got["text"], clean);

    ws.send(
        json!({"type": "send", "channel": "general", "text": "\u{202e}\u{1}\u{2066}", "ref": "t2"}),
    )
    .await;
    expect_error(&mut ws, "empty", Some("t2")).await;
    let refused = alice.create_channel("ab\u{202e}cd").await;
    assert_eq!(refused.0, 400, "channel names take no such characters");

    app.restart().await;
    let (_, page) = alice.get("/api/channels/general/messages").await;
    let texts: Vec<_> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, [clean], "the archive holds the clean text");
}

/// The frames of a fragmented text message: `parts` in order.
fn fragmented(parts: &[&str]) -> Vec<awc::ws::Message> {
    use actix_http::ws::Item;
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let bytes = bytes::Bytes::copy_from_slice(p.as_bytes());
            awc::ws::Message::Continuation(match i {
                0 => Item::FirstText(bytes),
                i if i == last => Item::Last(bytes),
                _ => Item::Continue(bytes),
            })
        })
        .collect()
}

#[actix_rt::test]
async fn a_fragmented_message_with_a_ping_between_its_fragments_is_understood() {
    let app = TestApp::spawn().await;
    let mut ws = app.user("alice").await.ws().await;
    let mut frames = fragmented(&[r#"{"type":"jo"#, r#"in","chan"#, r#"nel":"general"}"#]);
    let last = frames.pop().unwrap();
    for f in frames {
        ws.send_raw(f).await;
    }
    ws.send_raw(awc::ws::Message::Ping(bytes::Bytes::from_static(b"mid")))
        .await;
    let pong = ws.next_raw(std::time::Duration::from_secs(5)).await;
    assert!(
        matches!(&pong, Some(awc::ws::Frame::Pong(p)) if &p[..] == b"mid"),
        "a ping between fragments is answered at once: {pong:?}"
    );
    ws.send_raw(last).await;
    ws.expect("joined", |f| f["type"] == "joined").await;
    for f in fragmented(&[
        r#"{"type":"send","channel":"general","#,
        r#""text":"in pieces"}"#,
    ]) {
        ws.send_raw(f).await;
    }
    ws.expect_message("general", "in pieces").await;
    let bye = awc::ws::CloseReason::from(awc::ws::CloseCode::Normal);
    ws.send_raw(awc::ws::Message::Close(Some(bye))).await;
    assert_eq!(
        ws.expect_close().await,
        Some(1000),
        "a close is answered with a close"
    );
}

#[actix_rt::test]
async fn a_fragmented_message_past_the_limit_closes_with_1009_and_one_of_bad_utf8_with_1007() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut ws = alice.ws().await;
    let piece = "x".repeat(MAX_FRAME / 2);
    let parts = [
        r#"{"type":"send","channel":"general","text":""#,
        &piece,
        &piece,
        "\"}",
    ];
    for f in fragmented(&parts) {
        ws.send_raw(f).await;
    }
    expect_error(&mut ws, "frame_too_large", None).await;
    assert_eq!(ws.expect_close().await, Some(1009));

    let mut ws = alice.ws().await;
    let (first, last) = (&b"{\"type\":\"\xe2\x82"[..], &b"(\"}"[..]);
    for item in [
        actix_http::ws::Item::FirstText(bytes::Bytes::from_static(first)),
        actix_http::ws::Item::Last(bytes::Bytes::from_static(last)),
    ] {
        ws.send_raw(awc::ws::Message::Continuation(item)).await;
    }
    assert_eq!(ws.expect_close().await, Some(1007), "a proper close frame");
}
