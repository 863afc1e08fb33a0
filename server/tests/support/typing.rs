//! Typing frames in tests: bursts, and counting what arrives.

use std::time::{Duration, Instant};

use serde_json::json;

use super::Ws;

impl Ws {
    /// Sends `n` typing frames for `channel` at once.
    pub async fn typing_burst(&mut self, channel: &str, n: usize) {
        for _ in 0..n {
            self.send(json!({"type": "typing", "channel": channel}))
                .await;
        }
    }

    /// How many typing frames from `user` are waiting or arrive within `wait`.
    pub async fn typing_frames_from(&mut self, user: &str, wait: Duration) -> usize {
        self.drain(wait)
            .await
            .iter()
            .filter(|f| f["type"] == "typing" && f["user"] == user)
            .count()
    }

    /// Sends a burst of 10 typing frames for #general, twice, the second a
    /// little after the typing window (3 s) of the first; asserts that each
    /// of `others` sees one typing frame from `user` per burst.
    pub async fn typing_bursts_reach_once_per_window(
        &mut self,
        user: &str,
        others: &mut [&mut Ws],
    ) {
        for round in 1..=2 {
            let started = Instant::now();
            self.typing_burst("general", 10).await;
            for ws in others.iter_mut() {
                let seen = ws
                    .typing_frames_from(user, Duration::from_millis(1500))
                    .await;
                assert_eq!(seen, 1, "round {round}: one typing frame per member");
            }
            actix_rt::time::sleep_until((started + Duration::from_millis(3300)).into()).await;
        }
    }
}
