//! The stock bot: answers commands (`chat.cmd.*`) with quotes, help and
//! usage, posting its replies into the channel as user `stockbot`.

pub mod cache;
pub mod config;
pub mod incoming;
pub mod quote;
pub mod responder;
pub mod stock_codes;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chat_shared::bot_commands::HANDLED;
use chat_shared::bus::{json_payload, respond, Bus, BusError, Subscription};
use chat_shared::counters::Counters;
use chat_shared::message::Message;
use chat_shared::names::MessageText;
use chat_shared::subjects::{self, ORIGIN_HEADER};
use futures::StreamExt;

use chat_shared::log_text::shown;
pub use config::{BotConfig, BotLimits};
use incoming::{decode, Incoming};
use quote::QuoteClient;
use responder::Responder;

pub use chat_shared::bot_commands::BOT_USER;

/// The bot with its subscription in place.
pub struct Bot {
    bus: Arc<dyn Bus>,
    config: BotConfig,
    /// Where each user's commands are counted.
    counters: Counters,
    commands: Subscription,
}

impl Bot {
    /// Joins the `bot` queue group on `chat.cmd.*`; users' commands are
    /// counted in `counters` (shared by every bot in distributed mode).
    pub async fn subscribe(
        bus: Arc<dyn Bus>,
        config: BotConfig,
        counters: Counters,
    ) -> Result<Self, BusError> {
        let commands = bus
            .queue_subscribe(subjects::CMD_ALL, subjects::BOT_QUEUE)
            .await?;
        tracing::info!(
            queue = subjects::BOT_QUEUE,
            "bot listening on {}",
            subjects::CMD_ALL
        );
        Ok(Self {
            bus,
            config,
            counters,
            commands,
        })
    }

    /// Answers commands until the subscription ends or `shutdown` fires,
    /// then waits for the answers in flight. Must run on an actix system
    /// thread (the HTTP client is not `Send`), e.g. under `actix_rt::spawn`.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let limits = self.config.limits.clone();
        let client = QuoteClient::new(&self.config.stock_api_url, limits.timeout);
        let responder = Rc::new(Responder::new(client, limits.clone(), self.counters));
        let origin = format!("bot-{}", chat_shared::message::next_id());
        let in_flight = Rc::new(Cell::new(0usize));
        tokio::pin!(shutdown);
        loop {
            let envelope = tokio::select! {
                e = self.commands.next() => match e {
                    Some(e) => e,
                    None => break,
                },
                _ = &mut shutdown => break,
            };
            let Some(incoming) = decode(&envelope) else {
                continue;
            };
            let (bus, responder, origin, in_flight) = (
                self.bus.clone(),
                responder.clone(),
                origin.clone(),
                in_flight.clone(),
            );
            in_flight.set(in_flight.get() + 1);
            actix_rt::spawn(async move {
                answer(bus.as_ref(), &responder, &origin, incoming).await;
                // Tell the server the command was handled, so it need not
                // report the bot missing.
                if let Err(e) = respond(bus.as_ref(), &envelope, Bytes::from_static(HANDLED)).await
                {
                    tracing::warn!(error = %e, "could not confirm a command");
                }
                in_flight.set(in_flight.get() - 1);
            });
        }
        drop(self.commands);
        let deadline = Instant::now() + limits.timeout + Duration::from_secs(1);
        while in_flight.get() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Works out the reply to one command and posts it into its channel.
async fn answer(bus: &dyn Bus, responder: &Responder, origin: &str, incoming: Incoming) {
    let started = Instant::now();
    let Some(text) = responder.reply(&incoming.user, &incoming.request).await else {
        tracing::info!(channel = %incoming.channel, user = %shown(&incoming.user), "command ignored: user over the rate limit");
        return;
    };
    let text = MessageText::parse(&text).expect("bot replies are never empty or long");
    let reply = Message::new(incoming.channel.clone(), BOT_USER, text, true);
    let payload = json_payload(&reply);
    let headers = vec![
        (ORIGIN_HEADER.to_owned(), origin.to_owned()),
        (subjects::MSG_ID_HEADER.to_owned(), reply.id.clone()),
    ];
    let published = bus
        .publish(&subjects::msg(&incoming.channel), headers, payload)
        .await;
    if let Err(e) = &published {
        tracing::error!(error = %e, "could not post the reply");
    }
    tracing::info!(
        channel = %incoming.channel, user = %incoming.user, command = ?incoming.request,
        reply = %reply.text, latency_ms = started.elapsed().as_millis() as u64,
        published = published.is_ok(), "command answered"
    );
}
