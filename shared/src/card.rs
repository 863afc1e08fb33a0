//! Cards: the structured part of a bot's reply (`Message::card`), drawn by
//! clients as a quote card, a chart or a ticker update. The text of the
//! message says the same in words, for clients that draw no card.

use serde::{Deserialize, Serialize};

/// Most points a chart carries (a year of trading days and then some).
pub const MAX_POINTS: usize = 400;
/// Most quotes one card carries (`/stock` takes at most 5 codes).
pub const MAX_QUOTES: usize = 10;
/// Most codes a watchlist card names.
pub const MAX_CODES: usize = 10;
/// Longest symbol, code, date or time a card carries.
const MAX_FIELD: usize = 24;

/// What a bot's reply shows besides its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Card {
    /// One quote (`/stock=CODE`, `GET /api/quotes/{code}`).
    Quote(QuoteCard),
    /// Several quotes (`/stock=a,b`), in the order asked.
    Quotes { quotes: Vec<QuoteCard> },
    /// Daily closes (`/chart=CODE,DAYS`), oldest first.
    Chart(ChartCard),
    /// The channel's watchlist after a `/watch` or `/unwatch`.
    Watchlist { codes: Vec<String> },
}

// Cards come from JSON, which has no NaN: every number is finite.
impl Eq for Card {}

/// A quote as the quote service gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteCard {
    /// Upper case, as the service names it (`AAPL.US`).
    pub symbol: String,
    /// The quote's date and time as the service gives them.
    pub date: String,
    pub time: String,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    /// Shares traded; 0 when the service gives none.
    pub volume: u64,
    /// Close against open, in percent, rounded to 2 decimals.
    pub change_pct: f64,
}

/// A daily price history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartCard {
    pub symbol: String,
    /// `(date, close)`, oldest first.
    pub points: Vec<(String, f64)>,
}

/// `new` against `old` in percent, rounded to 2 decimals (0 when `old` is 0).
pub fn change_pct(old: f64, new: f64) -> f64 {
    if old == 0.0 {
        return 0.0;
    }
    ((new - old) / old * 10_000.0).round() / 100.0
}

/// A change in percent as people write it: `+7.40%`, `-0.55%`.
pub fn signed_pct(pct: f64) -> String {
    if pct >= 0.0 {
        format!("+{pct:.2}%")
    } else {
        format!("{pct:.2}%")
    }
}

fn short(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_FIELD && !s.chars().any(char::is_control)
}

/// A date or time as the service gave it: may be empty.
fn plain(s: &str) -> bool {
    s.len() <= MAX_FIELD && !s.chars().any(char::is_control)
}

fn price(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

impl QuoteCard {
    fn is_valid(&self) -> bool {
        short(&self.symbol)
            && plain(&self.date)
            && plain(&self.time)
            && [self.open, self.high, self.low, self.close]
                .into_iter()
                .all(price)
            && self.change_pct.is_finite()
    }
}

impl Card {
    /// Whether the card is within the limits every reader relies on (sizes,
    /// plain short strings, finite prices). Checked on what arrives from the
    /// bus, where anyone allowed to post may have written it.
    pub fn is_valid(&self) -> bool {
        match self {
            Card::Quote(q) => q.is_valid(),
            Card::Quotes { quotes } => {
                !quotes.is_empty()
                    && quotes.len() <= MAX_QUOTES
                    && quotes.iter().all(QuoteCard::is_valid)
            }
            Card::Chart(c) => {
                short(&c.symbol)
                    && !c.points.is_empty()
                    && c.points.len() <= MAX_POINTS
                    && c.points.iter().all(|(d, v)| short(d) && price(*v))
            }
            Card::Watchlist { codes } => codes.len() <= MAX_CODES && codes.iter().all(|c| short(c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_read_and_write_with_their_kind() {
        let json = r#"{"kind":"quote","symbol":"AAPL.US","date":"2026-11-27","time":"22:00:09","open":92.1,"high":94.0,"low":91.8,"close":93.42,"volume":41234567,"change_pct":1.43}"#;
        let card: Card = serde_json::from_str(json).unwrap();
        assert!(matches!(&card, Card::Quote(q) if q.close == 93.42 && q.volume == 41_234_567));
        assert!(card.is_valid());
        let back: Card = serde_json::from_str(&serde_json::to_string(&card).unwrap()).unwrap();
        assert_eq!(back, card);
        let chart: Card = serde_json::from_str(
            r#"{"kind":"chart","symbol":"AAPL.US","points":[["2026-10-01",180.1]]}"#,
        )
        .unwrap();
        assert!(chart.is_valid());
        assert!(serde_json::from_str::<Card>(r#"{"kind":"poll"}"#).is_err());
    }

    #[test]
    fn oversized_or_odd_cards_are_not_valid() {
        let chart = |n: usize, v: f64| {
            Card::Chart(ChartCard {
                symbol: "X".into(),
                points: vec![("2026-01-01".into(), v); n],
            })
        };
        assert!(chart(MAX_POINTS, 1.0).is_valid());
        assert!(!chart(MAX_POINTS + 1, 1.0).is_valid());
        assert!(!chart(0, 1.0).is_valid());
        assert!(!chart(1, -1.0).is_valid());
        let codes = |n: usize| Card::Watchlist {
            codes: vec!["aapl.us".into(); n],
        };
        assert!(codes(0).is_valid() && codes(MAX_CODES).is_valid());
        assert!(!codes(MAX_CODES + 1).is_valid());
        assert!(!Card::Watchlist {
            codes: vec!["a\nb".into()]
        }
        .is_valid());
    }

    #[test]
    fn changes_are_rounded_and_signed() {
        assert_eq!(change_pct(180.10, 193.42), 7.4);
        assert_eq!(signed_pct(change_pct(180.10, 193.42)), "+7.40%");
        assert_eq!(signed_pct(change_pct(100.0, 99.45)), "-0.55%");
        assert_eq!(change_pct(0.0, 5.0), 0.0);
    }
}
