//! An HTTP answer as tests look at it.

use serde_json::Value;

/// An HTTP answer: status, `Retry-After` (seconds) and JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: Value,
}

impl Answer {
    /// Asserts a refusal with `status` and the documented error `code` that
    /// says when to come back (`Retry-After`); returns those seconds.
    #[track_caller]
    pub fn expect_retry_later(&self, status: u16, code: &str) -> u64 {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body["error"]["code"], code, "{self:?}");
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "a human message: {self:?}"
        );
        self.retry_after
            .unwrap_or_else(|| panic!("a Retry-After header: {self:?}"))
    }
}
