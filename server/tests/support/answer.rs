//! An HTTP answer as tests look at it.

use awc::http::header::HeaderMap;
use serde_json::Value;

/// An HTTP answer: status, `Retry-After` (seconds), JSON body (Null when
/// empty) and every header.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Answer {
    /// The value of header `name`, if it is there and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

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
