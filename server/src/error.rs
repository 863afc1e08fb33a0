//! The HTTP API's errors: one enum, each variant with its status and stable
//! code, rendered as `{"error":{"code","message"}}`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use chat_shared::store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error("That username is taken.")]
    UsernameTaken,
    #[error("That username is reserved; please choose another.")]
    UsernameReserved,
    #[error("A channel with that name already exists.")]
    ChannelExists,
    #[error("Wrong username or password.")]
    BadCredentials,
    #[error("You need to log in.")]
    Unauthenticated,
    #[error("Requests from another site are not accepted.")]
    ForeignOrigin,
    #[error("No such channel.")]
    NoSuchChannel,
    #[error("No such message in that channel.")]
    NoSuchMessage,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("There is no user by that name.")]
    NoSuchUser,
    #[error("A stock code is letters, digits, '.' and '-', at most 20 characters (e.g. aapl.us).")]
    InvalidCode,
    #[error("The quote service has no quote for that code.")]
    NoSuchQuote,
    #[error("Quotes are unavailable right now; try again later.")]
    QuotesUnavailable,
    #[error("That person is not a member of this channel.")]
    NotAMember,
    #[error("That person is not banned from this channel.")]
    NotBanned,
    #[error("Too many attempts; try again in {0} seconds.")]
    TooManyAttempts(u64),
    #[error("Too many new accounts from your address; try again in {0} seconds.")]
    TooManySignups(u64),
    #[error("Too many new channels; try again in {0} seconds.")]
    TooManyNewChannels(u64),
    #[error("Too many connections for this account.")]
    TooManyConnections,
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("The request took too long to arrive.")]
    RequestTimeout,
    #[error("The service is temporarily unavailable; try again shortly.")]
    Unavailable,
    #[error("The server is busy; try again in {0} seconds.")]
    Busy(u64),
    #[error("Something went wrong on our side.")]
    Internal,
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid",
            AppError::UsernameTaken => "username_taken",
            AppError::UsernameReserved => "username_reserved",
            AppError::ChannelExists => "channel_exists",
            AppError::BadCredentials => "bad_credentials",
            AppError::Unauthenticated => "unauthenticated",
            AppError::ForeignOrigin => "forbidden_origin",
            AppError::NoSuchChannel => "no_such_channel",
            AppError::NoSuchMessage => "no_such_message",
            AppError::NotFound => "not_found",
            AppError::Forbidden(_) => "forbidden",
            AppError::NoSuchUser => "no_such_user",
            AppError::NotAMember => "not_a_member",
            AppError::InvalidCode => "invalid_code",
            AppError::NoSuchQuote => "no_such_quote",
            AppError::QuotesUnavailable => "quotes_unavailable",
            AppError::NotBanned => "not_banned",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::TooManySignups(_) | AppError::TooManyNewChannels(_) => "rate_limited",
            AppError::TooManyConnections => "too_many_connections",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::RequestTimeout => "request_timeout",
            AppError::Unavailable => "unavailable",
            AppError::Busy(_) => "busy",
            AppError::Internal => "internal",
        }
    }

    /// Seconds to wait before trying again, for the answers that say so.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyAttempts(secs)
            | AppError::TooManySignups(secs)
            | AppError::TooManyNewChannels(secs)
            | AppError::Busy(secs) => Some(*secs),
            _ => None,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) | AppError::InvalidCode => StatusCode::BAD_REQUEST,
            AppError::UsernameTaken | AppError::UsernameReserved | AppError::ChannelExists => {
                StatusCode::CONFLICT
            }
            AppError::BadCredentials | AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::ForeignOrigin | AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NoSuchChannel
            | AppError::NoSuchMessage
            | AppError::NotFound
            | AppError::NoSuchUser
            | AppError::NotAMember
            | AppError::NotBanned
            | AppError::NoSuchQuote => StatusCode::NOT_FOUND,
            AppError::TooManyAttempts(_)
            | AppError::TooManySignups(_)
            | AppError::TooManyNewChannels(_)
            | AppError::TooManyConnections => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::Unavailable | AppError::Busy(_) | AppError::QuotesUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after() {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let AppError::RequestTimeout = self {
            // The rest of the body is not worth waiting for.
            response.force_close();
        }
        response.json(json!({"error": {"code": self.code(), "message": self.to_string()}}))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(why) => {
                tracing::warn!(error = %why, "database unavailable");
                AppError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "database error");
                AppError::Internal
            }
        }
    }
}
