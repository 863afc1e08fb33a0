//! The HTTP surface: JSON API, WebSocket upgrade, health, and the embedded UI.

pub mod assets;
pub mod auth;
pub mod channels;
pub mod emoji;
pub mod health;
pub mod market;
pub mod rooms;
pub mod search;
pub mod ws;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::header;
use actix_web::http::Method;
use actix_web::middleware::{from_fn, DefaultHeaders, Next};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::AppError;
use crate::state::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            // Answers about an account are never kept by a browser or a proxy.
            .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
            .wrap(from_fn(refuse_cross_site))
            .wrap(from_fn(crate::request_deadline::limit_body_time))
            .route("/register", web::post().to(auth::register))
            .route("/login", web::post().to(auth::login))
            .route("/logout", web::post().to(auth::logout))
            .route("/me", web::get().to(auth::me))
            .route("/channels", web::get().to(channels::list))
            .route("/channels", web::post().to(channels::create))
            .route(
                "/channels/{name}/messages",
                web::get().to(channels::messages),
            )
            .route(
                "/channels/{name}/messages/{id}",
                web::get().to(channels::message),
            )
            .route("/channels/{name}/members", web::get().to(rooms::members))
            .route(
                "/channels/{name}/members",
                web::post().to(rooms::add_member),
            )
            .route(
                "/channels/{name}/members/{user}",
                web::delete().to(rooms::remove_member),
            )
            .route("/channels/{name}/bans", web::get().to(rooms::bans))
            .route(
                "/channels/{name}/bans/{user}",
                web::delete().to(rooms::lift_ban),
            )
            .route(
                "/channels/{name}/watchlist",
                web::get().to(market::watchlist),
            )
            .route("/quotes/{code}", web::get().to(market::quote))
            .route("/dms", web::post().to(rooms::open_dm))
            .route("/users", web::get().to(rooms::users))
            .route("/search", web::get().to(search::search))
            .route("/emoji", web::get().to(emoji::list))
            .default_service(web::to(not_found)),
    )
    .route("/ws", web::get().to(ws::upgrade))
    .route("/healthz", web::get().to(health::live))
    .route("/readyz", web::get().to(health::ready))
    .route("/metrics", web::get().to(health::metrics))
    .default_service(web::get().to(assets::serve));
}

/// Every request that changes state (anything but GET and HEAD) must come
/// from the server's own pages or a listed origin: another site cannot log a
/// visitor out, post or create on their behalf, whatever the cookie's SameSite.
async fn refuse_cross_site(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let reads_only = matches!(*req.method(), Method::GET | Method::HEAD);
    if !reads_only {
        let state = req.app_data::<web::Data<AppState>>();
        if !state.is_some_and(|s| s.origins.allows(req.request())) {
            return Err(AppError::ForeignOrigin.into());
        }
    }
    next.call(req).await
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Turns JSON body failures into the documented error body (413 for size).
pub fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            AppError::PayloadTooLarge.into()
        }
        JsonPayloadError::Payload(e) if crate::request_deadline::is_timeout(&e) => {
            AppError::RequestTimeout.into()
        }
        JsonPayloadError::ContentType => {
            AppError::Invalid("Send a JSON body with Content-Type: application/json.".into()).into()
        }
        other => AppError::Invalid(format!("The request body isn't valid: {other}")).into(),
    }
}

/// Turns query-string failures into the documented error body.
pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    AppError::Invalid(format!("The query isn't valid: {err}")).into()
}

/// Turns path failures into the documented error body.
pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    AppError::Invalid(format!("The path isn't valid: {err}")).into()
}

/// A body for responses without content.
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}
