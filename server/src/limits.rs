//! The configurable limits that keep one client from hurting others, as
//! flags: frame and body sizes, message rate, channels and connections,
//! login attempts, sign-ups, new channels, typing, password hashing, how far
//! a client may fall behind, heartbeats.

use std::time::Duration;

/// The configurable limits of the chat (each a flag and an environment variable).
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Largest WebSocket frame accepted, in bytes (larger: error and close 1009).
    #[arg(long, env = "CHAT_MAX_FRAME_BYTES", default_value_t = 16 * 1024)]
    pub max_frame_bytes: usize,

    /// Messages one connection may send per rate window.
    #[arg(long, env = "CHAT_RATE_COUNT", default_value_t = 20)]
    pub rate_count: u32,

    /// The message rate window, in seconds.
    #[arg(long, env = "CHAT_RATE_WINDOW_SECS", default_value_t = 10)]
    pub rate_window_secs: u64,

    /// Channels one connection may join.
    #[arg(long, env = "CHAT_MAX_CHANNELS", default_value_t = 100)]
    pub max_channels: usize,

    /// Connections one user may hold on one server.
    #[arg(long, env = "CHAT_MAX_CONNECTIONS_PER_USER", default_value_t = 20)]
    pub max_connections_per_user: usize,

    /// Failed logins allowed per minute for one account from one address.
    #[arg(long, env = "CHAT_LOGIN_ATTEMPTS", default_value_t = 10)]
    pub login_attempts: u32,

    /// Failed logins allowed per minute from one address, whatever the accounts.
    #[arg(long, env = "CHAT_LOGIN_ATTEMPTS_PER_ADDRESS", default_value_t = 50)]
    pub login_attempts_per_address: u32,

    /// Sign-ups allowed per hour from one address.
    #[arg(long, env = "CHAT_SIGNUPS_PER_HOUR", default_value_t = 5)]
    pub signups_per_hour: u32,

    /// Channels one account, and one address, may create per hour.
    #[arg(long, env = "CHAT_CHANNELS_PER_HOUR", default_value_t = 10)]
    pub channels_per_hour: u32,

    /// Seconds within which a user's further typing frames in a channel are
    /// merged into the first (one typing event per user per channel).
    #[arg(long, env = "CHAT_TYPING_INTERVAL_SECS", default_value_t = 3)]
    pub typing_interval_secs: u64,

    /// Milliseconds over which who came and went in a channel is gathered
    /// into one `presence` frame to its members.
    #[arg(long, env = "CHAT_PRESENCE_INTERVAL_MS", default_value_t = 200)]
    pub presence_interval_ms: u64,

    /// How many of those present a `joined` frame names (the first, by
    /// name), and a `presence` frame at most lists; the rest are paged with
    /// `GET /api/channels/{name}/members`.
    #[arg(long, env = "CHAT_JOINED_MEMBERS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub joined_members: u32,

    /// Threads the channels run on (each channel on one, spread round
    /// robin); 0: one per core this process may use. One by default: on a
    /// 2-core machine shared with its load, one per core delivered less
    /// (docs/benchmarks.md, "Big rooms").
    #[arg(long, env = "CHAT_CHANNEL_THREADS", default_value_t = 1)]
    pub channel_threads: usize,

    /// Milliseconds a thread of the server may wake late before the server
    /// counts as overloaded: sends are then refused (`overloaded`) until it
    /// catches up, and readers kept waiting by it are not cut off for it.
    #[arg(long, env = "CHAT_OVERLOAD_LAG_MS", default_value_t = 100)]
    pub overload_lag_ms: u64,

    /// Milliseconds work may wait in the server's queues (a frame on its way
    /// to a reader, a post on its way to being stored and delivered) before
    /// the server counts as overloaded and refuses sends (`overloaded`).
    #[arg(long, env = "CHAT_OVERLOAD_WAIT_MS", default_value_t = 500)]
    pub overload_wait_ms: u64,

    /// Passwords hashed or checked at once (bcrypt); default half the cores, at least 1.
    #[arg(long, env = "CHAT_HASH_CONCURRENCY", default_value_t = half_the_cores())]
    pub hash_concurrency: usize,

    /// Sign-ups and logins that may wait for a hashing slot; past that they
    /// are answered 503 `busy`.
    #[arg(long, env = "CHAT_HASH_QUEUE", default_value_t = 64)]
    pub hash_queue: usize,

    /// Largest HTTP request body, in bytes (larger: 413).
    #[arg(long, env = "CHAT_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// Bytes a connection may have waiting to be written before it counts as
    /// too slow and is disconnected (close 1013).
    #[arg(long, env = "CHAT_OUTBOX_BYTES", default_value_t = 1024 * 1024)]
    pub outbox_bytes: usize,

    /// Kernel send buffer of each connection, in bytes. With the outbox, it
    /// bounds what a client that stops reading can hold on the server.
    #[arg(long, env = "CHAT_SOCKET_SEND_BUFFER", default_value_t = 256 * 1024)]
    pub socket_send_buffer: usize,

    /// Seconds a client has to send a whole request: its head, then its body
    /// (slower: 408 and the connection closes).
    #[arg(long, env = "CHAT_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    pub request_timeout_secs: u64,

    /// Seconds of silence after which the server pings a connection (at
    /// most two thirds of the client timeout).
    #[arg(long, env = "CHAT_HEARTBEAT_SECS", default_value_t = 20)]
    pub heartbeat_secs: u64,

    /// Seconds of silence after which a connection is dropped.
    #[arg(long, env = "CHAT_CLIENT_TIMEOUT_SECS", default_value_t = 30)]
    pub client_timeout_secs: u64,
}

impl Limits {
    pub fn rate_window(&self) -> Duration {
        Duration::from_secs(self.rate_window_secs)
    }

    /// The window of `login_attempts` and `login_attempts_per_address`.
    pub fn login_window(&self) -> Duration {
        Duration::from_secs(60)
    }

    /// The window of `signups_per_hour` and `channels_per_hour`.
    pub fn hourly_window(&self) -> Duration {
        Duration::from_secs(3600)
    }

    pub fn typing_interval(&self) -> Duration {
        Duration::from_secs(self.typing_interval_secs)
    }

    pub fn overload_lag(&self) -> Duration {
        Duration::from_millis(self.overload_lag_ms.max(1))
    }

    pub fn overload_wait(&self) -> Duration {
        Duration::from_millis(self.overload_wait_ms.max(1))
    }

    /// How many threads the channels run on.
    pub fn channel_threads(&self) -> usize {
        match self.channel_threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }

    /// How every channel behaves: typing, presence batches, members named.
    pub fn rooms(&self) -> crate::actors::channel::RoomSettings {
        crate::actors::channel::RoomSettings {
            typing_interval: self.typing_interval(),
            presence_interval: Duration::from_millis(self.presence_interval_ms.max(1)),
            joined_members: self.joined_members as usize,
        }
    }

    /// How long a join waits for history from an archiver.
    pub fn history_timeout(&self) -> Duration {
        Duration::from_secs(5)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// Frames a connection's mailbox holds: enough for its outbox bound (and
    /// its overdraft while the server is overloaded) in the smallest frames
    /// (the bound that matters is in bytes).
    pub fn mailbox_frames(&self) -> usize {
        (self
            .outbox_bytes
            .saturating_mul(crate::actors::outbox::OVERDRAFT)
            / 32)
            .max(1024)
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.max(1))
    }

    pub fn client_timeout(&self) -> Duration {
        Duration::from_secs(self.client_timeout_secs.max(1))
    }
}

/// Half the machine's cores, at least one: bcrypt may use the other half.
fn half_the_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Default for Limits {
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            limits: Limits,
        }
        Defaults::parse_from(["defaults"]).limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_abuse_limits_default_to_small_numbers() {
        let l = Limits::default();
        assert_eq!((l.signups_per_hour, l.channels_per_hour), (5, 10));
        assert_eq!((l.login_attempts, l.login_attempts_per_address), (10, 50));
        assert_eq!(l.typing_interval(), Duration::from_secs(3));
        assert_eq!(l.hash_concurrency, half_the_cores());
        assert!(l.hash_concurrency >= 1);
        assert_eq!(l.hash_queue, 64);
    }
}
