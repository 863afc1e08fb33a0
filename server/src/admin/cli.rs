//! `chat-server admin …`: sends one operator's request to the cluster over
//! NATS (as the `ops` user, on its `_INBOX_ops` inboxes) and prints the
//! answer, for those without the `nats` CLI.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{ConnectOptions, Event, RequestErrorKind};
use bytes::Bytes;
use chat_shared::admin::{ChannelRequest, DisconnectRequest, NoticeRequest, OnlineRequest};
use chat_shared::bus::json_payload;
use chat_shared::config::NatsArgs;
use chat_shared::subjects;
use clap::{Args, Subcommand};

/// Steer a running cluster: list servers, see who is online, end a user's
/// sessions, close or reopen a channel, send a notice. Connects to NATS
/// with --nats-url, --nats-user and --nats-password (the `ops` user).
#[derive(Debug, Clone, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    pub nats: NatsArgs,

    /// How long to wait for an answer, in seconds.
    #[arg(long, env = "CHAT_ADMIN_TIMEOUT_SECS", default_value_t = 5)]
    pub timeout_secs: u64,

    #[command(subcommand)]
    pub request: AdminRequest,
}

/// One request to the servers.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminRequest {
    /// Every live server with its connections and channels.
    Servers,
    /// Who is connected to a channel, on any server.
    Online { channel: String },
    /// End every login session of a user: their WebSockets close everywhere.
    Disconnect { user: String },
    /// Make a channel read-only.
    Close { channel: String },
    /// Let members post in a closed channel again.
    Reopen { channel: String },
    /// Show a notice (not stored) to everyone, or to those in --channel.
    Notice {
        #[arg(long)]
        channel: Option<String>,
        /// The notice's words.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
}

impl AdminRequest {
    /// The subject and body of the request.
    fn to_bus(&self) -> (&'static str, Bytes) {
        match self {
            Self::Servers => (subjects::ADMIN_SERVERS, Bytes::new()),
            Self::Online { channel } => (
                subjects::ADMIN_ONLINE,
                json_payload(&OnlineRequest {
                    channel: channel.clone(),
                }),
            ),
            Self::Disconnect { user } => (
                subjects::ADMIN_DISCONNECT,
                json_payload(&DisconnectRequest { user: user.clone() }),
            ),
            Self::Close { channel } | Self::Reopen { channel } => {
                let subject = match self {
                    Self::Close { .. } => subjects::ADMIN_CLOSE,
                    _ => subjects::ADMIN_REOPEN,
                };
                let body = ChannelRequest {
                    channel: channel.clone(),
                };
                (subject, json_payload(&body))
            }
            Self::Notice { channel, text } => (
                subjects::ADMIN_NOTICE,
                json_payload(&NoticeRequest {
                    text: text.join(" "),
                    channel: channel.clone(),
                }),
            ),
        }
    }
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminCliError {
    #[error("--nats-url (NATS_URL) is required")]
    NoUrl,
    #[error("could not connect to NATS: {0}")]
    Connect(String),
    #[error("no chat server is answering {0} (are the servers running with NATS?)")]
    NoResponders(&'static str),
    #[error("no answer to {0} in time")]
    Timeout(&'static str),
    #[error("the request failed: {0}")]
    Request(String),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("NATS refused the request (is --nats-user the ops user?): {0}")]
    NotAllowed(String),
}

/// Runs the command: the exit status, after saying on standard error why
/// it failed, if it did.
pub async fn run_and_report(args: AdminArgs, fallback: &NatsArgs) -> i32 {
    match run(args, fallback).await {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "chat-server admin: {e}");
            1
        }
    }
}

/// Sends the request and prints the answer; `fallback`: the NATS flags
/// given before `admin`.
pub async fn run(args: AdminArgs, fallback: &NatsArgs) -> Result<(), AdminCliError> {
    let nats = NatsArgs {
        nats_url: args.nats.nats_url.or(fallback.nats_url.clone()),
        nats_user: args.nats.nats_user.or(fallback.nats_user.clone()),
        nats_password: args.nats.nats_password.or(fallback.nats_password.clone()),
    };
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let (client, refused) = connect(&nats, timeout).await?;
    let (subject, payload) = args.request.to_bus();
    let answer = client.request(subject, payload).await.map_err(|e| {
        let refusal = refused.lock().unwrap_or_else(|p| p.into_inner()).take();
        match (e.kind(), refusal) {
            (_, Some(why)) => AdminCliError::NotAllowed(why),
            (RequestErrorKind::NoResponders, None) => AdminCliError::NoResponders(subject),
            (RequestErrorKind::TimedOut, None) => AdminCliError::Timeout(subject),
            (_, None) => AdminCliError::Request(e.to_string()),
        }
    })?;
    print_answer(&answer.payload)
}

/// What NATS last refused this connection, with the reason it gave.
type Refusal = Arc<Mutex<Option<String>>>;

/// Connects as an operator: answers come to `_INBOX_ops` inboxes.
async fn connect(
    nats: &NatsArgs,
    timeout: Duration,
) -> Result<(async_nats::Client, Refusal), AdminCliError> {
    let url = nats.nats_url.as_deref().ok_or(AdminCliError::NoUrl)?;
    // NATS says why it refused a request (e.g. a user other than ops) only
    // on the side: kept to explain the timeout that follows.
    let refused = Refusal::default();
    let heard = refused.clone();
    let mut options = ConnectOptions::new()
        .name("chat-admin")
        .event_callback(move |event| {
            let heard = heard.clone();
            async move {
                if let Event::ServerError(e) = event {
                    *heard.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                }
            }
        })
        .custom_inbox_prefix(subjects::OPS_INBOX_PREFIX)
        .request_timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&nats.nats_user, &nats.nats_password) {
        options = options.user_and_password(user.clone(), password.clone());
    }
    let urls: Vec<&str> = url
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    let client = options
        .connect(urls)
        .await
        .map_err(|e| AdminCliError::Connect(e.to_string()))?;
    Ok((client, refused))
}

/// Prints an answer, pretty; an error answer is an error.
fn print_answer(payload: &[u8]) -> Result<(), AdminCliError> {
    let value: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| AdminCliError::Request(format!("the answer is not JSON: {e}")))?;
    let pretty = serde_json::to_string_pretty(&value).expect("a JSON value serializes");
    let _ = writeln!(std::io::stdout().lock(), "{pretty}");
    if let Some(error) = value.get("error") {
        let code = error
            .get("code")
            .and_then(|c| c.as_str())
            .unwrap_or("error");
        let message = error.get("message").and_then(|m| m.as_str()).unwrap_or("");
        return Err(AdminCliError::Refused(format!("{code}: {message}")));
    }
    Ok(())
}
