//! Telling one person something on every server where they are connected:
//! a frame published on `chat.user.<name>`.

use chat_shared::bus::Bus;
use chat_shared::people::ToPerson;
use chat_shared::subjects;

/// Publishes `frame` for `user`'s connections; a failure is logged (the
/// change it tells of is stored: a reload shows it).
pub async fn tell(bus: &dyn Bus, user: &str, frame: &ToPerson) {
    let payload = bytes::Bytes::from(frame.to_json());
    if let Err(e) = bus
        .publish(&subjects::user(user), Vec::new(), payload)
        .await
    {
        tracing::warn!(user = %user, error = %e, "could not tell a person");
    }
}
