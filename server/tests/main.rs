//! The server's integration tests, in one binary: the real `chat-server`
//! (with `chat-bot` and `chat-archiver` in distributed mode) driven over HTTP,
//! WebSocket and NATS.

// Tests may unwrap (clippy.toml); that setting covers test functions only,
// and here their helpers unwrap too.
#![allow(clippy::unwrap_used)]

mod support;

mod abuse;
mod admin;
mod bad_input;
mod big_rooms;
mod browser;
mod bus;
mod changes;
mod chaos;
mod chat;
mod distributed;
mod distributed_changes;
mod distributed_investor;
mod distributed_people;
mod durability;
mod faults;
mod http_api;
mod investor;
mod logs;
mod people;
mod security;
mod sessions;
mod shared_limits;
mod slow_consumer;
mod telemetry;
