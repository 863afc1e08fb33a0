//! Command-line and environment configuration of `chat-server`.

use std::net::SocketAddr;
use std::path::PathBuf;

use chat_bot::config::QuoteArgs;
use chat_shared::config::{redact_url, NatsArgs};
use chat_shared::process::LogArgs;
use clap::Parser;

/// A real-time chat server. With neither --nats-url nor a PostgreSQL
/// --database-url it runs embedded: SQLite in --data-dir, an in-process bus,
/// and the stock bot and archiver inside this process.
#[derive(Debug, Clone, Parser)]
#[command(name = "chat-server", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CHAT_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Directory for the embedded database and the generated session key.
    #[arg(long, env = "CHAT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// PostgreSQL URL (postgres://…) for distributed mode.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    #[command(flatten)]
    pub nats: NatsArgs,

    /// Key that signs and encrypts session cookies (at least 64 bytes; hex or
    /// raw). Generated and kept in the data dir when absent in embedded mode.
    #[arg(long, env = "CHAT_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<String>,

    /// The quote service of the in-process bot (embedded mode).
    #[command(flatten)]
    pub quotes: QuoteArgs,

    /// Extra origins allowed to open WebSockets (comma-separated), besides the
    /// server's own host.
    #[arg(long, env = "CHAT_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Proxies (IP addresses or CIDR ranges, comma-separated) whose
    /// `X-Forwarded-For` names the real client. From anyone else the header
    /// is ignored and the TCP peer is the client.
    #[arg(long, env = "CHAT_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::client_addr::TrustedProxy>,

    /// Mark cookies Secure (set when served over TLS, e.g. behind a proxy).
    #[arg(long, env = "CHAT_BEHIND_TLS")]
    pub behind_tls: bool,

    /// How long a login session lasts, in seconds, from the moment it starts
    /// (default 30 days). Past it the server refuses the session whatever
    /// the cookie says, and closes its WebSockets.
    #[arg(long, env = "CHAT_SESSION_LIFETIME_SECS", default_value_t = 30 * 24 * 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub session_lifetime_secs: u64,

    /// Serve `/metrics` (and health checks) on this address only, e.g. a
    /// private interface for Prometheus. Without it (and without a token)
    /// the main address serves `/metrics` to this machine only.
    #[arg(long, env = "CHAT_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Require `Authorization: Bearer <token>` to read `/metrics`.
    #[arg(long, env = "CHAT_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// bcrypt cost for new passwords (10 to 31).
    #[arg(long, env = "CHAT_BCRYPT_COST", default_value_t = 12, value_parser = clap::value_parser!(u32).range(10..=31))]
    pub bcrypt_cost: u32,

    #[command(flatten)]
    pub limits: crate::limits::Limits,

    #[command(flatten)]
    pub log: LogArgs,

    /// Without a command the server runs.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `chat-server` does instead of serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Send an operator's request to a running cluster (over NATS).
    Admin(crate::admin::cli::AdminArgs),
}

impl Config {
    /// Embedded mode: no external bus and no external database.
    pub fn is_embedded(&self) -> bool {
        self.nats.nats_url.is_none() && self.database_url.is_none()
    }

    /// The embedded database file in the data dir.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("chat.db")
    }

    /// The configuration as it may be logged: secrets redacted.
    pub fn redacted(&self) -> Self {
        let mut c = self.clone();
        if c.session_key.is_some() {
            c.session_key = Some("<redacted>".to_owned());
        }
        if c.metrics_token.is_some() {
            c.metrics_token = Some("<redacted>".to_owned());
        }
        c.database_url = c.database_url.as_deref().map(redact_url);
        if c.nats.nats_password.is_some() {
            c.nats.nats_password = Some("<redacted>".to_owned());
        }
        c.command = None;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_urls_means_embedded() {
        let c = Config::parse_from(["chat-server"]);
        assert!(c.is_embedded());
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        let c = Config::parse_from(["chat-server", "--nats-url", "nats://x:4222"]);
        assert!(!c.is_embedded());
    }

    #[test]
    fn no_command_runs_the_server_and_admin_takes_its_own_flags() {
        assert!(Config::parse_from(["chat-server"]).command.is_none());
        let c = Config::parse_from([
            "chat-server",
            "admin",
            "--nats-url",
            "nats://x:4222",
            "notice",
            "--channel",
            "general",
            "Back",
            "soon",
        ]);
        let Some(Command::Admin(admin)) = c.command else {
            panic!("admin expected");
        };
        assert_eq!(admin.nats.nats_url.as_deref(), Some("nats://x:4222"));
        assert!(matches!(
            admin.request,
            crate::admin::cli::AdminRequest::Notice { channel: Some(_), ref text } if text.len() == 2
        ));
        assert!(Config::try_parse_from(["chat-server", "admin", "online"]).is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let c = Config::parse_from([
            "chat-server",
            "--trusted-proxies",
            "10.0.0.1,192.168.0.0/16",
        ]);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(Config::try_parse_from(["chat-server", "--trusted-proxies", "nope"]).is_err());
        assert!(Config::parse_from(["chat-server"])
            .trusted_proxies
            .is_empty());
    }
}
