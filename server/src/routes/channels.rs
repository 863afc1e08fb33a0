//! Channels: the list of those the caller may read (in pages), create
//! (limited per account and address; a public one is announced live on
//! `chat.channels`), and paged history.

use actix_web::{web, HttpResponse};
use chat_shared::bus::json_payload;
use chat_shared::message::is_message_id;
use chat_shared::names::ChannelName;
use chat_shared::people::{Entry, ToPerson};
use chat_shared::store::{Access, HistoryQuery, Kind, Listed, Role, StoreError};
use chat_shared::subjects;
use serde::Deserialize;
use serde_json::json;

use crate::client_addr::ClientAddr;
use crate::error::AppError;
use crate::session::CurrentUser;
use crate::state::AppState;
use chat_shared::log_text::shown;

/// Channels in a page when the client does not say.
const DEFAULT_CHANNEL_PAGE: u32 = 100;
/// The most channels one page returns.
const MAX_CHANNEL_PAGE: u32 = 500;

#[derive(Deserialize)]
pub struct ChannelsPage {
    after: Option<String>,
    limit: Option<u32>,
}

/// A page of channels by name, after `after`; `next` is the `after` of the
/// following page, `null` on the last.
pub async fn list(
    user: CurrentUser,
    state: web::Data<AppState>,
    page: web::Query<ChannelsPage>,
) -> Result<HttpResponse, AppError> {
    let limit = page_limit(page.limit, DEFAULT_CHANNEL_PAGE, MAX_CHANNEL_PAGE)?;
    let after = match page.after.as_deref() {
        Some(name) => Some(
            ChannelName::parse(name)
                .map_err(|_| AppError::Invalid("after must be a channel name.".into()))?,
        ),
        None => None,
    };
    // One more than asked for tells whether another page follows.
    let me = user.name.to_ascii_lowercase();
    let mut channels = state.store.channels(&me, after.as_ref(), limit + 1).await?;
    let next = match channels.len() > limit as usize {
        true => {
            channels.truncate(limit as usize);
            channels.last().map(|c| c.channel.name.to_string())
        }
        false => None,
    };
    // With how far the caller has read each, and what is unread after.
    let read = state.store.read_state(&user.name).await?;
    let channels: Vec<_> = channels
        .iter()
        .map(|c| {
            let mut entry = json!(Entry::new(c, &me));
            let state = read.iter().find(|r| r.channel == c.channel.name.as_str());
            entry["unread"] = json!(state.map_or(0, |r| r.unread));
            entry["mentions"] = json!(state.map_or(0, |r| r.mentions));
            entry["last_read"] = json!(state.map(|r| r.last_read.as_str()));
            entry
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "channels": channels, "next": next })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    name: String,
    #[serde(default)]
    private: bool,
}

#[tracing::instrument(skip_all, fields(user = %user.name, channel = %shown(&body.name), client = %client))]
pub async fn create(
    user: CurrentUser,
    state: web::Data<AppState>,
    client: ClientAddr,
    body: web::Json<NewChannel>,
) -> Result<HttpResponse, AppError> {
    let name = ChannelName::parse_new(&body.name).map_err(|e| AppError::Invalid(e.to_string()))?;
    if let Err(wait) = state.abuse.channel_allowed(&user.name, client.0).await {
        tracing::info!("channel refused: too many new channels");
        return Err(AppError::TooManyNewChannels(wait.secs()));
    }
    let kind = if body.private {
        Kind::Private
    } else {
        Kind::Public
    };
    let channel = match state.store.create_channel(&name, &user.name, kind).await {
        Ok(c) => c,
        Err(StoreError::Conflict) => return Err(AppError::ChannelExists),
        Err(e) => return Err(e.into()),
    };
    state.abuse.channel_created(&user.name, client.0).await;
    let info = channel.info();
    // Only a public channel is announced: a private one exists for its
    // members alone.
    if kind == Kind::Public {
        let announced = state
            .bus
            .publish(subjects::CHANNELS, Vec::new(), json_payload(&info))
            .await;
        if let Err(e) = announced {
            tracing::warn!(error = %e, "could not announce the new channel");
        }
    }
    tracing::info!(kind = kind.as_str(), "channel created");
    let listed = Listed {
        channel,
        role: Some(Role::Owner),
    };
    let me = user.name.to_ascii_lowercase();
    let entry = Entry::new(&listed, &me);
    if kind == Kind::Private {
        // The creator's other devices learn of it as its only member would.
        let frame = ToPerson::Invited {
            channel: entry.clone(),
            by: me.clone(),
        };
        crate::tell::tell(state.bus.as_ref(), &me, &frame).await;
    }
    Ok(HttpResponse::Created().json(entry))
}

#[derive(Deserialize)]
pub struct Page {
    before: Option<String>,
    limit: Option<u32>,
}

pub async fn messages(
    user: CurrentUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
    page: web::Query<Page>,
) -> Result<HttpResponse, AppError> {
    let name = readable(&state, &user, &name).await?.channel.name;
    let limit = page_limit(
        page.limit,
        HistoryQuery::DEFAULT_PAGE,
        HistoryQuery::MAX_PAGE,
    )?;
    if page.before.as_deref().is_some_and(|b| !is_message_id(b)) {
        return Err(AppError::Invalid("before must be a message id.".into()));
    }
    let query = HistoryQuery {
        before: page.before.clone(),
        since: None,
        limit,
    };
    let (bus, store) = (state.bus.as_ref(), state.store.as_ref());
    let asked = std::time::Instant::now();
    let messages = chat_shared::history::page(bus, store, &state.bus_key, &name, &query).await;
    crate::metrics::history_took(asked.elapsed());
    let messages = messages?;
    Ok(HttpResponse::Ok().json(json!({ "messages": messages })))
}

/// The channel named `name` and the caller's standing in it, if they may
/// read it; else `no_such_channel`, as for a channel that does not exist.
pub(super) async fn readable(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
) -> Result<Access, AppError> {
    let name = ChannelName::parse(name).map_err(|_| AppError::NoSuchChannel)?;
    match state.store.access(&name, &user.name).await? {
        Some(access) if access.may_read() => Ok(access),
        _ => Err(AppError::NoSuchChannel),
    }
}

/// One message of a channel (e.g. the original a reply quotes), archived or
/// still on its way to the archive.
pub async fn message(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (name, id) = path.into_inner();
    let name = readable(&state, &user, &name).await?.channel.name;
    if !is_message_id(&id) {
        return Err(AppError::NoSuchMessage);
    }
    let (bus, store) = (state.bus.as_ref(), state.store.as_ref());
    let found = chat_shared::history::find(bus, store, &state.bus_key, &name, &id).await?;
    let message = found.ok_or(AppError::NoSuchMessage)?;
    Ok(HttpResponse::Ok().json(json!({ "message": message })))
}

/// A page's length: `given`, or `default` when not given; 1 to `max`.
pub(super) fn page_limit(given: Option<u32>, default: u32, max: u32) -> Result<u32, AppError> {
    let limit = given.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(AppError::Invalid(format!(
            "limit must be between 1 and {max}."
        )));
    }
    Ok(limit)
}
