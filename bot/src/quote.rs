//! Quotes: stooq's CSV (`Symbol,Date,Time,Open,High,Low,Close,Volume`),
//! columns found by header name, read into the v1 reply line and a card.

use std::sync::Arc;
use std::time::Duration;

use chat_shared::card::{change_pct, QuoteCard};

/// A quote as the service gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The symbol, upper-cased as the service returns it.
    pub symbol: String,
    /// The close price exactly as given.
    pub close: String,
    /// Every field, as numbers.
    pub card: QuoteCard,
}

impl Quote {
    /// The bot's reply line for this quote.
    pub fn reply(&self) -> String {
        format!("{} quote is ${} per share", self.symbol, self.close)
    }
}

/// Why there is no quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// The service knows no such symbol (`N/D`).
    #[error("no quote for {0}")]
    NotFound(String),
    /// The service failed, timed out or answered something unreadable.
    #[error("quote service unavailable: {0}")]
    Unavailable(String),
    /// Asked of the service too often right now: the bot's own limit.
    #[error("too many requests to the quote service right now")]
    Busy,
}

fn unavailable(why: &str) -> QuoteError {
    QuoteError::Unavailable(why.to_owned())
}

/// A price as the service writes it: a finite number, not negative.
pub fn parse_price(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)
}

/// A stooq CSV body's reader (fields trimmed, rows of any length) and its
/// header row.
pub(crate) fn csv_table(
    body: &[u8],
) -> Result<(csv::Reader<&[u8]>, csv::StringRecord), QuoteError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|_| unavailable("unreadable header"))?
        .clone();
    Ok((reader, headers))
}

/// Where the column `name` is (any case), found by header name, not position.
pub(crate) fn column_of(headers: &csv::StringRecord, name: &str) -> Option<usize> {
    headers.iter().position(|h| h.eq_ignore_ascii_case(name))
}

/// Parses a stooq CSV body (`Symbol,Date,Time,Open,High,Low,Close,Volume`).
/// Symbol and Close are required; the rest fill the card when present.
pub fn parse_csv(body: &[u8], code: &str) -> Result<Quote, QuoteError> {
    let (mut reader, headers) = csv_table(body)?;
    let column = |name: &str| column_of(&headers, name);
    let (symbol_at, close_at) = match (column("Symbol"), column("Close")) {
        (Some(s), Some(c)) => (s, c),
        _ => return Err(unavailable("no Symbol/Close columns")),
    };
    let record = match reader.records().next() {
        Some(Ok(r)) => r,
        Some(Err(_)) => return Err(unavailable("unreadable row")),
        None => return Err(unavailable("no data row")),
    };
    let field = |name: &str| {
        column(name)
            .and_then(|at| record.get(at))
            .unwrap_or_default()
    };
    let symbol = record.get(symbol_at).unwrap_or_default();
    let close = record.get(close_at).unwrap_or_default();
    let symbol = if symbol.is_empty() {
        code.to_ascii_uppercase()
    } else {
        symbol.to_ascii_uppercase()
    };
    if close.eq_ignore_ascii_case("N/D") {
        return Err(QuoteError::NotFound(symbol));
    }
    let Some(last) = parse_price(close) else {
        return Err(unavailable("close price is not a number"));
    };
    let or_close = |name: &str| parse_price(field(name)).unwrap_or(last);
    let open = or_close("Open");
    let card = QuoteCard {
        symbol: symbol.chars().take(24).collect(),
        date: field("Date").chars().take(24).collect(),
        time: field("Time").chars().take(24).collect(),
        open,
        high: or_close("High"),
        low: or_close("Low"),
        close: last,
        volume: field("Volume").parse().unwrap_or(0),
        change_pct: change_pct(open, last),
    };
    Ok(Quote {
        symbol,
        close: close.to_owned(),
        card,
    })
}

/// Fetches CSV bodies over HTTP (awc, rustls).
pub struct HttpSource {
    client: awc::Client,
}

impl HttpSource {
    /// A client; must be made and used on an actix system thread (awc is not `Send`).
    pub fn new(timeout: Duration) -> Self {
        let connector = awc::Connector::new()
            .rustls_0_23(Arc::new(tls_config()))
            .timeout(timeout);
        let client = awc::Client::builder()
            .connector(connector)
            .timeout(timeout)
            .add_default_header(("User-Agent", "chat-bot"))
            .finish();
        Self { client }
    }

    /// The body at `url` when the answer is a success.
    pub async fn get(&self, url: &str) -> Result<bytes::Bytes, QuoteError> {
        let asked = std::time::Instant::now();
        let response = self.client.get(url).send().await;
        crate::metrics::upstream_took(asked.elapsed());
        let mut response = response.map_err(|e| QuoteError::Unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(QuoteError::Unavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        response
            .body()
            .limit(MAX_BODY)
            .await
            .map_err(|e| QuoteError::Unavailable(e.to_string()))
    }
}

/// Largest body read from the services (a daily history of decades).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// `template` with `{code}` replaced.
pub fn url_for(template: &str, code: &str) -> String {
    template.replace("{code}", code)
}

fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Symbol,Date,Time,Open,High,Low,Close,Volume\nAAPL.US,2026-11-27,22:00:09,92.1,94.0,91.8,93.42,41234567\n";

    #[test]
    fn a_good_row_gives_the_documented_reply() {
        let q = parse_csv(GOOD.as_bytes(), "aapl.us").unwrap();
        assert_eq!(q.reply(), "AAPL.US quote is $93.42 per share");
    }

    #[test]
    fn a_good_row_fills_the_card() {
        let card = parse_csv(GOOD.as_bytes(), "aapl.us").unwrap().card;
        assert_eq!(
            (card.symbol.as_str(), card.date.as_str(), card.time.as_str()),
            ("AAPL.US", "2026-11-27", "22:00:09")
        );
        assert_eq!(
            (card.open, card.high, card.low, card.close),
            (92.1, 94.0, 91.8, 93.42)
        );
        assert_eq!(card.volume, 41_234_567);
        assert_eq!(card.change_pct, 1.43, "93.42 against 92.1");
    }

    #[test]
    fn columns_are_found_by_name_not_position() {
        let body = "Close,Symbol\n12.5,MSFT.US\n";
        assert_eq!(parse_csv(body.as_bytes(), "msft.us").unwrap().close, "12.5");
    }

    #[test]
    fn n_d_means_not_found() {
        let body =
            "Symbol,Date,Time,Open,High,Low,Close,Volume\nZZZZ.US,N/D,N/D,N/D,N/D,N/D,N/D,N/D\n";
        assert_eq!(
            parse_csv(body.as_bytes(), "zzzz.us"),
            Err(QuoteError::NotFound("ZZZZ.US".into()))
        );
    }

    #[test]
    fn empty_header_only_and_garbage_are_unavailable() {
        for body in [
            "",
            "Symbol,Date,Time,Open,High,Low,Close,Volume\n",
            "<html>oops</html>",
            "a,b\n1,2\n",
            "Symbol,Close\nX,abc\n",
        ] {
            assert!(
                matches!(
                    parse_csv(body.as_bytes(), "x"),
                    Err(QuoteError::Unavailable(_))
                ),
                "{body:?}"
            );
        }
    }
}
