//! Price alerts: `/alert CODE > PRICE`, `/alert CODE < PRICE`, `/alerts`,
//! `/alert cancel N`, kept in the store; and the check, every interval, that
//! fires each crossed alert once, however many bots check.
//!
//! Firing is claim, post, mark: a bot claims the alert in the store (which
//! fixes the message it will post: its id and text), posts that message, then
//! marks the alert fired. A bot that dies between claim and mark leaves a
//! claim that goes stale after `LEASE`; the next check takes it over and
//! posts the same message again, which the stream (by `Nats-Msg-Id`, within
//! its two-minute window) and the archive (by id) keep once.

use std::collections::BTreeMap;
use std::time::Duration;

use chat_shared::bus::Bus;
use chat_shared::message::{next_id, Message};
use chat_shared::names::MessageText;
use chat_shared::people::ToPerson;
use chat_shared::store::market::MAX_ALERTS;
use chat_shared::store::{Alert, Claim, NewAlert, Store, StoreError};
use chat_shared::subjects;

use crate::history::dollars;
use crate::quote::QuoteError;
use crate::responder::{Asker, Responder, STORE_FAILED};
use crate::stock_codes::is_valid_code;
use crate::upstream::Upstream;
use crate::BOT_USER;

/// How long a claim holds before another bot may take the alert over.
pub const LEASE: Duration = Duration::from_secs(15);
/// Highest price an alert may name.
const MAX_PRICE: f64 = 1e9;

/// The usage line for `/alert`.
pub const USAGE: &str =
    "Usage: /alert CODE > PRICE or /alert CODE < PRICE (e.g. /alert aapl.us > 200); \
                         /alerts lists yours here; /alert cancel N takes number N back.";

/// What `/alert …` asks.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertArgs {
    Set {
        code: String,
        above: bool,
        price: f64,
    },
    Cancel {
        number: usize,
    },
}

/// Reads `/alert`'s arguments; `None` when malformed.
pub fn parse(args: &str) -> Option<AlertArgs> {
    if let Some(n) = args
        .strip_prefix("cancel")
        .or_else(|| args.strip_prefix("CANCEL"))
    {
        let number = n.trim().trim_start_matches('#').parse::<usize>().ok()?;
        return (number >= 1).then_some(AlertArgs::Cancel { number });
    }
    let at = args.find(['>', '<'])?;
    let above = args[at..].starts_with('>');
    let code = args[..at].trim().to_ascii_lowercase();
    let price = args[at + 1..].trim().trim_start_matches('$').trim();
    let price = price.parse::<f64>().ok()?;
    let fits = price.is_finite() && price > 0.0 && price <= MAX_PRICE;
    (is_valid_code(&code) && fits).then_some(AlertArgs::Set { code, above, price })
}

fn direction(above: bool) -> &'static str {
    if above {
        "above"
    } else {
        "below"
    }
}

/// `AAPL.US above $200.00`.
fn describe(alert: &Alert) -> String {
    format!(
        "{} {} {}",
        alert.code.to_ascii_uppercase(),
        direction(alert.above),
        dollars(alert.price)
    )
}

/// The reply to `/alert …`.
pub async fn command(r: &Responder, asker: &Asker<'_>, args: &str) -> String {
    match parse(args) {
        None => USAGE.to_owned(),
        Some(AlertArgs::Cancel { number }) => cancel(r, asker, number).await,
        Some(AlertArgs::Set { code, above, price }) => set(r, asker, code, above, price).await,
    }
}

async fn set(r: &Responder, asker: &Asker<'_>, code: String, above: bool, price: f64) -> String {
    let symbol = code.to_ascii_uppercase();
    let wanted = format!("{symbol} goes {} {}", direction(above), dollars(price));
    let now = match r.upstream.quote(&code, asker.user).await {
        Ok(q) => Some(q.card.close),
        Err(QuoteError::NotFound(_)) => return format!("I couldn't find a quote for {symbol}."),
        Err(_) => None,
    };
    let alert = NewAlert {
        user: asker.user.to_ascii_lowercase(),
        channel: asker.channel.clone(),
        code,
        above,
        price,
    };
    if let Some(now) = now {
        let probe = Alert {
            id: 0,
            user: alert.user.clone(),
            channel: alert.channel.clone(),
            code: alert.code.clone(),
            above,
            price,
            created_at: chrono::Utc::now(),
            claim: None,
        };
        if probe.crossed_by(now) {
            return format!(
                "{symbol} is already {} {} (now {}); no alert set.",
                direction(above),
                dollars(price),
                dollars(now)
            );
        }
    }
    match r.store.add_alert(&alert).await {
        Ok(true) => {
            let now = now.map_or(String::new(), |p| format!(" (now {})", dollars(p)));
            format!("Alert set: I'll tell you here when {wanted}{now}.")
        }
        Ok(false) => format!(
            "You have {MAX_ALERTS} alerts already; take one back with /alert cancel N first (/alerts lists them)."
        ),
        Err(e) => stored_failed(&e),
    }
}

fn stored_failed(e: &StoreError) -> String {
    tracing::error!(error = %e, "alerts store failed");
    STORE_FAILED.to_owned()
}

/// The reply to `/alerts`: the asker's alerts in this channel, numbered.
pub async fn list(r: &Responder, asker: &Asker<'_>) -> String {
    let alerts = match r.store.alerts_of(asker.user, asker.channel).await {
        Ok(a) => a,
        Err(e) => return stored_failed(&e),
    };
    if alerts.is_empty() {
        return "You have no alerts in this channel. Set one with /alert CODE > PRICE.".to_owned();
    }
    let mut out = String::from("Your alerts here:");
    for (i, alert) in alerts.iter().enumerate() {
        out.push_str(&format!("\n{}. {}", i + 1, describe(alert)));
    }
    out
}

async fn cancel(r: &Responder, asker: &Asker<'_>, number: usize) -> String {
    let alerts = match r.store.alerts_of(asker.user, asker.channel).await {
        Ok(a) => a,
        Err(e) => return stored_failed(&e),
    };
    let Some(alert) = alerts.get(number - 1) else {
        return format!("You have no alert number {number} here; /alerts lists yours.");
    };
    match r.store.cancel_alert(alert.id, asker.user).await {
        Ok(true) => format!("Alert {number} ({}) is cancelled.", describe(alert)),
        Ok(false) => format!("Alert {number} ({}) has just fired.", describe(alert)),
        Err(e) => stored_failed(&e),
    }
}

/// The text an alert posts when `now` crossed it.
pub fn fired_text(alert: &Alert, now: f64) -> String {
    format!(
        "@{} {} is {} {} (now {})",
        alert.user,
        alert.code.to_ascii_uppercase(),
        direction(alert.above),
        dollars(alert.price),
        dollars(now)
    )
}

/// Checks every pending alert once: fires those crossed, and finishes those
/// another bot claimed and left. Returns how many it posted.
pub async fn check(
    upstream: &std::rc::Rc<Upstream>,
    store: &dyn Store,
    bus: &dyn Bus,
    origin: &str,
    lease: Duration,
) -> usize {
    let pending = match store.pending_alerts().await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the alerts");
            return 0;
        }
    };
    let mut by_code: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
    for alert in &pending {
        by_code.entry(&alert.code).or_default().push(alert);
    }
    let stale_before = chrono::Utc::now().timestamp_millis() - lease.as_millis() as i64;
    let mut posted = 0;
    for (code, alerts) in by_code {
        let price = upstream
            .quote(code, "alerts")
            .await
            .map(|q| q.card.close)
            .ok();
        for alert in alerts {
            let text = match (&alert.claim, price) {
                (Some(claim), _) if claim.claimed_at < stale_before => claim.message.clone(),
                (None, Some(now)) if alert.crossed_by(now) => fired_text(alert, now),
                _ => continue,
            };
            let id = next_id().to_string();
            let claim = match store.claim_alert(alert.id, &id, &text, stale_before).await {
                Ok(Some(claim)) => claim,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, alert = alert.id, "could not claim an alert");
                    continue;
                }
            };
            if fire(store, bus, origin, alert, &claim).await {
                posted += 1;
            }
        }
    }
    posted
}

/// Posts a claimed alert's message, tells its owner, marks it fired.
async fn fire(
    store: &dyn Store,
    bus: &dyn Bus,
    origin: &str,
    alert: &Alert,
    claim: &Claim,
) -> bool {
    let may_read = match store.access(&alert.channel, &alert.user).await {
        Ok(access) => access.is_some_and(|a| a.may_read()),
        Err(e) => {
            tracing::warn!(error = %e, alert = alert.id, "could not check an alert's owner");
            return false;
        }
    };
    if may_read {
        let Some(message) = message_of(alert, claim) else {
            tracing::error!(alert = alert.id, "an alert's message is not a message");
            return false;
        };
        if let Err(e) = crate::post(bus, store, origin, &message).await {
            tracing::warn!(error = %e, alert = alert.id, "could not post an alert; a later check will");
            return false;
        }
        let frame = ToPerson::Mention { message };
        let told = bus
            .publish(
                &subjects::user(&alert.user),
                Vec::new(),
                bytes::Bytes::from(frame.to_json()),
            )
            .await;
        if let Err(e) = told {
            tracing::warn!(error = %e, "could not tell an alert's owner");
        }
    } else {
        tracing::info!(
            alert = alert.id,
            "an alert's owner may no longer read its channel: dropped"
        );
    }
    match store.alert_fired(alert.id).await {
        Ok(()) => {
            crate::metrics::alert_fired();
            tracing::info!(alert = alert.id, user = %alert.user, code = %alert.code, "alert fired");
            may_read
        }
        Err(e) => {
            tracing::warn!(error = %e, alert = alert.id, "could not mark an alert fired; it will be posted again, once");
            false
        }
    }
}

/// The claimed message: the same id, time and text whoever posts it.
fn message_of(alert: &Alert, claim: &Claim) -> Option<Message> {
    let id = ulid::Ulid::from_string(&claim.message_id).ok()?;
    let ts = chrono::DateTime::from_timestamp_millis(i64::try_from(id.timestamp_ms()).ok()?)?;
    let text = MessageText::parse(&claim.message).ok()?;
    let mut message = Message::new(alert.channel.clone(), BOT_USER, text, true);
    message.id = claim.message_id.clone();
    message.ts = ts;
    message.mentions = vec![alert.user.clone()];
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_arguments() {
        let set = |code: &str, above, price| {
            Some(AlertArgs::Set {
                code: code.into(),
                above,
                price,
            })
        };
        assert_eq!(parse("AAPL.US > 200"), set("aapl.us", true, 200.0));
        assert_eq!(parse("aapl.us<$150.5"), set("aapl.us", false, 150.5));
        assert_eq!(parse("cancel 2"), Some(AlertArgs::Cancel { number: 2 }));
        for bad in [
            "",
            "aapl.us",
            "aapl.us > ",
            "aapl.us > x",
            "aapl.us > -5",
            "aapl.us > 0",
            "> 5",
            "a b > 5",
            "aapl.us > 1e12",
            "cancel",
            "cancel 0",
            "cancel x",
            "aapl.us > NaN",
            "aapl.us > inf",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
