//! Daily price history: stooq's CSV (`Date,Open,High,Low,Close,Volume`,
//! oldest first) read into a chart of closes, and `/chart`'s arguments.

use chat_shared::card::{change_pct, signed_pct, Card, ChartCard};

use crate::quote::{column_of, csv_table, parse_price, QuoteError};
use crate::stock_codes::is_valid_code;

/// Days a chart shows when none are asked for.
pub const DEFAULT_DAYS: usize = 30;
/// Fewest and most days a chart may show.
pub const MIN_DAYS: usize = 5;
pub const MAX_DAYS: usize = 365;

/// The usage line for `/chart`.
pub const USAGE: &str = "Usage: /chart=CODE or /chart=CODE,DAYS, e.g. /chart=aapl.us,90 \
                         (DAYS from 5 to 365; 30 if left out).";

/// The code and days of `/chart=CODE[,DAYS]`; `None` when malformed.
pub fn parse_args(args: &str) -> Option<(String, usize)> {
    let mut parts = args.split(',').map(str::trim);
    let code = parts.next()?.to_ascii_lowercase();
    let days = match parts.next() {
        None => DEFAULT_DAYS,
        Some(d) => d.parse::<usize>().ok()?,
    };
    let fits = is_valid_code(&code) && (MIN_DAYS..=MAX_DAYS).contains(&days);
    (parts.next().is_none() && fits).then_some((code, days))
}

/// The closes of a daily CSV body, oldest first. No rows, or stooq's
/// `No data`, is `NotFound`; anything unreadable is `Unavailable`.
pub fn parse_history(body: &[u8], code: &str) -> Result<Vec<(String, f64)>, QuoteError> {
    let symbol = code.to_ascii_uppercase();
    let text = String::from_utf8_lossy(body);
    if text.trim().eq_ignore_ascii_case("no data") {
        return Err(QuoteError::NotFound(symbol));
    }
    let unavailable = |why: &str| QuoteError::Unavailable(why.to_owned());
    let (mut reader, headers) = csv_table(body)?;
    let column = |name: &str| column_of(&headers, name);
    let (Some(date_at), Some(close_at)) = (column("Date"), column("Close")) else {
        return Err(unavailable("no Date/Close columns"));
    };
    let mut points = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|_| unavailable("unreadable row"))?;
        let date = record.get(date_at).unwrap_or_default();
        let close = record.get(close_at).and_then(parse_price);
        match close {
            Some(close) if !date.is_empty() && date.len() <= 24 => {
                points.push((date.to_owned(), close));
            }
            _ => return Err(unavailable("a row without a date or close")),
        }
    }
    if points.is_empty() {
        return Err(QuoteError::NotFound(symbol));
    }
    Ok(points)
}

/// A price as people write it: cents, or four places under a dollar.
pub fn dollars(v: f64) -> String {
    if v >= 1.0 || v == 0.0 {
        format!("${v:.2}")
    } else {
        format!("${v:.4}")
    }
}

/// The reply to `/chart` over the last `days` of `points`: its text
/// (`AAPL.US 30 days: $180.10 → $193.42 (+7.40%)`) and card.
pub fn chart(code: &str, mut points: Vec<(String, f64)>, days: usize) -> (String, Card) {
    let symbol = code.to_ascii_uppercase();
    let skip = points.len().saturating_sub(days);
    points.drain(..skip);
    let first = points.first().map_or(0.0, |p| p.1);
    let last = points.last().map_or(0.0, |p| p.1);
    let text = format!(
        "{symbol} {} days: {} → {} ({})",
        points.len(),
        dollars(first),
        dollars(last),
        signed_pct(change_pct(first, last))
    );
    (text, Card::Chart(ChartCard { symbol, points }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "Date,Open,High,Low,Close,Volume\n2026-10-01,1,1,1,180.1,10\n2026-10-02,1,1,1,185,10\n2026-10-05,1,1,1,193.42,10\n";

    #[test]
    fn arguments_give_a_code_and_days_within_bounds() {
        assert_eq!(parse_args("aapl.us"), Some(("aapl.us".into(), 30)));
        assert_eq!(parse_args("AAPL.US, 90"), Some(("aapl.us".into(), 90)));
        assert_eq!(parse_args("aapl.us,5"), Some(("aapl.us".into(), 5)));
        assert_eq!(parse_args("aapl.us,365"), Some(("aapl.us".into(), 365)));
        for bad in [
            "",
            "aapl.us,4",
            "aapl.us,366",
            "aapl.us,x",
            "aapl.us,30,1",
            "a b",
            "aapl.us,-5",
        ] {
            assert_eq!(parse_args(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_history_gives_closes_oldest_first_and_the_documented_text() {
        let points = parse_history(BODY.as_bytes(), "aapl.us").unwrap();
        assert_eq!(points.len(), 3);
        let (text, card) = chart("aapl.us", points.clone(), 30);
        assert_eq!(text, "AAPL.US 3 days: $180.10 → $193.42 (+7.40%)");
        assert!(matches!(&card, Card::Chart(c) if c.points == points && c.symbol == "AAPL.US"));
        let (text, _) = chart("aapl.us", points, 2);
        assert_eq!(text, "AAPL.US 2 days: $185.00 → $193.42 (+4.55%)");
    }

    #[test]
    fn no_data_and_no_rows_are_not_found_and_garbage_is_unavailable() {
        for body in ["No data", "Date,Open,High,Low,Close,Volume\n"] {
            assert_eq!(
                parse_history(body.as_bytes(), "zzzz.us"),
                Err(QuoteError::NotFound("ZZZZ.US".into())),
                "{body:?}"
            );
        }
        for body in ["<html>oops</html>", "Date,Close\n2026-01-01,abc\n", ""] {
            assert!(
                matches!(
                    parse_history(body.as_bytes(), "x"),
                    Err(QuoteError::Unavailable(_))
                ),
                "{body:?}"
            );
        }
    }

    #[test]
    fn small_prices_keep_four_places() {
        assert_eq!(dollars(0.1234), "$0.1234");
        assert_eq!(dollars(201.15), "$201.15");
    }
}
