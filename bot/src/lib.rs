//! The stock bot: answers `chat.cmd.stock` commands with quotes, posting its
//! replies into the channel as user `stockbot`.

pub mod quote;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chat_shared::bus::{Bus, BusError, Subscription};
use chat_shared::message::Message;
use chat_shared::names::MessageText;
use chat_shared::subjects::{self, StockCommand, ORIGIN_HEADER};
use futures::StreamExt;

use quote::{QuoteClient, QuoteError};

/// The name the bot posts under.
pub const BOT_USER: &str = "stockbot";

/// How the bot reaches the quote service.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// URL template with `{code}`.
    pub stock_api_url: String,
    /// How long one quote may take.
    pub timeout: Duration,
}

/// Whether `code` is a plausible stock code: letters, digits, `.`, `-`, at most 20.
pub fn is_valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 20
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// The reply text for one code.
pub async fn answer(client: &QuoteClient, code: &str) -> String {
    if !is_valid_code(code) {
        return "Usage: /stock=CODE, for example /stock=aapl.us".to_owned();
    }
    match client.fetch(&code.to_ascii_lowercase()).await {
        Ok(q) => q.reply(),
        Err(QuoteError::NotFound(symbol)) => format!("I couldn't find a quote for {symbol}."),
        Err(QuoteError::Unavailable(_)) => {
            "The quote service is unavailable right now; please try again later.".to_owned()
        }
    }
}

/// The bot with its subscription in place.
pub struct Bot {
    bus: Arc<dyn Bus>,
    config: BotConfig,
    commands: Subscription,
}

impl Bot {
    /// Joins the `bot` queue group on `chat.cmd.stock`.
    pub async fn subscribe(bus: Arc<dyn Bus>, config: BotConfig) -> Result<Self, BusError> {
        let commands = bus.queue_subscribe(subjects::CMD_STOCK, subjects::BOT_QUEUE).await?;
        tracing::info!(queue = subjects::BOT_QUEUE, "bot listening on {}", subjects::CMD_STOCK);
        Ok(Self { bus, config, commands })
    }

    /// Answers commands until the subscription ends or `shutdown` fires,
    /// then waits for the answers in flight. Must run on an actix system
    /// thread (the HTTP client is not `Send`), e.g. under `actix_rt::spawn`.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let client = Rc::new(QuoteClient::new(&self.config.stock_api_url, self.config.timeout));
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
            let command: StockCommand = match serde_json::from_slice(&envelope.payload) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(subject = %envelope.subject, error = %e, "dropping malformed command");
                    continue;
                }
            };
            let (bus, client, origin) = (self.bus.clone(), client.clone(), origin.clone());
            let in_flight = in_flight.clone();
            in_flight.set(in_flight.get() + 1);
            actix_rt::spawn(async move {
                let started = Instant::now();
                let text = answer(&client, &command.code).await;
                let reply = Message::new(
                    command.channel.clone(),
                    BOT_USER,
                    MessageText::parse(&text).expect("bot replies are never empty"),
                    true,
                );
                let payload = Bytes::from(serde_json::to_vec(&reply).expect("messages serialize"));
                let headers = vec![(ORIGIN_HEADER.to_owned(), origin)];
                let published = bus.publish(&subjects::msg(&command.channel), headers, payload).await;
                tracing::info!(
                    channel = %command.channel, user = %command.user, code = %command.code,
                    reply = %text, latency_ms = started.elapsed().as_millis() as u64,
                    published = published.is_ok(), "stock command answered"
                );
                in_flight.set(in_flight.get() - 1);
            });
        }
        drop(self.commands);
        let deadline = Instant::now() + self.config.timeout + Duration::from_secs(1);
        while in_flight.get() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
