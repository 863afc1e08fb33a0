//! The bot's settings, each default in one place: where quotes come from and
//! the limits the bot keeps. `QuoteArgs` is shared by `chat-bot` and by the
//! server, which runs the bot in-process in embedded mode.

use std::time::Duration;

/// The stooq CSV endpoint; `{code}` is replaced by the stock code.
pub const STOOQ_URL: &str = "https://stooq.com/q/l/?s={code}&f=sd2t2ohlcv&h&e=csv";
/// The stooq daily-history CSV endpoint; `{code}` is replaced by the code.
pub const STOOQ_HISTORY_URL: &str = "https://stooq.com/q/d/l/?s={code}&i=d";
/// Requests per second the bot sends the services at most.
pub const UPSTREAM_PER_SEC: u32 = 5;
/// Seconds between two checks of the price alerts.
pub const ALERT_INTERVAL_SECS: u64 = 60;
/// Seconds the bot waits for the quote service.
pub const QUOTE_TIMEOUT_SECS: u64 = 5;
/// Seconds a quote is reused.
pub const QUOTE_CACHE_SECS: u64 = 30;
/// Commands one user may give per window.
pub const RATE_COUNT: u32 = 5;
/// The window of `RATE_COUNT`, in seconds.
pub const RATE_WINDOW_SECS: u64 = 10;

/// The quote service flags.
#[derive(Debug, Clone, clap::Args)]
pub struct QuoteArgs {
    /// Quote service URL template; `{code}` is replaced by the stock code.
    #[arg(long, env = "STOCK_API_URL", default_value = STOOQ_URL)]
    pub stock_api_url: String,

    /// Seconds to wait for the quote service.
    #[arg(long, env = "STOCK_TIMEOUT_SECS", default_value_t = QUOTE_TIMEOUT_SECS)]
    pub stock_timeout_secs: u64,

    /// Seconds a quote is reused (0 turns the cache off).
    #[arg(long, env = "STOCK_CACHE_SECS", default_value_t = QUOTE_CACHE_SECS)]
    pub stock_cache_secs: u64,

    /// Daily price history URL template (for /chart); `{code}` is replaced.
    #[arg(long, env = "STOCK_HISTORY_URL", default_value = STOOQ_HISTORY_URL)]
    pub stock_history_url: String,

    /// Requests per second a bot sends the quote services at most; more
    /// wait their turn (fairly, by who asked) or are told the bot is busy.
    #[arg(long, env = "BOT_UPSTREAM_PER_SEC", default_value_t = UPSTREAM_PER_SEC)]
    pub upstream_per_sec: u32,

    /// Seconds between two checks of the price alerts.
    #[arg(long, env = "BOT_ALERT_INTERVAL_SECS", default_value_t = ALERT_INTERVAL_SECS)]
    pub alert_interval_secs: u64,

    /// Commands one user may give the bot per window.
    #[arg(long, env = "BOT_RATE_COUNT", default_value_t = RATE_COUNT)]
    pub bot_rate_count: u32,

    /// The window of --bot-rate-count, in seconds.
    #[arg(long, env = "BOT_RATE_WINDOW_SECS", default_value_t = RATE_WINDOW_SECS)]
    pub bot_rate_window_secs: u64,
}

impl QuoteArgs {
    /// The bot's configuration.
    pub fn bot_config(&self) -> BotConfig {
        BotConfig {
            stock_api_url: self.stock_api_url.clone(),
            stock_history_url: self.stock_history_url.clone(),
            alert_interval: Duration::from_secs(self.alert_interval_secs.max(1)),
            limits: BotLimits {
                timeout: Duration::from_secs(self.stock_timeout_secs),
                cache_ttl: Duration::from_secs(self.stock_cache_secs),
                upstream_per_sec: self.upstream_per_sec.max(1),
                rate_count: self.bot_rate_count,
                rate_window: Duration::from_secs(self.bot_rate_window_secs),
            },
        }
    }
}

/// How the bot reaches the quote service, and its limits.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// URL template with `{code}`.
    pub stock_api_url: String,
    /// Daily history URL template with `{code}`.
    pub stock_history_url: String,
    /// Time between two checks of the price alerts.
    pub alert_interval: Duration,
    pub limits: BotLimits,
}

impl BotConfig {
    /// The defaults, with the services at these URL templates.
    pub fn at(stock_api_url: &str, stock_history_url: &str) -> Self {
        Self {
            stock_api_url: stock_api_url.to_owned(),
            stock_history_url: stock_history_url.to_owned(),
            alert_interval: Duration::from_secs(ALERT_INTERVAL_SECS),
            limits: BotLimits::default(),
        }
    }
}

/// How long the bot waits and caches, and how often one user may ask.
#[derive(Debug, Clone)]
pub struct BotLimits {
    /// How long one quote may take.
    pub timeout: Duration,
    /// How long a quote is reused.
    pub cache_ttl: Duration,
    /// Commands a user may give per `rate_window`.
    pub rate_count: u32,
    pub rate_window: Duration,
    /// Requests per second to the quote services.
    pub upstream_per_sec: u32,
}

impl Default for BotLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(QUOTE_TIMEOUT_SECS),
            cache_ttl: Duration::from_secs(QUOTE_CACHE_SECS),
            rate_count: RATE_COUNT,
            rate_window: Duration::from_secs(RATE_WINDOW_SECS),
            upstream_per_sec: UPSTREAM_PER_SEC,
        }
    }
}
