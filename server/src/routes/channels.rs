//! Channels: list, create (announced live on `chat.channels`), and paged history.

use actix_web::{web, HttpResponse};
use chat_shared::bus::json_payload;
use chat_shared::message::is_message_id;
use chat_shared::names::ChannelName;
use chat_shared::store::{HistoryQuery, StoreError};
use chat_shared::subjects;
use serde::Deserialize;
use serde_json::json;

use crate::error::AppError;
use crate::session::CurrentUser;
use crate::state::AppState;
use chat_shared::log_text::shown;

pub async fn list(_: CurrentUser, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let channels: Vec<_> = state
        .store
        .channels()
        .await?
        .iter()
        .map(|c| c.info())
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "channels": channels })))
}

#[derive(Deserialize)]
pub struct NewChannel {
    name: String,
}

#[tracing::instrument(skip_all, fields(user = %user.name, channel = %shown(&body.name)))]
pub async fn create(
    user: CurrentUser,
    state: web::Data<AppState>,
    body: web::Json<NewChannel>,
) -> Result<HttpResponse, AppError> {
    let name = ChannelName::parse(&body.name).map_err(|e| AppError::Invalid(e.to_string()))?;
    let channel = match state.store.create_channel(&name, &user.name).await {
        Ok(c) => c,
        Err(StoreError::Conflict) => return Err(AppError::ChannelExists),
        Err(e) => return Err(e.into()),
    };
    let info = channel.info();
    if let Err(e) = state
        .bus
        .publish(subjects::CHANNELS, Vec::new(), json_payload(&info))
        .await
    {
        tracing::warn!(error = %e, "could not announce the new channel");
    }
    tracing::info!("channel created");
    Ok(HttpResponse::Created().json(info))
}

#[derive(Deserialize)]
pub struct Page {
    before: Option<String>,
    limit: Option<u32>,
}

pub async fn messages(
    _: CurrentUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
    page: web::Query<Page>,
) -> Result<HttpResponse, AppError> {
    let name = ChannelName::parse(&name).map_err(|_| AppError::NoSuchChannel)?;
    let (limit, max) = (
        page.limit.unwrap_or(HistoryQuery::DEFAULT_PAGE),
        HistoryQuery::MAX_PAGE,
    );
    if !(1..=max).contains(&limit) {
        return Err(AppError::Invalid(format!(
            "limit must be between 1 and {max}."
        )));
    }
    if page.before.as_deref().is_some_and(|b| !is_message_id(b)) {
        return Err(AppError::Invalid("before must be a message id.".into()));
    }
    if state.store.channel(&name).await?.is_none() {
        return Err(AppError::NoSuchChannel);
    }
    let query = HistoryQuery {
        before: page.before.clone(),
        since: None,
        limit,
    };
    let messages = state.store.messages(&name, &query).await?;
    Ok(HttpResponse::Ok().json(json!({ "messages": messages })))
}
