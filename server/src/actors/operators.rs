//! What operators change on every server at once, heard by the registry:
//! channels closed and reopened (`chat.channels.state`) and notices
//! (`chat.notices`); and what the registry tells `crate::admin` of this
//! server when it gathers answers for an operator.

use actix::prelude::*;
use bytestring::ByteString;
use chat_shared::admin::{ChannelState, Notice};
use chat_shared::bus::{Bus, BusError, Envelope, Subscription};
use chat_shared::frames::ServerFrame;
use chat_shared::log_text::shown;
use chat_shared::names::ChannelName;
use chat_shared::subjects;

use super::channel::{LocalUsers, SetClosed, ToMembers};
use super::registry::Registry;
use super::DirectFrame;

/// The subjects operators' changes arrive on.
pub async fn subscribe(bus: &dyn Bus) -> Result<Subscription, BusError> {
    let states = bus.subscribe(subjects::CHANNEL_STATE).await?;
    let notices = bus.subscribe(subjects::NOTICES).await?;
    Ok(Subscription::new(futures::stream::select(states, notices)))
}

/// Whether `subject` is one of those of [`subscribe`].
pub fn is_operators(subject: &str) -> bool {
    subject == subjects::CHANNEL_STATE || subject == subjects::NOTICES
}

impl Registry {
    /// A channel closed or reopened, or a notice, from the bus.
    pub(super) fn heard_from_operators(&mut self, envelope: &Envelope) {
        let malformed = || {
            tracing::warn!(subject = %shown(&envelope.subject), "dropping a malformed operator's change");
        };
        if envelope.subject == subjects::CHANNEL_STATE {
            let Ok(state) = serde_json::from_slice::<ChannelState>(&envelope.payload) else {
                return malformed();
            };
            if let Some(channel) = self.channels.get(&state.channel) {
                channel.do_send(SetClosed(state.closed));
            }
            self.closed.insert(state.channel, state.closed);
            return;
        }
        let Ok(notice) = serde_json::from_slice::<Notice>(&envelope.payload) else {
            return malformed();
        };
        let frame: ByteString = ServerFrame::Notice {
            text: notice.text,
            channel: notice.channel.clone(),
            at: notice.at,
        }
        .to_json()
        .into();
        match notice.channel {
            Some(name) => {
                if let Some(channel) = self.channels.get(&name) {
                    channel.do_send(ToMembers(frame));
                }
            }
            None => {
                for c in self.connections.values() {
                    c.frames.do_send(DirectFrame(frame.clone()));
                }
            }
        }
    }
}

/// Who is in `channel` on this server (each once).
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct OnlineHere(pub ChannelName);

impl Handler<OnlineHere> for Registry {
    type Result = ResponseFuture<Vec<String>>;

    fn handle(&mut self, OnlineHere(name): OnlineHere, _: &mut Self::Context) -> Self::Result {
        let asked = self.channels.get(&name).map(|c| c.send(LocalUsers));
        Box::pin(async move {
            match asked {
                Some(asked) => asked.await.unwrap_or_default(),
                None => Vec::new(),
            }
        })
    }
}

/// The other servers this one hears beating.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct KnownServers;

impl Handler<KnownServers> for Registry {
    type Result = Vec<String>;

    fn handle(&mut self, _: KnownServers, _: &mut Self::Context) -> Vec<String> {
        self.peers.ids()
    }
}
