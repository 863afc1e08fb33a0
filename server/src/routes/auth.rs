//! Accounts: register, log in, log out, who am I. Passwords are bcrypt-hashed
//! on a blocking thread; the session is an encrypted cookie.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_session::{Session, SessionExt};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};
use bytes::Bytes;
use chat_shared::names::{Password, Username};
use chat_shared::store::StoreError;
use chat_shared::subjects::{self, SessionRevoked};
use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::state::AppState;

const SESSION_USER: &str = "user";
const SESSION_ID: &str = "sid";
/// How long a session cookie lives (and a revocation is remembered).
pub const SESSION_DAYS: i64 = 30;

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct Me<'a> {
    username: &'a str,
}

/// The logged-in user of a request; 401 otherwise (also for a session that
/// was logged out, on any server).
pub struct CurrentUser {
    pub name: Arc<str>,
    /// The session's id, by which logout revokes it everywhere.
    pub sid: Arc<str>,
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let user = session
            .get::<String>(SESSION_USER)
            .ok()
            .flatten()
            .filter(|u| Username::parse(u).is_ok());
        let sid = session.get::<String>(SESSION_ID).ok().flatten();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(name), Some(sid), Some(state)) = (user, sid, state) else {
                return Err(AppError::Unauthenticated);
            };
            if state.store.is_revoked(&sid).await? {
                return Err(AppError::Unauthenticated);
            }
            Ok(CurrentUser {
                name: Arc::from(name),
                sid: Arc::from(sid),
            })
        })
    }
}

fn start_session(session: &Session, username: &Username) -> Result<(), AppError> {
    session.renew();
    let sid = format!("{}{:016x}", chat_shared::message::next_id(), rand_u64());
    session
        .insert(SESSION_USER, username.as_str())
        .and_then(|()| session.insert(SESSION_ID, sid))
        .map_err(|e| {
            tracing::error!(error = %e, "could not write the session");
            AppError::Internal
        })
}

/// 64 random bits from the OS, via a fresh cookie key.
fn rand_u64() -> u64 {
    let key = actix_web::cookie::Key::generate();
    u64::from_le_bytes(key.master()[..8].try_into().expect("keys are 64 bytes"))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    web::block(f).await.map_err(|_| AppError::Internal)
}

#[tracing::instrument(skip_all, fields(username = %body.username))]
pub async fn register(
    state: web::Data<AppState>,
    session: Session,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, AppError> {
    let username = Username::parse(&body.username).map_err(|e| AppError::Invalid(e.to_string()))?;
    let password = Password::parse(&body.password).map_err(|e| AppError::Invalid(e.to_string()))?;
    let cost = state.bcrypt_cost;
    let hash = blocking(move || crate::passwords::hash(password.expose(), cost))
        .await?
        .map_err(|_| AppError::Internal)?;
    match state.store.create_user(&username, &hash).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(AppError::UsernameTaken),
        Err(e) => return Err(e.into()),
    }
    start_session(&session, &username)?;
    tracing::info!("registered");
    Ok(HttpResponse::Created().json(Me {
        username: username.as_str(),
    }))
}

#[tracing::instrument(skip_all, fields(username = %body.username))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, AppError> {
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let name_key = format!("user:{}", body.username.to_ascii_lowercase());
    let ip_key = format!("ip:{ip}");
    let keys = [name_key.as_str(), ip_key.as_str()];
    if let Some(wait) = state.login_limiter.retry_after(&keys) {
        return Err(AppError::TooManyAttempts(wait));
    }
    let user = match Username::parse(&body.username) {
        Ok(name) => state.store.user(&name).await?,
        Err(_) => None,
    };
    // Verify against a real hash even for unknown users, so timing does not
    // reveal which usernames exist.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let (password, cost) = (body.password.clone(), state.bcrypt_cost);
    let valid = blocking(move || {
        let hash = hash.unwrap_or_else(|| dummy_hash(cost).to_owned());
        crate::passwords::verify(&password, &hash)
    })
    .await?;
    match user {
        Some(user) if valid => {
            state.login_limiter.succeeded(&name_key);
            start_session(&session, &user.username)?;
            tracing::info!("logged in");
            Ok(HttpResponse::Ok().json(Me {
                username: user.username.as_str(),
            }))
        }
        _ => {
            state.login_limiter.failed(&keys);
            state.metrics.logins_failed.fetch_add(1, Ordering::Relaxed);
            tracing::info!("login refused");
            Err(AppError::BadCredentials)
        }
    }
}

/// A bcrypt hash of a random password at the server's cost, made once.
fn dummy_hash(cost: u32) -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let secret = chat_shared::message::next_id().to_string();
        crate::passwords::hash(&secret, cost).expect("bcrypt hashes a short string")
    })
}

/// Ends the session here and on every server: its id is revoked in the
/// database and announced, so open WebSockets of that session close too.
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    if let Ok(Some(sid)) = session.get::<String>(SESSION_ID) {
        let until = chrono::Utc::now().timestamp_millis() + SESSION_DAYS * 24 * 3600 * 1000;
        state.store.revoke_session(&sid, until).await?;
        let payload = Bytes::from(serde_json::to_vec(&SessionRevoked { sid }).expect("serializes"));
        if let Err(e) = state
            .bus
            .publish(subjects::SESSIONS_REVOKED, Vec::new(), payload)
            .await
        {
            tracing::warn!(error = %e, "could not announce a logout");
        }
    }
    session.purge();
    Ok(super::no_content())
}

pub async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        username: &user.name,
    })
}
