//! Accounts: register, log in, log out, who am I. Passwords are bcrypt-hashed
//! a bounded number at a time (`crate::hash_gate`); sign-ups and failed logins
//! are limited per address and account (`crate::abuse`); the login session is
//! an encrypted cookie (`crate::session`).

use actix_session::Session;
use actix_web::{web, HttpResponse};
use chat_shared::names::{Password, Username};
use chat_shared::store::StoreError;
use serde::{Deserialize, Serialize};

use crate::client_addr::ClientAddr;
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

#[tracing::instrument(skip_all, fields(username = %shown(&body.username), client = %client))]
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
    session::start(&state, &session, &username).await?;
    tracing::info!("registered");
    Ok(HttpResponse::Created().json(Me {
        username: username.as_str(),
    }))
}

#[tracing::instrument(skip_all, fields(username = %shown(&body.username), client = %client))]
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
            crate::metrics::login(true);
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
            state.abuse.login_failed(account, client.0).await;
            crate::metrics::login(false);
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
