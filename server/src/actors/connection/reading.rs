//! `read` frames: how far the person has read a channel, kept per person
//! and channel (only ever forward), and told to their other connections,
//! on every server, so a badge cleared on one device clears on all.

use actix::prelude::*;
use bytes::Bytes;
use chat_shared::frames::{ErrorCode, ErrorFrame};
use chat_shared::message::is_message_id;
use chat_shared::subjects;
use serde_json::json;
use tracing::Instrument;

use super::client_frames::{parse_channel, unavailable};
use super::{Connection, Ctx};

impl Connection {
    pub(super) fn read(
        &mut self,
        channel: &str,
        id: String,
        ctx: &mut Ctx,
    ) -> Result<(), ErrorFrame> {
        self.joined_channel(channel)?;
        let name = parse_channel(channel)?;
        if !is_message_id(&id) {
            return Err(ErrorFrame::new(
                ErrorCode::InvalidFrame,
                "id must be a message id.",
            ));
        }
        let (state, user) = (self.state.clone(), self.user.to_string());
        let tag = self.tag.to_string();
        let mark = async move {
            if !state.store.mark_read(&user, &name, &id).await? {
                return Ok(());
            }
            let frame = json!({"type": "read", "channel": name, "id": id});
            let headers = vec![(subjects::CONN_HEADER.to_owned(), tag)];
            let payload = Bytes::from(frame.to_string());
            if let Err(e) = state
                .bus
                .publish(&subjects::user(&user), headers, payload)
                .await
            {
                // Stored: the other devices see it when they next load the list.
                tracing::warn!(error = %e, "could not tell a user's other connections what they read");
            }
            Ok::<_, chat_shared::store::StoreError>(())
        }
        .instrument(self.span());
        ctx.spawn(mark.into_actor(self).map(|result, act, ctx| {
            if let Err(e) = result {
                tracing::warn!(conn = %act.tag, error = %e, "could not store a read marker");
                act.error(ctx, unavailable());
            }
        }));
        Ok(())
    }
}
