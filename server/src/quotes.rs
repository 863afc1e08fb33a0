//! Quotes the server gives browsers (`GET /api/quotes/{code}`, watchlists):
//! asked of a bot over the bus (`chat.quote`), each kept for the quote
//! cache's TTL, and asked once however many browsers want it at the same
//! moment (the rest wait for that answer).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_shared::bus::{json_payload, Bus, Headers};
use chat_shared::card::QuoteCard;
use chat_shared::correlation::CorrelationId;
use chat_shared::payloads::{QuoteAnswer, QuoteFailure, QuoteRequest};
use chat_shared::subjects;
use futures::future::{BoxFuture, FutureExt, Shared};

/// How long the server waits for a bot's answer (the bot gives up on the
/// quote service after 5 s).
pub const ASK_TIMEOUT: Duration = Duration::from_secs(6);

type Answer = Result<QuoteCard, QuoteFailure>;

enum Entry {
    Kept(Instant, Answer),
    Asking(Shared<BoxFuture<'static, Answer>>),
}

/// The quotes asked lately, by code.
pub struct QuoteBook {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Entries kept at most before the expired are dropped.
const MAX_ENTRIES: usize = 10_000;

impl QuoteBook {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The quote for `code` (lower case, valid), or why there is none;
    /// asked for `asker` (who takes turns with others at the bot). When the
    /// bot is asked, it is told `correlation` (the first asker's request id).
    pub async fn quote(
        &self,
        bus: &Arc<dyn Bus>,
        code: &str,
        asker: &str,
        correlation: Option<&CorrelationId>,
    ) -> Answer {
        let asking = {
            let mut entries = self.entries.lock().expect("quote book lock");
            match entries.get(code) {
                Some(Entry::Kept(at, answer)) if at.elapsed() < self.ttl => return answer.clone(),
                Some(Entry::Asking(asking)) => asking.clone(),
                _ => {
                    if entries.len() >= MAX_ENTRIES {
                        let ttl = self.ttl;
                        entries
                            .retain(|_, e| !matches!(e, Entry::Kept(at, _) if at.elapsed() >= ttl));
                    }
                    let headers = correlation
                        .map(|id| (subjects::CORRELATION_HEADER.to_owned(), id.to_string()))
                        .into_iter()
                        .collect();
                    let asking = ask(bus.clone(), code.to_owned(), asker.to_owned(), headers)
                        .boxed()
                        .shared();
                    entries.insert(code.to_owned(), Entry::Asking(asking.clone()));
                    asking
                }
            }
        };
        let answer = asking.await;
        let mut entries = self.entries.lock().expect("quote book lock");
        if matches!(entries.get(code), Some(Entry::Asking(_))) {
            // A busy bot or a failing service is asked again next time (the
            // bot keeps its own answers, failures too, for the TTL).
            let keep = matches!(answer, Ok(_) | Err(QuoteFailure::NoSuchQuote));
            if keep && !self.ttl.is_zero() {
                entries.insert(code.to_owned(), Entry::Kept(Instant::now(), answer.clone()));
            } else {
                entries.remove(code);
            }
        }
        answer
    }
}

/// Asks a bot.
async fn ask(bus: Arc<dyn Bus>, code: String, asker: String, headers: Headers) -> Answer {
    let payload = json_payload(&QuoteRequest {
        code,
        asker: Some(asker),
    });
    match bus
        .request(subjects::QUOTE, headers, payload, ASK_TIMEOUT)
        .await
    {
        Ok(reply) => match serde_json::from_slice::<QuoteAnswer>(&reply.payload) {
            Ok(QuoteAnswer::Card { card }) => Ok(card),
            Ok(QuoteAnswer::Error { error }) => Err(error),
            Err(e) => {
                tracing::warn!(error = %e, "a bot's quote answer is unreadable");
                Err(QuoteFailure::QuotesUnavailable)
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "no bot answered a quote request");
            Err(QuoteFailure::QuotesUnavailable)
        }
    }
}
