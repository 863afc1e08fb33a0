//! What each operator's request does and answers: JSON in, JSON out, and
//! `{"error":{"code","message"}}` for a bad or failed one.

use bytes::Bytes;
use chat_shared::admin::{
    AdminCode, AdminFailure, ChannelRequest, ChannelState, DisconnectAnswer, DisconnectRequest,
    LocalOnline, Notice, NoticeRequest, NoticeSent, OnlineAnswer, OnlineRequest, ServerCounts,
    ServersAnswer, MAX_NOTICE_CHARS,
};
use chat_shared::bus::{json_payload, BusError, Envelope};
use chat_shared::names::{ChannelName, Username};
use chat_shared::store::StoreError;
use chat_shared::subjects;
use serde::de::DeserializeOwned;

use super::Admin;
use crate::session;

type Answer = Result<Bytes, AdminFailure>;

fn bad_request(message: impl Into<String>) -> AdminFailure {
    AdminFailure::new(AdminCode::BadRequest, message)
}

fn not_found(message: impl Into<String>) -> AdminFailure {
    AdminFailure::new(AdminCode::NotFound, message)
}

fn store_down(e: StoreError) -> AdminFailure {
    tracing::warn!(error = %e, "an admin request could not reach the database");
    AdminFailure::new(
        AdminCode::Unavailable,
        "The database is unavailable; try again.",
    )
}

fn bus_down(e: BusError) -> AdminFailure {
    tracing::warn!(error = %e, "an admin request could not use the bus");
    AdminFailure::new(AdminCode::Unavailable, "The bus is unavailable; try again.")
}

/// The body of a request, as `T`.
fn body<T: DeserializeOwned>(envelope: &Envelope) -> Result<T, AdminFailure> {
    serde_json::from_slice(&envelope.payload)
        .map_err(|e| bad_request(format!("The request is not valid JSON of its kind: {e}")))
}

fn channel_name(name: &str) -> Result<ChannelName, AdminFailure> {
    ChannelName::parse(name).map_err(|e| bad_request(format!("Bad channel name: {e}")))
}

impl Admin {
    /// The answer to an operator's request.
    pub(super) async fn answer(&self, envelope: &Envelope) -> Bytes {
        let answer = self.outcome(envelope).await;
        tracing::info!(subject = %envelope.subject, ok = answer.is_ok(), "admin request");
        answer.unwrap_or_else(|failure| json_payload(&failure))
    }

    async fn outcome(&self, envelope: &Envelope) -> Answer {
        match envelope.subject.as_str() {
            subjects::ADMIN_SERVERS => self.servers().await,
            subjects::ADMIN_ONLINE => self.online(body(envelope)?).await,
            subjects::ADMIN_DISCONNECT => self.disconnect(body(envelope)?).await,
            subjects::ADMIN_CLOSE => self.set_closed(body(envelope)?, true).await,
            subjects::ADMIN_REOPEN => self.set_closed(body(envelope)?, false).await,
            subjects::ADMIN_NOTICE => self.notice(body(envelope)?).await,
            other => Err(bad_request(format!("There is no admin request {other}."))),
        }
    }

    async fn servers(&self) -> Answer {
        let mut servers: Vec<ServerCounts> = self
            .gather(subjects::GATHER_SERVERS, Bytes::new())
            .await
            .map_err(bus_down)?;
        servers.sort_by(|a, b| a.id.cmp(&b.id));
        servers.dedup_by(|a, b| a.id == b.id);
        Ok(json_payload(&ServersAnswer { servers }))
    }

    /// The channel `name` names, if it is a valid name of a stored channel.
    async fn existing_channel(&self, name: &str) -> Result<ChannelName, AdminFailure> {
        let channel = channel_name(name)?;
        match self
            .state
            .store
            .channel(&channel)
            .await
            .map_err(store_down)?
        {
            Some(_) => Ok(channel),
            None => Err(not_found(format!("There is no channel #{channel}."))),
        }
    }

    async fn online(&self, request: OnlineRequest) -> Answer {
        let channel = self.existing_channel(&request.channel).await?;
        let payload = json_payload(&OnlineRequest {
            channel: channel.to_string(),
        });
        let answers: Vec<LocalOnline> = self
            .gather(subjects::GATHER_ONLINE, payload)
            .await
            .map_err(bus_down)?;
        let mut online: Vec<String> = answers.into_iter().flat_map(|a| a.online).collect();
        online.sort_by_key(|u| u.to_ascii_lowercase());
        online.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        Ok(json_payload(&OnlineAnswer {
            channel,
            count: online.len(),
            online,
        }))
    }

    async fn disconnect(&self, request: DisconnectRequest) -> Answer {
        let name = Username::parse(&request.user)
            .map_err(|e| bad_request(format!("Bad username: {e}")))?;
        let Some(user) = self.state.store.user(&name).await.map_err(store_down)? else {
            return Err(not_found(format!("There is no user {name}.")));
        };
        let ended = self
            .state
            .store
            .end_sessions_of(&user.username, None)
            .await
            .map_err(store_down)?;
        let sessions_ended = ended.len();
        session::announce_ended(&self.state, ended).await;
        tracing::info!(user = %user.username, sessions_ended, "an operator ended a user's sessions");
        Ok(json_payload(&DisconnectAnswer {
            user: user.username.to_string(),
            sessions_ended,
        }))
    }

    async fn set_closed(&self, request: ChannelRequest, closed: bool) -> Answer {
        let channel = channel_name(&request.channel)?;
        let Some(stored) = self
            .state
            .store
            .set_closed(&channel, closed)
            .await
            .map_err(store_down)?
        else {
            return Err(not_found(format!("There is no channel #{channel}.")));
        };
        let state = ChannelState {
            channel: stored.name,
            closed: stored.closed,
        };
        let note = json_payload(&state);
        self.state
            .bus
            .publish(subjects::CHANNEL_STATE, Vec::new(), note)
            .await
            .map_err(bus_down)?;
        tracing::info!(channel = %state.channel, closed, "an operator changed a channel");
        Ok(json_payload(&state))
    }

    async fn notice(&self, request: NoticeRequest) -> Answer {
        let text = request.text.trim();
        if text.is_empty() {
            return Err(bad_request("A notice needs some text."));
        }
        if text.chars().count() > MAX_NOTICE_CHARS {
            return Err(bad_request(format!(
                "A notice is at most {MAX_NOTICE_CHARS} characters."
            )));
        }
        let channel = match request.channel.as_deref() {
            Some(name) => Some(self.existing_channel(name).await?),
            None => None,
        };
        let notice = Notice {
            text: text.to_owned(),
            channel: channel.clone(),
            at: chrono::Utc::now().timestamp_millis(),
        };
        self.state
            .bus
            .publish(subjects::NOTICES, Vec::new(), json_payload(&notice))
            .await
            .map_err(bus_down)?;
        Ok(json_payload(&NoticeSent {
            sent: true,
            channel,
        }))
    }
}
