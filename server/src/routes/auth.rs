//! Accounts: register, log in, log out, who am I. Passwords are bcrypt-hashed
//! on a blocking thread; the login session is an encrypted cookie (`crate::session`).

use std::sync::atomic::Ordering;

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use chat_shared::names::{Password, Username};
use chat_shared::store::StoreError;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::session::{self, CurrentUser};
use crate::state::AppState;
use chat_shared::log_text::shown;

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    /// On login: end every other session of this account ("log out everywhere else").
    #[serde(default)]
    end_other_sessions: bool,
}

/// What `POST /api/logout` may say.
#[derive(Deserialize, Default)]
pub struct LogoutOptions {
    /// End every session of the account, not only this one.
    #[serde(default)]
    everywhere: bool,
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

#[tracing::instrument(skip_all, fields(username = %shown(&body.username)))]
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
    session::start(&state, &session, &username).await?;
    tracing::info!("registered");
    Ok(HttpResponse::Created().json(Me {
        username: username.as_str(),
    }))
}

#[tracing::instrument(skip_all, fields(username = %shown(&body.username)))]
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
            let kept = session::start(&state, &session, &user.username).await?;
            if body.end_other_sessions {
                let ended = state
                    .store
                    .end_sessions_of(&user.username, Some(&kept))
                    .await?;
                tracing::info!(ended = ended.len(), "other sessions ended");
                session::announce_ended(&state, ended).await;
            }
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

/// Ends the session (or, with `{"everywhere":true}`, every session of the
/// account) here and on every server: deleted from the database, and
/// announced so that open WebSockets of those sessions close too.
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
    options: Option<web::Json<LogoutOptions>>,
) -> Result<HttpResponse, AppError> {
    let everywhere = options.is_some_and(|o| o.everywhere);
    if let Some(session_id) = session::session_id(&session) {
        let ended = match state.store.live_session(&session_id).await? {
            Some(live) if everywhere => {
                let name = Username::parse(&live.username).map_err(|_| AppError::Internal)?;
                state.store.end_sessions_of(&name, None).await?
            }
            _ => {
                state.store.end_session(&session_id).await?;
                vec![session_id]
            }
        };
        session::announce_ended(&state, ended).await;
    }
    session.purge();
    Ok(super::no_content())
}

pub async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        username: &user.name,
    })
}
