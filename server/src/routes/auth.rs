//! Accounts: register, log in, log out, who am I. Passwords are bcrypt-hashed
//! on a blocking thread; the session is an encrypted cookie.

use std::future::{ready, Ready};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_session::{Session, SessionExt};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};
use chat_shared::names::{Password, Username};
use chat_shared::store::StoreError;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::state::AppState;

const SESSION_USER: &str = "user";

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct Me<'a> {
    username: &'a str,
}

/// The logged-in user of a request; 401 otherwise.
pub struct CurrentUser(pub Arc<str>);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = req
            .get_session()
            .get::<String>(SESSION_USER)
            .ok()
            .flatten()
            .filter(|u| Username::parse(u).is_ok());
        ready(user.map(|u| CurrentUser(Arc::from(u))).ok_or(AppError::Unauthenticated))
    }
}

fn start_session(session: &Session, username: &Username) -> Result<(), AppError> {
    session.renew();
    session.insert(SESSION_USER, username.as_str()).map_err(|e| {
        tracing::error!(error = %e, "could not write the session");
        AppError::Internal
    })
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
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
    Ok(HttpResponse::Created().json(Me { username: username.as_str() }))
}

#[tracing::instrument(skip_all, fields(username = %body.username))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, AppError> {
    let ip = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
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
            Ok(HttpResponse::Ok().json(Me { username: user.username.as_str() }))
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

pub async fn logout(session: Session) -> HttpResponse {
    session.purge();
    super::no_content()
}

pub async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(Me { username: &user.0 })
}
