//! What the bot keeps for investors: price alerts and channels' watchlists.
//! Plain SQL shared by both stores (`$n` parameters; `rooms::for_sqlite`
//! makes them SQLite's numbered `?n`).

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text};
use diesel::QueryableByName;

use super::StoreError;
use crate::names::ChannelName;

/// Most pending alerts one person may have.
pub const MAX_ALERTS: i64 = 20;
/// Most codes on one channel's watchlist.
pub const MAX_WATCHED: i64 = 10;

/// A price alert someone set.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: i64,
    /// Lower case.
    pub user: String,
    pub channel: ChannelName,
    /// Lower case (`aapl.us`).
    pub code: String,
    /// Fires when the price goes above `price` (else below).
    pub above: bool,
    pub price: f64,
    pub created_at: DateTime<Utc>,
    /// Set once a bot has begun to fire it.
    pub claim: Option<Claim>,
}

/// A bot's claim on firing an alert: the message it posts, fixed at the
/// first claim, so that whoever finishes it posts the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub message_id: String,
    pub message: String,
    /// Epoch milliseconds.
    pub claimed_at: i64,
}

/// An alert to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub user: String,
    pub channel: ChannelName,
    pub code: String,
    pub above: bool,
    pub price: f64,
}

impl Alert {
    /// Whether `price` is past the alert's.
    pub fn crossed_by(&self, price: f64) -> bool {
        if self.above {
            price > self.price
        } else {
            price < self.price
        }
    }
}

const ALERT_COLUMNS: &str =
    "id, username, channel, code, above, price, created_at, claimed_at, message_id, message";

/// Stores an alert unless its owner (`$1`) has `$7` pending already.
pub const ADD_ALERT: &str =
    "INSERT INTO price_alerts (username, channel, code, above, price, created_at) \
     SELECT $1, $2, $3, $4, $5, $6 \
     WHERE (SELECT count(*) FROM price_alerts WHERE username = $1 AND fired_at IS NULL) < $7";

/// `$1`'s pending alerts in channel `$2`, oldest first.
pub fn alerts_of() -> String {
    format!(
        "SELECT {ALERT_COLUMNS} FROM price_alerts \
         WHERE username = $1 AND channel = $2 AND fired_at IS NULL ORDER BY id"
    )
}

/// Every pending alert.
pub fn pending() -> String {
    format!("SELECT {ALERT_COLUMNS} FROM price_alerts WHERE fired_at IS NULL ORDER BY id")
}

/// Takes back alert `$1` of `$2`, unless a bot has begun to fire it.
pub const CANCEL_ALERT: &str = "DELETE FROM price_alerts \
     WHERE id = $1 AND username = $2 AND fired_at IS NULL AND claimed_at IS NULL";

/// Claims alert `$1` at `$2` unless someone claimed it after `$3`; the
/// message (`$4` id, `$5` text) is kept from an earlier claim if any.
pub const CLAIM_ALERT: &str = "UPDATE price_alerts \
     SET claimed_at = $2, message_id = COALESCE(message_id, $4), message = COALESCE(message, $5) \
     WHERE id = $1 AND fired_at IS NULL AND (claimed_at IS NULL OR claimed_at < $3) \
     RETURNING message_id, message";

/// Alert `$1` has fired at `$2`.
pub const FIRED: &str = "UPDATE price_alerts SET fired_at = $2 WHERE id = $1";

/// Channel `$1`'s watchlist, in the order codes were added.
pub const WATCHLIST: &str =
    "SELECT code FROM watchlists WHERE channel = $1 ORDER BY added_at, code";

/// Adds `$2` to `$1`'s watchlist at `$3`: nothing if it is there already or
/// the list has `$4` codes.
pub const WATCH: &str = "INSERT INTO watchlists (channel, code, added_at) SELECT $1, $2, $3 \
     WHERE (SELECT count(*) FROM watchlists WHERE channel = $1) < $4 ON CONFLICT DO NOTHING";

/// Takes `$2` off `$1`'s watchlist.
pub const UNWATCH: &str = "DELETE FROM watchlists WHERE channel = $1 AND code = $2";

#[derive(QueryableByName)]
pub struct AlertRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Bool)]
    pub above: bool,
    #[diesel(sql_type = Double)]
    pub price: f64,
    #[diesel(sql_type = BigInt)]
    pub created_at: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub claimed_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub message_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub message: Option<String>,
}

impl TryFrom<AlertRow> for Alert {
    type Error = StoreError;
    fn try_from(r: AlertRow) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str| StoreError::Internal(format!("stored alert {}: bad {what}", r.id));
        let claim = match (r.claimed_at, r.message_id, r.message) {
            (Some(claimed_at), Some(message_id), Some(message)) => Some(Claim {
                message_id,
                message,
                claimed_at,
            }),
            _ => None,
        };
        Ok(Alert {
            id: r.id,
            channel: ChannelName::parse(&r.channel).map_err(|_| corrupt("channel"))?,
            user: r.username,
            code: r.code,
            above: r.above,
            price: r.price,
            created_at: DateTime::from_timestamp_millis(r.created_at)
                .ok_or_else(|| corrupt("time"))?,
            claim,
        })
    }
}

/// What `CLAIM_ALERT` returns.
#[derive(QueryableByName)]
pub struct ClaimRow {
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = Text)]
    pub message: String,
}

impl ClaimRow {
    pub fn into_claim(self, claimed_at: i64) -> Claim {
        Claim {
            message_id: self.message_id,
            message: self.message,
            claimed_at,
        }
    }
}

#[derive(QueryableByName)]
pub struct CodeRow {
    #[diesel(sql_type = Text)]
    pub code: String,
}
