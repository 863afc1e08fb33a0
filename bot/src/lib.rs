//! The stock bot: answers commands (`chat.cmd.*`) with quotes, charts,
//! alerts, watchlists, help and usage, posting its replies into the channel
//! as user `stockbot`; answers quote requests (`chat.quote`) from the
//! servers; and checks the price alerts every interval.

pub mod alerts;
pub mod cache;
pub mod config;
pub mod gate;
pub mod history;
pub mod incoming;
pub mod metrics;
pub mod quote;
pub mod responder;
pub mod stock_codes;
pub mod upstream;
pub mod watch;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chat_shared::bot_commands::HANDLED;
use chat_shared::bus::{json_payload, respond, Bus, BusError, Envelope, Subscription};
use chat_shared::counters::Counters;
use chat_shared::message::Message;
use chat_shared::names::MessageText;
use chat_shared::payloads::{QuoteAnswer, QuoteFailure, QuoteRequest};
use chat_shared::store::{Store, StoreError};
use chat_shared::subjects::{self, ORIGIN_HEADER};
use futures::StreamExt;
use tracing::Instrument;

use chat_shared::log_text::shown;
pub use config::{BotConfig, BotLimits};
use incoming::{decode, Incoming};
use metrics::Outcome;
use quote::QuoteError;
use responder::{Asker, Responder};
use stock_codes::is_valid_code;
use upstream::Upstream;

pub use chat_shared::bot_commands::BOT_USER;

/// The bot with its subscriptions in place.
pub struct Bot {
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    config: BotConfig,
    /// Where each user's commands are counted.
    counters: Counters,
    commands: Subscription,
    quotes: Subscription,
}

impl Bot {
    /// Joins the `bot` queue group on `chat.cmd.*` and `chat.quote`; users'
    /// commands are counted in `counters` (shared by every bot in
    /// distributed mode); alerts and watchlists are kept in `store`.
    pub async fn subscribe(
        bus: Arc<dyn Bus>,
        store: Arc<dyn Store>,
        config: BotConfig,
        counters: Counters,
    ) -> Result<Self, BusError> {
        chat_shared::telemetry::register(&metrics::CATALOG);
        let commands = bus
            .queue_subscribe(subjects::CMD_ALL, subjects::BOT_QUEUE)
            .await?;
        let quotes = bus
            .queue_subscribe(subjects::QUOTE, subjects::BOT_QUEUE)
            .await?;
        tracing::info!(
            queue = subjects::BOT_QUEUE,
            "bot listening on {} and {}",
            subjects::CMD_ALL,
            subjects::QUOTE
        );
        Ok(Self {
            bus,
            store,
            config,
            counters,
            commands,
            quotes,
        })
    }

    /// Answers commands and quote requests and checks alerts until the
    /// subscriptions end or `shutdown` fires, then waits for the answers in
    /// flight. Must run on an actix system thread (the HTTP client is not
    /// `Send`), e.g. under `actix_rt::spawn`.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let limits = self.config.limits.clone();
        let upstream = Upstream::new(
            &self.config.stock_api_url,
            &self.config.stock_history_url,
            limits.timeout,
            limits.cache_ttl,
            limits.upstream_per_sec,
        );
        let responder = Rc::new(Responder::new(
            upstream.clone(),
            self.store.clone(),
            limits.clone(),
            self.counters,
        ));
        let origin = format!("bot-{}", chat_shared::message::next_id());
        let in_flight = Rc::new(Cell::new(0usize));
        let mut checks = tokio::time::interval(self.config.alert_interval);
        checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let checking = Rc::new(Cell::new(false));
        tokio::pin!(shutdown);
        loop {
            let task: futures::future::LocalBoxFuture<'static, ()> = tokio::select! {
                e = self.commands.next() => match e {
                    Some(envelope) => {
                        let span = incoming::span(&envelope);
                        match span.in_scope(|| decode(&envelope)) {
                            Some(incoming) => Box::pin(command(self.bus.clone(), responder.clone(), origin.clone(), incoming, envelope).instrument(span)),
                            None => continue,
                        }
                    }
                    None => break,
                },
                e = self.quotes.next() => match e {
                    Some(envelope) => Box::pin(quote_request(self.bus.clone(), upstream.clone(), envelope)),
                    None => break,
                },
                _ = checks.tick() => match checking.replace(true) {
                    true => continue,
                    false => Box::pin(check_alerts(
                        self.bus.clone(), self.store.clone(), upstream.clone(), origin.clone(), checking.clone(),
                    )),
                },
                _ = &mut shutdown => break,
            };
            let in_flight = in_flight.clone();
            in_flight.set(in_flight.get() + 1);
            actix_rt::spawn(async move {
                task.await;
                in_flight.set(in_flight.get() - 1);
            });
        }
        drop(self.commands);
        drop(self.quotes);
        let deadline = Instant::now() + limits.timeout + Duration::from_secs(1);
        while in_flight.get() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One check of every alert; `checking` is cleared when it is done, so
/// that checks never overlap on one bot.
async fn check_alerts(
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    upstream: Rc<Upstream>,
    origin: String,
    checking: Rc<Cell<bool>>,
) {
    alerts::check(
        &upstream,
        store.as_ref(),
        bus.as_ref(),
        &origin,
        alerts::LEASE,
    )
    .await;
    checking.set(false);
}

/// Answers one command, then tells the server it was handled (so it need
/// not report the bot missing).
async fn command(
    bus: Arc<dyn Bus>,
    responder: Rc<Responder>,
    origin: String,
    incoming: Incoming,
    envelope: Envelope,
) {
    answer(bus.as_ref(), &responder, &origin, incoming).await;
    if let Err(e) = respond(bus.as_ref(), &envelope, Bytes::from_static(HANDLED)).await {
        tracing::warn!(error = %e, "could not confirm a command");
    }
}

/// Answers a `chat.quote` request, every line about it in its span.
fn quote_request(
    bus: Arc<dyn Bus>,
    upstream: Rc<Upstream>,
    envelope: Envelope,
) -> impl std::future::Future<Output = ()> {
    let span = incoming::quote_span(&envelope);
    answer_quote(bus, upstream, envelope).instrument(span)
}

/// Answers a `chat.quote` request with a card or why there is none.
async fn answer_quote(bus: Arc<dyn Bus>, upstream: Rc<Upstream>, envelope: Envelope) {
    let started = Instant::now();
    let asked = serde_json::from_slice::<QuoteRequest>(&envelope.payload)
        .ok()
        .map(|r| (r.code.to_ascii_lowercase(), r.asker))
        .filter(|(c, _)| is_valid_code(c));
    let code = asked.as_ref().map(|(c, _)| c.clone()).unwrap_or_default();
    let mut outcome = Outcome::Ok;
    let answer = match asked {
        None => {
            outcome = Outcome::BadRequest;
            QuoteAnswer::Error {
                error: QuoteFailure::NoSuchQuote,
            }
        }
        Some((asked_code, asker)) => match upstream
            .quote(&asked_code, asker.as_deref().unwrap_or("quote requests"))
            .await
        {
            Ok(q) => QuoteAnswer::Card { card: q.card },
            Err(e) => {
                outcome = Outcome::of(&e);
                let error = match e {
                    QuoteError::NotFound(_) => QuoteFailure::NoSuchQuote,
                    QuoteError::Busy => QuoteFailure::Busy,
                    QuoteError::Unavailable(_) => QuoteFailure::QuotesUnavailable,
                };
                QuoteAnswer::Error { error }
            }
        },
    };
    metrics::command("quote", outcome);
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(%code, outcome = outcome.label(), latency_ms, "quote request answered");
    if let Err(e) = respond(bus.as_ref(), &envelope, json_payload(&answer)).await {
        tracing::warn!(error = %e, "could not answer a quote request");
    }
}

/// Works out the reply to one command and posts it into its channel.
async fn answer(bus: &dyn Bus, responder: &Responder, origin: &str, incoming: Incoming) {
    let started = Instant::now();
    let asker = Asker {
        user: &incoming.user,
        channel: &incoming.channel,
    };
    let kind = incoming.request.kind();
    let Some(reply) = responder.reply(&asker, &incoming.request).await else {
        metrics::command(kind, Outcome::RateLimited);
        tracing::info!(channel = %incoming.channel, user = %shown(&incoming.user), "command ignored: user over the rate limit");
        return;
    };
    metrics::command(kind, reply.outcome);
    let text = MessageText::parse(&reply.text).expect("bot replies are never empty or long");
    let mut message = Message::new(incoming.channel.clone(), BOT_USER, text, true);
    message.card = reply.card.map(Box::new);
    let published = post(bus, responder.store.as_ref(), origin, &message).await;
    if let Err(e) = &published {
        tracing::error!(error = %e, "could not post the reply");
    }
    tracing::info!(
        channel = %incoming.channel, user = %incoming.user, command = ?incoming.request,
        reply = %message.text, latency_ms = started.elapsed().as_millis() as u64,
        published = published.is_ok(), "command answered"
    );
}

/// Why a post did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Publishes a bot message once it is stored: on a bus with a stream, a
/// JetStream publish that waits for the stream's ack (the archivers copy it
/// from there); on the in-process bus, after writing it to the store (the
/// in-process archiver's copy of it is then a no-op), so that nothing posted
/// lives only in memory.
pub async fn post(
    bus: &dyn Bus,
    store: &dyn Store,
    origin: &str,
    message: &Message,
) -> Result<(), PostError> {
    let headers = vec![
        (ORIGIN_HEADER.to_owned(), origin.to_owned()),
        (subjects::MSG_ID_HEADER.to_owned(), message.id.clone()),
    ];
    let subject = subjects::msg(&message.channel);
    let payload = json_payload(message);
    if bus.archive_may_lag() {
        bus.publish_stored(&subject, headers, payload).await?;
    } else {
        store.insert_messages(std::slice::from_ref(message)).await?;
        bus.publish(&subject, headers, payload).await?;
    }
    Ok(())
}
