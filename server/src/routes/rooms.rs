//! People and rooms: direct conversations, the people picker, and a
//! channel's members, roles and bans. Whoever may not read a channel gets
//! `no_such_channel` from each of these, as for a channel that does not
//! exist; only its owner and moderators change who is in it.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chat_shared::names::{ChannelName, Username};
use chat_shared::people::{Entry, ToPerson};
use chat_shared::store::{Access, Kind, Listed, Member, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::channels::{page_limit, readable};
use crate::actors::channel::Present;
use crate::actors::registry::PresentIn;
use crate::error::AppError;
use crate::session::CurrentUser;
use crate::state::AppState;
use crate::tell::tell;

/// Names the people picker offers at once, by default and at most.
const DEFAULT_USERS: u32 = 10;
const MAX_USERS: u32 = 20;
/// Members in a page, by default and at most.
const DEFAULT_MEMBERS: u32 = 100;
const MAX_MEMBERS: u32 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Someone {
    user: String,
}

/// `user`, if such an account exists: its lower-case name.
async fn existing(state: &AppState, user: &str) -> Result<String, AppError> {
    let name = Username::parse(user).map_err(|_| AppError::NoSuchUser)?;
    match state.store.user(&name).await? {
        Some(found) => Ok(found.username.key()),
        None => Err(AppError::NoSuchUser),
    }
}

/// `POST /api/dms {"user"}`: the one conversation of the caller and `user`,
/// opened now (201, and both are told on every connection) or found (200).
#[tracing::instrument(skip_all, fields(user = %user.name))]
pub async fn open_dm(
    user: CurrentUser,
    state: web::Data<AppState>,
    body: web::Json<Someone>,
) -> Result<HttpResponse, AppError> {
    let me = user.name.to_ascii_lowercase();
    let peer = existing(&state, &body.user).await?;
    if peer == me {
        return Err(AppError::Invalid(
            "A direct conversation is with someone else.".into(),
        ));
    }
    let (a, b) = (
        Username::parse(&me).map_err(|_| AppError::Internal)?,
        Username::parse(&peer).map_err(|_| AppError::Internal)?,
    );
    let name = ChannelName::dm(&a, &b);
    let (channel, opened) = state.store.open_dm(&name, &me, &peer).await?;
    let listed = Listed {
        channel,
        role: Some(Role::Member),
    };
    if opened {
        tracing::info!(channel = %name, "direct conversation opened");
        for person in [&peer, &me] {
            let frame = ToPerson::Dm {
                channel: Entry::new(&listed, person),
            };
            tell(state.bus.as_ref(), person, &frame).await;
        }
    }
    let entry = Entry::new(&listed, &me);
    Ok(match opened {
        true => HttpResponse::Created().json(entry),
        false => HttpResponse::Ok().json(entry),
    })
}

#[derive(Deserialize)]
pub struct Prefix {
    prefix: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/users?prefix=`: names for the people picker.
pub async fn users(
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<Prefix>,
) -> Result<HttpResponse, AppError> {
    let limit = page_limit(query.limit, DEFAULT_USERS, MAX_USERS)?;
    let prefix = query.prefix.as_deref().unwrap_or("");
    let fits = prefix.len() <= 32
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !fits {
        return Err(AppError::Invalid(
            "prefix is at most 32 letters, digits or underscores.".into(),
        ));
    }
    let me = user.name.to_ascii_lowercase();
    let users = state.store.users_with_prefix(prefix, &me, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "users": users })))
}

#[derive(Deserialize)]
pub struct MembersPage {
    after: Option<String>,
    limit: Option<u32>,
}

/// One entry of a channel's member list.
#[derive(Debug, Serialize)]
struct Listing {
    user: String,
    /// Their role; `member` for someone present without one.
    role: Role,
    /// Present now (as this server knows: everyone, while it has members
    /// in the channel).
    online: bool,
}

/// `GET /api/channels/{name}/members`: those with a role there and those
/// present now, by name, paged with `after` (the last name of a page, lower
/// case); `online` counts who is present.
pub async fn members(
    user: CurrentUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
    page: web::Query<MembersPage>,
) -> Result<HttpResponse, AppError> {
    let access = readable(&state, &user, &name).await?;
    let limit = page_limit(page.limit, DEFAULT_MEMBERS, MAX_MEMBERS)? as usize;
    let after = page.after.as_deref().unwrap_or("");
    let channel = access.channel.name;
    let stored = state
        .store
        .members(&channel, after, limit as u32 + 1)
        .await?;
    let ask = Present {
        after: (!after.is_empty()).then(|| after.to_owned()),
        limit: limit + 1,
    };
    let present = state
        .registry
        .send(PresentIn { channel, ask })
        .await
        .unwrap_or_default();
    let mut listed = merged(stored, present.members);
    let next = match listed.len() > limit {
        true => {
            listed.truncate(limit);
            listed.last().map(|m| m.user.to_ascii_lowercase())
        }
        false => None,
    };
    Ok(
        HttpResponse::Ok()
            .json(json!({ "members": listed, "next": next, "online": present.count })),
    )
}

/// Those with a role and those present (both in lower-case name order), as
/// one list in that order, each once.
fn merged(stored: Vec<Member>, present: Vec<String>) -> Vec<Listing> {
    let mut by_name: BTreeMap<String, Listing> = BTreeMap::new();
    for m in stored {
        let listing = Listing {
            user: m.user,
            role: m.role,
            online: false,
        };
        by_name.insert(listing.user.to_ascii_lowercase(), listing);
    }
    for user in present {
        by_name
            .entry(user.to_ascii_lowercase())
            .or_insert_with(|| Listing {
                user,
                role: Role::Member,
                online: false,
            })
            .online = true;
    }
    by_name.into_values().collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    user: String,
    role: Option<String>,
}

/// The caller's standing in a channel they may read and run (owner or
/// moderator; never in a DM), else `forbidden` (or `no_such_channel`).
async fn managed(state: &AppState, user: &CurrentUser, name: &str) -> Result<Access, AppError> {
    let access = readable(state, user, name).await?;
    if access.channel.kind == Kind::Dm {
        return Err(AppError::Forbidden(
            "A direct conversation has its two people, no more and no fewer.".into(),
        ));
    }
    if !access.manages() {
        return Err(AppError::Forbidden(
            "Only the channel's owner and moderators may do that.".into(),
        ));
    }
    Ok(access)
}

/// `POST /api/channels/{name}/members {"user","role"?}`: invites into a
/// private channel (201) or changes a role (200).
#[tracing::instrument(skip_all, fields(user = %user.name, channel = %name))]
pub async fn add_member(
    user: CurrentUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<NewMember>,
) -> Result<HttpResponse, AppError> {
    let access = managed(&state, &user, &name).await?;
    let role = asked_role(body.role.as_deref())?;
    let target = existing(&state, &body.user).await?;
    let channel = access.channel.name.clone();
    let theirs = state.store.access(&channel, &target).await?;
    let had = theirs.as_ref().and_then(|a| a.role);
    check_role_change(&access, had, role)?;
    if theirs.as_ref().is_some_and(|t| t.banned) {
        return Err(AppError::Invalid(
            "That person is banned from this channel: lift the ban first.".into(),
        ));
    }
    let by = user.name.to_ascii_lowercase();
    let public = access.channel.kind == Kind::Public;
    if public && role == Role::Member {
        state.store.remove_member(&channel, &target).await?;
    } else {
        state.store.set_role(&channel, &target, role, &by).await?;
    }
    let invited = had.is_none() && !public;
    // What did not change is not news (inviting a member again).
    let changed = match (had, public) {
        // No row in a public channel is a plain member's standing.
        (None, true) => role != Role::Member,
        (None, false) => true,
        (Some(was), _) => was != role,
    };
    let frame = match invited {
        true => ToPerson::Invited {
            channel: Entry::new(
                &Listed {
                    channel: access.channel.clone(),
                    role: Some(role),
                },
                &target,
            ),
            by: by.clone(),
        },
        false => ToPerson::Role {
            channel: channel.clone(),
            role,
            by: by.clone(),
        },
    };
    if changed {
        tell(state.bus.as_ref(), &target, &frame).await;
    }
    tracing::info!(target = %target, role = role.as_str(), invited, "membership changed");
    let body = json!({ "user": target, "role": role });
    Ok(match invited {
        true => HttpResponse::Created().json(body),
        false => HttpResponse::Ok().json(body),
    })
}

/// The role a request names: `member` (also when none) or `moderator`.
fn asked_role(role: Option<&str>) -> Result<Role, AppError> {
    match role {
        None | Some("member") => Ok(Role::Member),
        Some("moderator") => Ok(Role::Moderator),
        Some(_) => Err(AppError::Invalid(
            "role is \"member\" or \"moderator\".".into(),
        )),
    }
}

/// Whether the caller (`access`) may give someone whose role is `had`
/// the role `to`: nobody touches the owner's; only the owner makes a
/// moderator anything else.
fn check_role_change(access: &Access, had: Option<Role>, to: Role) -> Result<(), AppError> {
    match had {
        Some(Role::Owner) => Err(AppError::Forbidden(
            "Nobody can change the owner's role.".into(),
        )),
        Some(Role::Moderator) if to != Role::Moderator && access.role != Some(Role::Owner) => Err(
            AppError::Forbidden("Only the owner can change a moderator's role.".into()),
        ),
        _ => Ok(()),
    }
}

/// `DELETE /api/channels/{name}/members/{user}`: removes someone from a
/// private channel, or bans them from a public one; each of their
/// connections leaves it at once, on every server.
#[tracing::instrument(skip_all, fields(user = %user.name))]
pub async fn remove_member(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (name, who) = path.into_inner();
    let access = managed(&state, &user, &name).await?;
    let target = existing(&state, &who).await?;
    let by = user.name.to_ascii_lowercase();
    if target == by {
        return Err(AppError::Invalid("You cannot remove yourself.".into()));
    }
    let channel = access.channel.name.clone();
    let theirs = state.store.access(&channel, &target).await?;
    match theirs.as_ref().and_then(|t| t.role) {
        Some(Role::Owner) => {
            return Err(AppError::Forbidden("Nobody can remove the owner.".into()))
        }
        Some(Role::Moderator) if access.role != Some(Role::Owner) => {
            return Err(AppError::Forbidden(
                "Only the owner can remove a moderator.".into(),
            ))
        }
        _ => {}
    }
    match access.channel.kind {
        Kind::Public => state.store.ban(&channel, &target, &by).await?,
        _ => {
            if !state.store.remove_member(&channel, &target).await? {
                return Err(AppError::NotAMember);
            }
        }
    }
    tracing::info!(channel = %channel, target = %target, "removed from a channel");
    let banned = access.channel.kind == Kind::Public;
    let frame = ToPerson::Kicked {
        channel,
        by,
        banned,
    };
    tell(state.bus.as_ref(), &target, &frame).await;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/channels/{name}/bans`: who is banned (owner and moderators).
pub async fn bans(
    user: CurrentUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let access = managed(&state, &user, &name).await?;
    let bans = state.store.bans(&access.channel.name).await?;
    Ok(HttpResponse::Ok().json(json!({ "bans": bans })))
}

/// `DELETE /api/channels/{name}/bans/{user}`: lifts a ban.
#[tracing::instrument(skip_all, fields(user = %user.name))]
pub async fn lift_ban(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (name, who) = path.into_inner();
    let access = managed(&state, &user, &name).await?;
    let target = existing(&state, &who).await?;
    if !state.store.unban(&access.channel.name, &target).await? {
        return Err(AppError::NotBanned);
    }
    tracing::info!(channel = %access.channel.name, target = %target, "ban lifted");
    Ok(HttpResponse::NoContent().finish())
}
