//! Everything the chat's processes share: wire types, validated names, the bus
//! and the store.

pub mod admin;
pub mod bot_commands;
pub mod bus;
pub mod card;
pub mod change;
pub mod config;
pub mod correlation;
pub mod counters;
pub mod frames;
pub mod history;
pub mod log_text;
pub mod message;
pub mod names;
pub mod payloads;
pub mod people;
pub mod process;
pub mod rate;
pub mod schema;
pub mod store;
pub mod subjects;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
