//! `GET /ws`: checks the login session, the Origin and the per-user
//! connection limit, then upgrades to a WebSocket run by a `Connection` actor.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;

use crate::actors::connection::Connection;
use crate::actors::registry::ConnectionsOf;
use crate::error::AppError;
use crate::session::CurrentUser;
use crate::state::AppState;

pub async fn upgrade(
    req: HttpRequest,
    payload: web::Payload,
    user: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    if !origin_allowed(&req, &state.allowed_origins) {
        return Err(AppError::ForeignOrigin.into());
    }
    let open = state
        .registry
        .send(ConnectionsOf(user.name.clone()))
        .await
        .map_err(|_| AppError::Unavailable)?;
    if open >= state.limits.max_connections_per_user {
        return Err(AppError::TooManyConnections.into());
    }
    let max_frame_bytes = state.limits.max_frame_bytes;
    let connection = Connection::new(state, &user);
    ws::WsResponseBuilder::new(connection, &req, payload)
        .frame_size(max_frame_bytes)
        .start()
}

/// A browser's Origin must be this server's own host or one explicitly
/// allowed. Clients that send no Origin (not browsers) are not subject to it.
pub fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    else {
        return true;
    };
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or_default();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(origin: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::get().insert_header((header::HOST, "chat.example:8080"));
        if let Some(o) = origin {
            r = r.insert_header((header::ORIGIN, o));
        }
        r.to_http_request()
    }

    #[test]
    fn same_host_and_listed_origins_pass_others_do_not() {
        let allowed = vec!["https://app.example".to_owned()];
        assert!(origin_allowed(
            &req(Some("http://chat.example:8080")),
            &allowed
        ));
        assert!(origin_allowed(&req(Some("https://app.example")), &allowed));
        assert!(origin_allowed(&req(None), &allowed));
        assert!(!origin_allowed(
            &req(Some("https://evil.example")),
            &allowed
        ));
        assert!(!origin_allowed(
            &req(Some("http://chat.example:8081")),
            &allowed
        ));
        assert!(!origin_allowed(&req(Some("null")), &allowed));
    }
}
