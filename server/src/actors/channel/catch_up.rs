//! Catching up after the server's bus connection came back: the messages
//! published while it was away are read back from the archivers (who read
//! the stream for what they have not stored yet) and those not delivered here
//! yet reach the members, without their joining again.

use actix::prelude::*;
use chat_shared::store::HistoryQuery;

use super::{CatchUp, ChannelActor};
use crate::history;

/// How long the archivers have to answer.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Handler<CatchUp> for ChannelActor {
    type Result = ();

    fn handle(&mut self, _: CatchUp, ctx: &mut Self::Context) {
        let Some(since) = self.last_id.clone() else {
            return;
        };
        let (bus, name) = (self.link.bus.clone(), self.name.clone());
        let read = async move {
            let query = HistoryQuery::for_join(Some(since.to_string()));
            history::from_archivers(bus.as_ref(), &name, &query, TIMEOUT).await
        };
        ctx.spawn(read.into_actor(self).map(|answer, act, _| match answer {
            Ok(Ok(missed)) => {
                let mut delivered = 0;
                for message in &missed {
                    if act.deliver_once(message, &message.to_json(), None) {
                        delivered += 1;
                    }
                }
                tracing::info!(channel = %act.name, delivered, "caught up after a reconnection");
            }
            _ => tracing::warn!(
                channel = %act.name,
                "could not catch up after a reconnection; members get the rest when they rejoin"
            ),
        }));
    }
}
