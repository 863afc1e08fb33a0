//! The chat server: HTTP API, sessions, the embedded UI, and the actors that
//! carry live messages.

pub mod abuse;
pub mod actors;
pub mod admin;
pub mod app;
pub mod client_addr;
pub mod config;
pub mod data_dir;
pub mod durable;
pub mod error;
pub mod hash_gate;
pub mod history;
pub mod in_process;
pub mod limits;
pub mod load;
pub mod metrics;
pub mod origin;
pub mod passwords;
pub mod publisher;
pub mod quotes;
pub mod request_deadline;
pub mod request_log;
pub mod routes;
pub mod session;
pub mod session_key;
pub mod startup;
pub mod state;
pub mod tell;
