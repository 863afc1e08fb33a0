//! Investors' routes: a quote card for a code (what a cashtag shows) and a
//! channel's watchlist with its quotes (the ticker).

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chat_bot::stock_codes::is_valid_code;
use chat_shared::card::Card;
use chat_shared::correlation::CorrelationId;
use chat_shared::names::ChannelName;
use chat_shared::payloads::QuoteFailure;
use serde_json::json;

use super::channels::readable;
use crate::error::AppError;
use crate::session::CurrentUser;
use crate::state::AppState;

/// The request's id (`request_log`), which a quote asked of a bot carries.
fn request_id(req: &HttpRequest) -> Option<CorrelationId> {
    req.extensions().get::<CorrelationId>().cloned()
}

/// Seconds a browser is asked to wait when the bot is busy.
const BUSY_RETRY_SECS: u64 = 2;

fn refused(failure: QuoteFailure) -> AppError {
    match failure {
        QuoteFailure::NoSuchQuote => AppError::NoSuchQuote,
        QuoteFailure::QuotesUnavailable => AppError::QuotesUnavailable,
        QuoteFailure::Busy => AppError::Busy(BUSY_RETRY_SECS),
    }
}

/// `GET /api/quotes/{code}`: the quote card for `code` (any case).
pub async fn quote(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.to_ascii_lowercase();
    if !is_valid_code(&code) {
        return Err(AppError::InvalidCode);
    }
    let card = state
        .quotes
        .quote(
            &state.bus,
            &code,
            &user.name.to_ascii_lowercase(),
            request_id(&req).as_ref(),
        )
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Ok().json(Card::Quote(card)))
}

/// `GET /api/channels/{name}/watchlist`: the codes, and the quotes of those
/// that have one now, in the same order.
pub async fn watchlist(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    readable(&state, &user, &name).await?;
    let name = ChannelName::parse(&name).map_err(|_| AppError::NoSuchChannel)?;
    let codes = state.store.watchlist(&name).await?;
    let asker = format!("#{name}");
    let correlation = request_id(&req);
    let asked = codes.iter().map(|code| {
        state
            .quotes
            .quote(&state.bus, code, &asker, correlation.as_ref())
    });
    let quotes: Vec<_> = futures::future::join_all(asked)
        .await
        .into_iter()
        .filter_map(Result::ok)
        .map(Card::Quote)
        .collect();
    Ok(HttpResponse::Ok().json(json!({"codes": codes, "quotes": quotes})))
}
