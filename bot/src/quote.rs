//! The quote client: fetches a stooq-format CSV over HTTP (awc, rustls) and
//! reads the symbol and close price by header name.

use std::sync::Arc;
use std::time::Duration;

/// A quote as the service gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The symbol, upper-cased as the service returns it.
    pub symbol: String,
    /// The close price exactly as given.
    pub close: String,
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
}

/// Parses a stooq CSV body (`Symbol,Date,Time,Open,High,Low,Close,Volume`).
pub fn parse_csv(body: &[u8], code: &str) -> Result<Quote, QuoteError> {
    let unavailable = |why: &str| QuoteError::Unavailable(why.to_owned());
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|_| unavailable("unreadable header"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (symbol_at, close_at) = match (column("Symbol"), column("Close")) {
        (Some(s), Some(c)) => (s, c),
        _ => return Err(unavailable("no Symbol/Close columns")),
    };
    let record = match reader.records().next() {
        Some(Ok(r)) => r,
        Some(Err(_)) => return Err(unavailable("unreadable row")),
        None => return Err(unavailable("no data row")),
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
    if close.is_empty()
        || close
            .parse::<f64>()
            .map_or(true, |v| !v.is_finite() || v < 0.0)
    {
        return Err(unavailable("close price is not a number"));
    }
    Ok(Quote {
        symbol,
        close: close.to_owned(),
    })
}

/// Fetches quotes from a URL template with `{code}`.
pub struct QuoteClient {
    client: awc::Client,
    url_template: String,
}

impl QuoteClient {
    /// A client; must be made and used on an actix system thread (awc is not `Send`).
    pub fn new(url_template: &str, timeout: Duration) -> Self {
        let connector = awc::Connector::new()
            .rustls_0_23(Arc::new(tls_config()))
            .timeout(timeout);
        let client = awc::Client::builder()
            .connector(connector)
            .timeout(timeout)
            .add_default_header(("User-Agent", "chat-bot"))
            .finish();
        Self {
            client,
            url_template: url_template.to_owned(),
        }
    }

    /// The URL for a code.
    pub fn url(&self, code: &str) -> String {
        self.url_template.replace("{code}", code)
    }

    pub async fn fetch(&self, code: &str) -> Result<Quote, QuoteError> {
        let mut response = self
            .client
            .get(self.url(code))
            .send()
            .await
            .map_err(|e| QuoteError::Unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(QuoteError::Unavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        let body = response
            .body()
            .limit(64 * 1024)
            .await
            .map_err(|e| QuoteError::Unavailable(e.to_string()))?;
        parse_csv(&body, code)
    }
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
