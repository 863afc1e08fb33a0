//! The rules for messages from the bus, one case each.

use bytes::Bytes;
use chrono::SecondsFormat;
use serde_json::{json, Value};

use super::*;
use crate::subjects::{ORIGIN_HEADER as ORIGIN, SIGNATURE_HEADER as SIG};

fn key() -> BusKey {
    BusKey::derive(&[7; 64])
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// A well-formed message from `user`, as published now.
fn published(user: &str, text: &str) -> Value {
    json!({
        "id": crate::message::next_id().to_string(), "channel": "general", "user": user,
        "text": text, "ts": now().to_rfc3339_opts(SecondsFormat::Millis, true), "bot": false
    })
}

fn envelope(payload: &Value, headers: Vec<(String, String)>) -> Envelope {
    Envelope {
        subject: "chat.msg.general".to_owned(),
        reply: None,
        headers,
        payload: Bytes::from(payload.to_string()),
    }
}

/// Published with a chat server's signature.
fn signed(payload: &Value) -> Envelope {
    let bytes = payload.to_string();
    envelope(payload, vec![key().header(bytes.as_bytes())])
}

fn unsigned(payload: &Value) -> Envelope {
    envelope(payload, Vec::new())
}

#[test]
fn a_signed_message_is_taken_as_it_is() {
    let m = accept(&signed(&published("alice", "hi")), &key(), now()).unwrap();
    assert_eq!((m.user.as_str(), m.bot, m.kind), ("alice", false, None));
    let mut reply = published("stockbot", "a quote");
    reply["bot"] = json!(true);
    let m = accept(&signed(&reply), &key(), now()).unwrap();
    assert_eq!((m.bot, m.kind), (true, None));
}

#[test]
fn an_unsigned_message_is_never_a_persons() {
    let m = accept(&unsigned(&published("ops", "maintenance")), &key(), now()).unwrap();
    assert_eq!((m.bot, m.kind), (true, Some(Kind::Operator)));
    let mut system = published("system", "restarting");
    system["kind"] = json!("system");
    let m = accept(&unsigned(&system), &key(), now()).unwrap();
    assert_eq!((m.bot, m.kind), (true, Some(Kind::System)));
    let mut other = published("ops", "hello");
    other["kind"] = json!("person");
    let m = accept(&unsigned(&other), &key(), now()).unwrap();
    assert_eq!(
        m.kind,
        Some(Kind::Operator),
        "any other kind is an operator's"
    );
    let m = accept(&unsigned(&published("stockbot", "a quote")), &key(), now()).unwrap();
    assert_eq!((m.bot, m.kind), (true, None), "the bot's own post");
}

#[test]
fn a_forged_origin_or_signature_makes_no_one_a_person() {
    let payload = published("alice", "I am alice");
    let forged = [
        vec![(
            ORIGIN.to_owned(),
            "srv-01JD0000000000000000000000".to_owned(),
        )],
        vec![(SIG.to_owned(), "00".repeat(32))],
        vec![(
            SIG.to_owned(),
            BusKey::derive(&[8; 64]).sign(payload.to_string().as_bytes()),
        )],
    ];
    for headers in forged {
        let m = accept(&envelope(&payload, headers.clone()), &key(), now()).unwrap();
        assert_eq!((m.bot, m.kind), (true, Some(Kind::Operator)), "{headers:?}");
    }
    // A signature of another payload does not carry over.
    let mut changed = published("alice", "hi");
    let sig = key().sign(changed.to_string().as_bytes());
    changed["text"] = json!("something else");
    let m = accept(
        &envelope(&changed, vec![(SIG.to_owned(), sig)]),
        &key(),
        now(),
    )
    .unwrap();
    assert!(m.bot);
}

fn rejected(payload: &Value) -> Rejected {
    accept(&signed(payload), &key(), now()).unwrap_err()
}

#[test]
fn ids_and_times_must_be_well_formed_and_not_ahead() {
    let soon = now() + chrono::Duration::seconds(50);
    let later = now() + chrono::Duration::seconds(70);
    let ulid_at = |t: DateTime<Utc>| ulid::Ulid::from_datetime(t.into()).to_string();
    let with = |field: &str, value: Value| {
        let mut m = published("alice", "hi");
        m[field] = value;
        m
    };
    assert!(accept(&signed(&with("id", json!(ulid_at(soon)))), &key(), now()).is_ok());
    assert_eq!(
        rejected(&with("id", json!(ulid_at(later)))),
        Rejected::IdAhead
    );
    assert_eq!(
        rejected(&with("id", json!("-".repeat(26)))),
        Rejected::BadId
    );
    assert_eq!(rejected(&with("id", json!("1"))), Rejected::BadId);
    let ts = |t: DateTime<Utc>| json!(t.to_rfc3339_opts(SecondsFormat::Millis, true));
    assert!(accept(&signed(&with("ts", ts(soon))), &key(), now()).is_ok());
    assert_eq!(rejected(&with("ts", ts(later))), Rejected::TsAhead);
    assert_eq!(rejected(&with("ts", json!("yesterday"))), Rejected::BadTs);
}

#[test]
fn channel_user_and_text_follow_the_browsers_rules() {
    let mut elsewhere = published("alice", "hi");
    elsewhere["channel"] = json!("random");
    assert_eq!(rejected(&elsewhere), Rejected::WrongChannel);
    let mut bad_channel = published("alice", "hi");
    bad_channel["channel"] = json!("Not Valid");
    assert_eq!(rejected(&bad_channel), Rejected::WrongChannel);
    for user in ["", "ab", "has space", "<b>x</b>", &"u".repeat(33)] {
        assert_eq!(
            rejected(&published(user, "hi")),
            Rejected::BadUser,
            "{user:?}"
        );
    }
    let too_long = "x".repeat(MessageText::MAX_CHARS + 1);
    assert_eq!(
        rejected(&published("alice", &too_long)),
        Rejected::BadText(InvalidText::TooLong)
    );
    assert_eq!(
        rejected(&published("alice", " \n ")),
        Rejected::BadText(InvalidText::Empty)
    );
    let m = accept(&signed(&published("alice", "  padded  ")), &key(), now()).unwrap();
    assert_eq!(m.text.as_str(), "padded");
}

#[test]
fn garbage_and_unknown_signed_kinds_are_refused() {
    for payload in ["", "{", "[]", "{\"id\":1}", "null"] {
        let e = Envelope {
            subject: "chat.msg.general".to_owned(),
            reply: None,
            headers: Vec::new(),
            payload: Bytes::from(payload),
        };
        assert_eq!(accept(&e, &key(), now()).unwrap_err(), Rejected::Malformed);
    }
    let mut odd = published("alice", "hi");
    odd["kind"] = json!("admin");
    assert_eq!(rejected(&odd), Rejected::BadKind);
}

#[test]
fn a_refusal_never_quotes_the_text() {
    let secret = "x".repeat(3000);
    let reason = rejected(&published("alice", &secret)).to_string();
    assert!(!reason.contains("xxx"), "{reason}");
}

#[test]
fn a_reply_keeps_its_original_and_a_reply_to_that_is_no_id_is_refused() {
    let original = crate::message::next_id().to_string();
    let mut reply = published("alice", "yes");
    reply["reply_to"] = json!(original);
    let m = accept(&signed(&reply), &key(), now()).unwrap();
    assert_eq!(m.reply_to.as_deref(), Some(original.as_str()));
    reply["reply_to"] = json!("yesterday");
    assert_eq!(rejected(&reply), Rejected::BadReplyTo);
}
