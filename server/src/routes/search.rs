//! `GET /api/search?q=&channel=&before=&limit=`: messages holding every
//! word of `q` (whole words, any order, case-insensitive), newest first,
//! from the channels the caller may read. Read from the archive (full-text
//! indexes kept current by the database on every insert and edit), so a
//! message is found once archived.

use actix_web::{web, HttpResponse};
use chat_shared::message::is_message_id;
use chat_shared::store::SearchQuery;
use serde::Deserialize;
use serde_json::json;

use super::channels::{page_limit, readable};
use crate::error::AppError;
use crate::session::CurrentUser;
use crate::state::AppState;

/// Longest query taken, in characters.
const MAX_QUERY_CHARS: usize = 200;

#[derive(Deserialize)]
pub struct Params {
    q: Option<String>,
    channel: Option<String>,
    before: Option<String>,
    limit: Option<u32>,
}

pub async fn search(
    user: CurrentUser,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, AppError> {
    let q = params.q.as_deref().unwrap_or("");
    if q.chars().count() > MAX_QUERY_CHARS {
        let e = format!("q is at most {MAX_QUERY_CHARS} characters.");
        return Err(AppError::Invalid(e));
    }
    let words = SearchQuery::words(q);
    if words.is_empty() {
        return Err(AppError::Invalid("Search for at least one word.".into()));
    }
    let limit = page_limit(
        params.limit,
        SearchQuery::DEFAULT_PAGE,
        SearchQuery::MAX_PAGE,
    )?;
    if params.before.as_deref().is_some_and(|b| !is_message_id(b)) {
        return Err(AppError::Invalid("before must be a message id.".into()));
    }
    // Only what the caller may read: the channel asked for (if they may),
    // or every channel they may read (the store checks).
    let channels = match &params.channel {
        Some(name) => Some(vec![readable(&state, &user, name).await?.channel.name]),
        None => None,
    };
    let query = SearchQuery {
        words,
        channels,
        before: params.before.clone(),
        limit,
        reader: user.name.to_ascii_lowercase(),
    };
    let messages = state.store.search(&query).await?;
    Ok(HttpResponse::Ok().json(json!({ "messages": messages })))
}
