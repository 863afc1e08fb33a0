//! Micro-benchmarks of the per-message work on the hot paths: parsing a
//! client frame, and what a channel does once per message before fan-out
//! (serializing the Message and wrapping it into the `message` frame whose
//! bytes every member shares). Run with `cargo bench -p chat-bench`.

// A benchmark: a failure here is a broken setup, reported by panicking.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use chat_shared::frames::{ClientFrame, ServerFrame};
use chat_shared::message::Message;
use chat_shared::names::{ChannelName, MessageText};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn text(len: usize) -> String {
    "b0000beef 0 3 1234 1764000000000000 "
        .chars()
        .chain(std::iter::repeat('x'))
        .take(len)
        .collect()
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_frame_parse");
    let frames = [
        ("join", r#"{"type":"join","channel":"general"}"#.to_owned()),
        (
            "send_64",
            format!(
                r#"{{"type":"send","channel":"bench-r0","text":"{}","ref":"c-17"}}"#,
                text(64)
            ),
        ),
        (
            "send_2000",
            format!(
                r#"{{"type":"send","channel":"bench-r0","text":"{}"}}"#,
                text(2000)
            ),
        ),
        (
            "invalid",
            r#"{"type":"dance","channel":"general"}"#.to_owned(),
        ),
    ];
    for (name, frame) in &frames {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), frame, |b, f| {
            b.iter(|| ClientFrame::parse(black_box(f)))
        });
    }
    group.finish();
}

fn fan_out_once(c: &mut Criterion) {
    let mut group = c.benchmark_group("message_frame_once");
    for len in [64, 2000] {
        let m = Message::new(
            ChannelName::parse("bench-r0").unwrap(),
            "bench0001",
            MessageText::parse(&text(len)).unwrap(),
            false,
        );
        group.bench_with_input(BenchmarkId::new("serialize_and_wrap", len), &m, |b, m| {
            b.iter(|| {
                let json = serde_json::to_string(black_box(m)).unwrap();
                ServerFrame::message_json(&json)
            })
        });
        let json = serde_json::to_string(&m).unwrap();
        group.bench_with_input(BenchmarkId::new("wrap_only", len), &json, |b, j| {
            b.iter(|| ServerFrame::message_json(black_box(j)))
        });
        group.bench_with_input(BenchmarkId::new("message_new", len), &m.text, |b, t| {
            b.iter(|| {
                Message::new(
                    ChannelName::parse("bench-r0").unwrap(),
                    "bench0001",
                    black_box(t.clone()),
                    false,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse, fan_out_once);
criterion_main!(benches);
