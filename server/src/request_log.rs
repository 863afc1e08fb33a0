//! Every HTTP request's correlation id and its line in the access log: the
//! request runs inside a `request` span that carries the id (so every line
//! logged while handling it does), and the answer echoes the id in
//! `X-Request-Id`. A WebSocket upgrade also names its connection (`conn`)
//! in that span. The id is also in the request's extensions, for a handler
//! that passes it on (a quote asked of a bot carries it as
//! `Chat-Correlation`).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use chat_shared::correlation::CorrelationId;
use chat_shared::log_text::shown;
use tracing::Instrument;

use crate::client_addr;
use crate::state::AppState;

/// The request and response header of a request's id.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id taken from a client or a proxy.
pub const MAX_GIVEN: usize = 64;

/// The id of a request: the one it came with (from a proxy, say) when that
/// is a plain token of at most `MAX_GIVEN` characters, else a fresh one.
pub fn request_id(given: Option<&HeaderValue>) -> CorrelationId {
    given
        .and_then(|v| v.to_str().ok())
        .filter(|s| s.len() <= MAX_GIVEN)
        .and_then(CorrelationId::parse)
        .unwrap_or_else(CorrelationId::generate)
}

/// Runs the request in its span, logs one line when it is answered (not
/// for health checks, which come every few seconds) and sets `X-Request-Id`
/// on the answer, errors included.
pub async fn trace(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(req.headers().get(&HEADER));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %shown(req.path()),
        conn = tracing::field::Empty,
    );
    req.extensions_mut().insert(id.clone());
    let logged = !matches!(req.path(), "/healthz" | "/readyz");
    let client = client(&req);
    let started = Instant::now();
    let answered = |headers: &mut HeaderMap, status: StatusCode| {
        if logged {
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let status = status.as_u16();
            span.in_scope(|| tracing::info!(%client, status, ms, "request answered"));
        }
        let value = HeaderValue::from_str(id.as_str()).expect("ids are plain tokens");
        headers.insert(HEADER, value);
    };
    match next.call(req).instrument(span.clone()).await {
        Ok(mut res) => {
            let status = res.status();
            answered(res.headers_mut(), status);
            Ok(res)
        }
        // Refused by a middleware: its answer, with the id.
        Err(e) => {
            let mut res = e.error_response();
            let status = res.status();
            answered(res.headers_mut(), status);
            Err(InternalError::from_response(e, res).into())
        }
    }
}

/// The real client (`crate::client_addr`).
fn client(req: &ServiceRequest) -> std::net::IpAddr {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map_or(&[][..], |s| &s.trusted_proxies);
    client_addr::resolve(req.peer_addr(), req.headers(), trusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_for(given: &[u8]) -> String {
        let value = HeaderValue::from_bytes(given).expect("a header value");
        request_id(Some(&value)).to_string()
    }

    #[test]
    fn a_plain_short_id_is_kept() {
        assert_eq!(id_for(b"req-42"), "req-42");
        assert_eq!(
            id_for(b"0af7651916cd43dd8448eb211c80319c"),
            "0af7651916cd43dd8448eb211c80319c"
        );
        let longest = "a".repeat(MAX_GIVEN);
        assert_eq!(id_for(longest.as_bytes()), longest);
    }

    #[test]
    fn anything_else_is_replaced_by_a_fresh_id() {
        let too_long = "a".repeat(MAX_GIVEN + 1);
        for given in [
            &b"two words"[..],
            b"a\tb",
            b"<script>",
            b"x\"y",
            b"caf\xc3\xa9",
            b"\xff\xfe",
            too_long.as_bytes(),
        ] {
            let id = id_for(given);
            assert_ne!(id.as_bytes(), given);
            assert!(CorrelationId::parse(&id).is_some(), "{id}");
            assert_eq!(id.len(), 26, "a ULID: {id}");
        }
        let missing = request_id(None).to_string();
        assert_ne!(missing, request_id(None).to_string(), "each one fresh");
    }
}
