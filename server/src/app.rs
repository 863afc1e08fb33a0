//! The actix-web application: routes, request limits, cookie sessions,
//! security headers, request ids and the access log (`crate::request_log`),
//! and the tuning of each TCP connection.

use actix_session::config::PersistentSession;
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Key, SameSite};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::config::Config;
use crate::routes;
use crate::session;
use crate::state::AppState;

/// The Content-Security-Policy of every response: only this origin's own files.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The HTTP server: every route, behind cookie sessions, security headers and
/// the access log.
pub fn serve(
    state: web::Data<AppState>,
    key: Key,
    config: &Config,
) -> anyhow::Result<actix_web::dev::Server> {
    let secure = config.behind_tls;
    let lifetime =
        Duration::seconds(i64::try_from(config.session_lifetime_secs).unwrap_or(i64::MAX));
    let max_body = state.limits.max_body_bytes;
    let send_buffer = state.limits.socket_send_buffer;
    let request_timeout = state.limits.request_timeout();
    let server = HttpServer::new(move || {
        // Built once on each worker thread: that thread watches how late it runs.
        actix_web::rt::spawn(state.load.clone().probe());
        App::new()
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(routes::json_error),
            )
            .app_data(web::PayloadConfig::default().limit(max_body))
            .app_data(web::QueryConfig::default().error_handler(routes::query_error))
            .app_data(web::PathConfig::default().error_handler(routes::path_error))
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_name(session::COOKIE_NAME.to_owned())
                    .cookie_secure(secure)
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .session_lifecycle(PersistentSession::default().session_ttl(lifetime))
                    .build(),
            )
            .wrap(security_headers())
            .wrap(from_fn(crate::request_log::trace))
            .configure(routes::config)
    })
    .on_connect(move |conn, _| tune_socket(conn, send_buffer))
    .client_request_timeout(request_timeout)
    .bind(config.bind)
    .with_context(|| format!("could not listen on {}", config.bind))?
    .shutdown_timeout(10)
    .disable_signals()
    .run();
    Ok(server)
}

/// The `--metrics-bind` listener: metrics and health checks, nothing else.
pub fn serve_metrics(
    state: web::Data<AppState>,
    bind: std::net::SocketAddr,
) -> anyhow::Result<actix_web::dev::Server> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(security_headers())
            .route(
                "/metrics",
                web::get().to(routes::health::metrics_on_own_listener),
            )
            .route("/healthz", web::get().to(routes::health::live))
            .route("/readyz", web::get().to(routes::health::ready))
    })
    .workers(1)
    .bind(bind)
    .with_context(|| format!("could not listen on {bind} for metrics"))?
    .disable_signals()
    .run();
    Ok(server)
}

/// Bounds the socket's kernel send buffer (so a client that stops reading
/// fills its outbox and is evicted) and turns off Nagle's algorithm (frames
/// are small and go out as soon as they are written).
fn tune_socket(conn: &dyn std::any::Any, bytes: usize) {
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(bytes) {
            tracing::warn!(error = %e, "could not bound a socket's send buffer");
        }
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    }
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
}
