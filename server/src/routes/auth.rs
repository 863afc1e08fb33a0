//! Accounts: register, log in, log out, who am I. Passwords are bcrypt-hashed
//! on a blocking thread; the login session is an encrypted cookie (`crate::session`).

use std::sync::atomic::Ordering;

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use chat_shared::bus::json_payload;
use chat_shared::names::{Password, Username};
use chat_shared::payloads::SessionRevoked;
use chat_shared::store::StoreError;
use chat_shared::subjects;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::session::{self, CurrentUser};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct Me<'a> {
    username: &'a str,
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
    if username.is_reserved() {
        return Err(AppError::UsernameReserved);
    }
    let cost = state.bcrypt_cost;
    let hash = blocking(move || crate::passwords::hash(password.expose(), cost))
        .await?
        .map_err(|_| AppError::Internal)?;
    match state.store.create_user(&username, &hash).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(AppError::UsernameTaken),
        Err(e) => return Err(e.into()),
    }
    session::start(&session, &username)?;
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
        let hash = hash.unwrap_or_else(|| crate::passwords::dummy_hash(cost).to_owned());
        crate::passwords::verify(&password, &hash)
    })
    .await?;
    match user {
        Some(user) if valid => {
            state.login_limiter.succeeded(&name_key);
            session::start(&session, &user.username)?;
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

/// Ends the session here and on every server: its id is revoked in the
/// database and announced, so open WebSockets of that session close too.
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    if let Some(session_id) = session::session_id(&session) {
        let until = session::expiry_millis();
        state.store.revoke_session(&session_id, until).await?;
        let payload = json_payload(&SessionRevoked { session_id });
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
