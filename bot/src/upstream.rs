//! The bot's way to the quote and history services: every request through
//! the [`Gate`] (a rate and a fair queue), each answer kept for the cache's
//! TTL (failures too, so a code is asked of a service at most once per TTL
//! however many people ask), and askers of a code already on its way share
//! that one request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures::future::{FutureExt, LocalBoxFuture, Shared};

use crate::cache::TtlCache;
use crate::gate::Gate;
use crate::history::parse_history;
use crate::quote::{parse_csv, url_for, HttpSource, Quote, QuoteError};

/// How long a daily history is kept: it changes once a day.
pub const HISTORY_CACHE: Duration = Duration::from_secs(600);

type Fetch<T> = Shared<LocalBoxFuture<'static, Result<T, QuoteError>>>;

/// One service's answers: the cache and the requests on their way.
struct Answers<T> {
    cache: RefCell<TtlCache<Result<T, QuoteError>>>,
    on_the_way: RefCell<HashMap<String, Fetch<T>>>,
}

impl<T: Clone + 'static> Answers<T> {
    fn new(ttl: Duration) -> Self {
        Self {
            cache: RefCell::new(TtlCache::new(ttl)),
            on_the_way: RefCell::new(HashMap::new()),
        }
    }
}

/// Where quotes and histories come from, and the limits on asking.
pub struct Upstream {
    http: HttpSource,
    quote_url: String,
    history_url: String,
    timeout: Duration,
    gate: Rc<Gate>,
    quotes: Answers<Quote>,
    histories: Answers<Vec<(String, f64)>>,
}

impl Upstream {
    /// Must be made on an actix system thread (the HTTP client is not `Send`).
    pub fn new(
        quote_url: &str,
        history_url: &str,
        timeout: Duration,
        cache_ttl: Duration,
        per_second: u32,
    ) -> Rc<Self> {
        Rc::new(Self {
            http: HttpSource::new(timeout),
            quote_url: quote_url.to_owned(),
            history_url: history_url.to_owned(),
            timeout,
            gate: Gate::new(per_second),
            quotes: Answers::new(cache_ttl),
            histories: Answers::new(if cache_ttl.is_zero() {
                Duration::ZERO
            } else {
                HISTORY_CACHE.max(cache_ttl)
            }),
        })
    }

    /// The quote for `code` (lower case), asked on behalf of `who`.
    pub async fn quote(self: &Rc<Self>, code: &str, who: &str) -> Result<Quote, QuoteError> {
        let this = self.clone();
        let (code_owned, who) = (code.to_owned(), who.to_owned());
        let fetch = async move {
            let body = this
                .fetch(&url_for(&this.quote_url, &code_owned), &who)
                .await?;
            parse_csv(&body, &code_owned)
        };
        self.answer(&self.quotes, code, fetch).await
    }

    /// The daily closes of `code`, oldest first.
    pub async fn history(
        self: &Rc<Self>,
        code: &str,
        who: &str,
    ) -> Result<Vec<(String, f64)>, QuoteError> {
        let this = self.clone();
        let (code_owned, who) = (code.to_owned(), who.to_owned());
        let fetch = async move {
            let body = this
                .fetch(&url_for(&this.history_url, &code_owned), &who)
                .await?;
            parse_history(&body, &code_owned)
        };
        self.answer(&self.histories, code, fetch).await
    }

    /// Waits for the gate, then fetches, all within the timeout.
    async fn fetch(&self, url: &str, who: &str) -> Result<bytes::Bytes, QuoteError> {
        let asked = async {
            self.gate.admit(who).await.map_err(|_| QuoteError::Busy)?;
            self.http.get(url).await
        };
        tokio::time::timeout(self.timeout, asked)
            .await
            .unwrap_or_else(|_| Err(QuoteError::Unavailable("timed out".into())))
    }

    /// The cached answer for `code`, else the one on its way, else `fetch`'s.
    async fn answer<T: Clone + 'static>(
        &self,
        answers: &Answers<T>,
        code: &str,
        fetch: impl std::future::Future<Output = Result<T, QuoteError>> + 'static,
    ) -> Result<T, QuoteError> {
        if let Some(kept) = answers.cache.borrow().get(code, Instant::now()) {
            return kept;
        }
        let existing = answers.on_the_way.borrow().get(code).cloned();
        let shared = match existing {
            Some(shared) => shared,
            None => {
                let shared = fetch.boxed_local().shared();
                answers
                    .on_the_way
                    .borrow_mut()
                    .insert(code.to_owned(), shared.clone());
                shared
            }
        };
        let answer = shared.await;
        let busy = matches!(answer, Err(QuoteError::Busy));
        if answers.on_the_way.borrow_mut().remove(code).is_some() && !busy {
            answers
                .cache
                .borrow_mut()
                .put(code, &answer, Instant::now());
        }
        answer
    }
}
