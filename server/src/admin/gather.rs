//! Asking every server of the cluster at once, for an operator: a request on
//! `chat.admin.gather.<op>` that every server answers on this server's
//! `chat.admin.answer.<id>.<n>` (never on an `_INBOX`: servers may not
//! publish there), collected until each server known to beat has answered
//! or the deadline passes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chat_shared::bus::{Bus, BusError};
use chat_shared::subjects;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

/// How long a gathering waits for servers that have not answered.
pub const DEADLINE: Duration = Duration::from_millis(500);

/// Numbers this server's gatherings, so each has its own answer subject.
#[derive(Default)]
pub struct Gatherings {
    next: AtomicU64,
}

impl Gatherings {
    /// Asks every server `subject` with `payload` and returns their answers
    /// (this server's among them): at most `expected`, or whatever came
    /// within `DEADLINE`. Answers that do not parse are left out.
    pub async fn ask<T: DeserializeOwned>(
        &self,
        bus: &dyn Bus,
        server_id: &str,
        subject: &str,
        payload: Bytes,
        expected: usize,
    ) -> Result<Vec<T>, BusError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let reply = subjects::answer(server_id, n);
        let mut answers = bus.subscribe(&reply).await?;
        bus.publish_with_reply(subject, &reply, payload).await?;
        let until = Instant::now() + DEADLINE;
        let mut heard = Vec::new();
        while heard.len() < expected {
            match tokio::time::timeout_at(until, answers.next()).await {
                Ok(Some(envelope)) => match serde_json::from_slice(&envelope.payload) {
                    Ok(answer) => heard.push(answer),
                    Err(_) => tracing::warn!(subject, "dropping a malformed gathered answer"),
                },
                Ok(None) | Err(_) => break,
            }
        }
        Ok(heard)
    }
}

/// Whether `reply` is where a server may answer a gathering.
pub fn is_answer_subject(reply: &str) -> bool {
    reply.starts_with("chat.admin.answer.")
}
