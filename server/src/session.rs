//! Login sessions: what the session cookie holds (the user and the session's
//! id), how long it lives, starting one, and `CurrentUser`, the extractor
//! that refuses a request without a live session. A session is ended by
//! logout on any server: its id is revoked in the database.

use std::sync::Arc;

use actix_session::{Session, SessionExt};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use chat_shared::names::Username;
use futures::future::LocalBoxFuture;

use crate::error::AppError;
use crate::state::AppState;

/// The cookie's name.
pub const COOKIE_NAME: &str = "chat_session";
/// How long a session cookie lives (and a revocation is remembered), in days.
pub const LIFETIME_DAYS: i64 = 30;
/// The cookie's field holding the user's name.
const USER_FIELD: &str = "user";
/// The cookie's field holding the session's id.
const SESSION_ID_FIELD: &str = "sid";

/// The logged-in user of a request; 401 otherwise (also for a session that
/// was logged out, on any server).
pub struct CurrentUser {
    pub name: Arc<str>,
    /// The login session's id, by which logout revokes it everywhere.
    pub session_id: Arc<str>,
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let user = session
            .get::<String>(USER_FIELD)
            .ok()
            .flatten()
            .filter(|u| Username::parse(u).is_ok());
        let session_id = session_id(&session);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(name), Some(session_id), Some(state)) = (user, session_id, state) else {
                return Err(AppError::Unauthenticated);
            };
            if state.store.is_revoked(&session_id).await? {
                return Err(AppError::Unauthenticated);
            }
            Ok(CurrentUser {
                name: Arc::from(name),
                session_id: Arc::from(session_id),
            })
        })
    }
}

/// The id of the request's login session, if it has one.
pub fn session_id(session: &Session) -> Option<String> {
    session.get::<String>(SESSION_ID_FIELD).ok().flatten()
}

/// Starts a new login session for `username` (a fresh cookie and id).
pub fn start(session: &Session, username: &Username) -> Result<(), AppError> {
    session.renew();
    let id = format!("{}{:016x}", chat_shared::message::next_id(), rand_u64());
    session
        .insert(USER_FIELD, username.as_str())
        .and_then(|()| session.insert(SESSION_ID_FIELD, id))
        .map_err(|e| {
            tracing::error!(error = %e, "could not write the session");
            AppError::Internal
        })
}

/// When a session started now would expire, in Unix milliseconds.
pub fn expiry_millis() -> i64 {
    chrono::Utc::now().timestamp_millis() + LIFETIME_DAYS * 24 * 3600 * 1000
}

/// 64 random bits from the OS, via a fresh cookie key.
fn rand_u64() -> u64 {
    let key = actix_web::cookie::Key::generate();
    u64::from_le_bytes(key.master()[..8].try_into().expect("keys are 64 bytes"))
}
