//! `GET /ws`: checks the login session, the Origin and the per-user
//! connection limit, then upgrades to a WebSocket run by a `Connection` actor.

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
    if !state.origins.allows(&req) {
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
    // Ties the request's id to the connection's in the access log.
    tracing::Span::current().record("conn", tracing::field::display(connection.tag()));
    ws::WsResponseBuilder::new(connection, &req, payload)
        .frame_size(max_frame_bytes)
        .start()
}
