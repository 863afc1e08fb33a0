//! Operators steering a running cluster over NATS (distributed mode only):
//! the servers take `chat.admin.*` requests in queue group `admin`, so one
//! of them answers each, and answer each other's gatherings
//! (`gather`). What each request does is in `requests`; the
//! `chat-server admin` command that sends them is `cli`.

pub mod cli;
mod gather;
mod requests;

use std::sync::Arc;

use actix_web::web;
use bytes::Bytes;
use chat_shared::admin::{LocalOnline, OnlineRequest, ServerCounts};
use chat_shared::bus::{json_payload, Envelope, Subscription};
use chat_shared::names::ChannelName;
use chat_shared::subjects;
use futures::StreamExt;

use crate::actors::operators::OnlineHere;
use crate::actors::registry::Counts;
use crate::state::AppState;
use gather::Gatherings;

/// Requests of each kind handled at once; more wait on the subscription.
const CONCURRENT: usize = 16;

/// The admin subscriptions of a running server.
pub struct AdminService {
    tasks: Vec<actix_rt::task::JoinHandle<()>>,
}

impl AdminService {
    /// Subscribes to operators' requests and to other servers' gatherings;
    /// embedded (no NATS, no operators' requests), to nothing.
    pub async fn start(state: web::Data<AppState>, embedded: bool) -> anyhow::Result<Self> {
        if embedded {
            return Ok(Self { tasks: Vec::new() });
        }
        let bus = &state.bus;
        let requests = bus
            .queue_subscribe(subjects::ADMIN_ALL, subjects::ADMIN_QUEUE)
            .await?;
        let gatherings = bus.subscribe(subjects::GATHER_ALL).await?;
        let admin = Arc::new(Admin {
            state: state.clone(),
            gatherings: Gatherings::default(),
        });
        let tasks = vec![
            actix_rt::spawn(serve(requests, admin.clone(), Admin::request)),
            actix_rt::spawn(serve(gatherings, admin, Admin::gathered)),
        ];
        Ok(Self { tasks })
    }

    /// Stops taking requests.
    pub fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Hands each envelope of `sub` to `handle`, `CONCURRENT` at a time.
async fn serve<F, Fut>(sub: Subscription, admin: Arc<Admin>, handle: F)
where
    F: Fn(Arc<Admin>, Envelope) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    sub.for_each_concurrent(CONCURRENT, |envelope| handle(admin.clone(), envelope))
        .await;
}

/// What the admin tasks share.
struct Admin {
    state: web::Data<AppState>,
    gatherings: Gatherings,
}

impl Admin {
    /// Answers an operator's request, on an operator's inbox only.
    async fn request(self: Arc<Self>, envelope: Envelope) {
        let answer = self.answer(&envelope).await;
        let inbox = format!("{}.", subjects::OPS_INBOX_PREFIX);
        match envelope.reply.as_deref() {
            Some(reply) if reply.starts_with(&inbox) => {
                if let Err(e) = self.state.bus.publish(reply, Vec::new(), answer).await {
                    tracing::warn!(error = %e, "could not answer an operator");
                }
            }
            Some(_) => tracing::warn!(
                subject = %envelope.subject,
                "an admin request's reply subject is not under {}: not answered",
                subjects::OPS_INBOX_PREFIX
            ),
            None => {}
        }
    }

    /// Answers another server's (or this one's) gathering with what this
    /// server knows.
    async fn gathered(self: Arc<Self>, envelope: Envelope) {
        let Some(reply) = envelope
            .reply
            .as_deref()
            .filter(|r| gather::is_answer_subject(r))
        else {
            return;
        };
        let answer = match envelope.subject.as_str() {
            subjects::GATHER_SERVERS => json_payload(&self.counts().await),
            subjects::GATHER_ONLINE => {
                let Some(channel) = serde_json::from_slice::<OnlineRequest>(&envelope.payload)
                    .ok()
                    .and_then(|r| ChannelName::parse(&r.channel).ok())
                else {
                    return;
                };
                json_payload(&LocalOnline {
                    server: self.state.server_id.to_string(),
                    online: self.online_here(channel).await,
                })
            }
            _ => return,
        };
        if let Err(e) = self.state.bus.publish(reply, Vec::new(), answer).await {
            tracing::warn!(error = %e, "could not answer a gathering");
        }
    }

    /// This server's connections and live channels.
    async fn counts(&self) -> ServerCounts {
        let (connections, channels) = self.state.registry.send(Counts).await.unwrap_or((0, 0));
        ServerCounts {
            id: self.state.server_id.to_string(),
            connections,
            channels,
        }
    }

    async fn online_here(&self, channel: ChannelName) -> Vec<String> {
        self.state
            .registry
            .send(OnlineHere(channel))
            .await
            .unwrap_or_default()
    }

    /// Asks every server `subject`: as many answers as servers beat (and
    /// this one), or those in by the deadline.
    async fn gather<T: serde::de::DeserializeOwned>(
        &self,
        subject: &str,
        payload: Bytes,
    ) -> Result<Vec<T>, chat_shared::bus::BusError> {
        let others = self
            .state
            .registry
            .send(crate::actors::operators::KnownServers)
            .await
            .unwrap_or_default();
        let (bus, id) = (self.state.bus.as_ref(), &*self.state.server_id);
        self.gatherings
            .ask(bus, id, subject, payload, others.len() + 1)
            .await
    }
}
