//! Login sessions: what the session cookie holds (the user and the session's
//! id), starting and ending sessions, and `CurrentUser`, the extractor that
//! refuses a request without a live session. Sessions live on the server: a
//! cookie counts only while its session is recorded in the database and
//! younger than the session lifetime, so logout (on any server) and expiry
//! hold even for a cookie someone kept.

use std::sync::Arc;

use actix_session::{Session, SessionExt};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use chat_shared::bus::json_payload;
use chat_shared::names::Username;
use chat_shared::payloads::SessionRevoked;
use chat_shared::store::LoginSession;
use chat_shared::subjects;
use futures::future::LocalBoxFuture;

use crate::error::AppError;
use crate::state::AppState;

/// The cookie's name.
pub const COOKIE_NAME: &str = "chat_session";
/// The cookie's field holding the user's name.
const USER_FIELD: &str = "user";
/// The cookie's field holding the session's id.
const SESSION_ID_FIELD: &str = "sid";

/// The logged-in user of a request; 401 otherwise (also for a session that
/// was ended on any server, or has outlived the session lifetime).
pub struct CurrentUser {
    /// The user's name as registered.
    pub name: Arc<str>,
    /// The login session's id, by which logout ends it everywhere.
    pub session_id: Arc<str>,
    /// When the session ends by itself, in Unix milliseconds.
    pub expires_at: i64,
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let user = session.get::<String>(USER_FIELD).ok().flatten();
        let session_id = session_id(&session);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(user), Some(session_id), Some(state)) = (user, session_id, state) else {
                return Err(AppError::Unauthenticated);
            };
            match state.store.live_session(&session_id).await? {
                Some(live) if live.username.eq_ignore_ascii_case(&user) => Ok(CurrentUser {
                    name: Arc::from(live.username),
                    session_id: Arc::from(session_id),
                    expires_at: live.expires_at,
                }),
                _ => Err(AppError::Unauthenticated),
            }
        })
    }
}

/// The id of the request's login session, if it has one.
pub fn session_id(session: &Session) -> Option<String> {
    session.get::<String>(SESSION_ID_FIELD).ok().flatten()
}

/// Starts a new login session for `username`: recorded in the database with
/// its expiry, and a fresh cookie naming it.
pub async fn start(
    state: &AppState,
    session: &Session,
    username: &Username,
) -> Result<String, AppError> {
    let now = chrono::Utc::now().timestamp_millis();
    let lifetime = i64::try_from(state.session_lifetime.as_millis()).unwrap_or(i64::MAX);
    let id = format!("{}{:016x}", chat_shared::message::next_id(), rand_u64());
    state
        .store
        .create_session(&LoginSession {
            session_id: id.clone(),
            username: username.to_string(),
            created_at: now,
            expires_at: now.saturating_add(lifetime),
        })
        .await?;
    session.renew();
    session
        .insert(USER_FIELD, username.as_str())
        .and_then(|()| session.insert(SESSION_ID_FIELD, &id))
        .map_err(|e| {
            tracing::error!(error = %e, "could not write the session");
            AppError::Internal
        })?;
    Ok(id)
}

/// Announces login sessions just deleted from the database, so that every
/// server closes their open WebSockets.
pub async fn announce_ended(state: &AppState, session_ids: Vec<String>) {
    for session_id in session_ids {
        let payload = json_payload(&SessionRevoked { session_id });
        if let Err(e) = state
            .bus
            .publish(subjects::SESSIONS_REVOKED, Vec::new(), payload)
            .await
        {
            tracing::warn!(error = %e, "could not announce an ended session");
        }
    }
}

/// 64 random bits from the OS, via a fresh cookie key.
fn rand_u64() -> u64 {
    let key = actix_web::cookie::Key::generate();
    u64::from_le_bytes(key.master()[..8].try_into().expect("keys are 64 bytes"))
}
