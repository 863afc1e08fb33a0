//! Accounts: register, log in, log out, who am I. Passwords are bcrypt-hashed
//! a bounded number at a time (`crate::hash_gate`); sign-ups and failed logins
//! are limited per address and account (`crate::abuse`); the login session is
//! an encrypted cookie (`crate::session`).

use std::sync::atomic::Ordering;

use actix_session::Session;
use actix_web::{web, HttpResponse};
use chat_shared::bus::json_payload;
use chat_shared::names::{Password, Username};
use chat_shared::payloads::SessionRevoked;
use chat_shared::store::StoreError;
use chat_shared::subjects;
use serde::{Deserialize, Serialize};

use crate::client_addr::ClientAddr;
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

#[tracing::instrument(skip_all, fields(username = %body.username, client = %client))]
pub async fn register(
    state: web::Data<AppState>,
    session: Session,
    client: ClientAddr,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, AppError> {
    let username = Username::parse(&body.username).map_err(|e| AppError::Invalid(e.to_string()))?;
    let password = Password::parse(&body.password).map_err(|e| AppError::Invalid(e.to_string()))?;
    if username.is_reserved() {
        return Err(AppError::UsernameReserved);
    }
    if let Err(wait) = state.abuse.sign_up(client.0).await {
        tracing::info!("sign-up refused: too many from this address");
        return Err(AppError::TooManySignups(wait.secs()));
    }
    let hash = state.hashing.hash(password).await?;
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

#[tracing::instrument(skip_all, fields(username = %body.username, client = %client))]
pub async fn login(
    state: web::Data<AppState>,
    session: Session,
    client: ClientAddr,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, AppError> {
    let account = body.username.as_str();
    if let Err(wait) = state.abuse.login_allowed(account, client.0).await {
        tracing::info!("login refused: too many failures");
        return Err(AppError::TooManyAttempts(wait.secs()));
    }
    let user = match Username::parse(account) {
        Ok(name) => state.store.user(&name).await?,
        Err(_) => None,
    };
    // Verified against a real hash even for unknown users, so timing does
    // not reveal which usernames exist.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let valid = state.hashing.verify(body.password.clone(), hash).await?;
    match user {
        Some(user) if valid => {
            state.abuse.login_succeeded(account, client.0).await;
            session::start(&session, &user.username)?;
            tracing::info!("logged in");
            Ok(HttpResponse::Ok().json(Me {
                username: user.username.as_str(),
            }))
        }
        _ => {
            state.abuse.login_failed(account, client.0).await;
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
