//! The benchmark scenarios, one per subcommand, and the flags they share.

pub mod archiver;
pub mod connections;
pub mod fanout;
pub mod join;
pub mod search;
pub mod signups;
pub mod storm;

/// Where the servers are and how many connections to open.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Server(s) as host:port or http://host:port; several comma-separated
    /// (clients are split across them).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1:8080")]
    pub url: Vec<String>,

    /// WebSocket connections to open.
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub connections: usize,

    /// Accounts to spread the connections over (default: one per 20
    /// connections, the server's default per-user limit).
    #[arg(long)]
    pub users: Option<usize>,

    /// Logins (register or log in) in flight at once; each costs a bcrypt.
    #[arg(long, default_value_t = 4)]
    pub login_concurrency: usize,

    /// WebSocket handshakes in flight at once.
    #[arg(long, default_value_t = 100)]
    pub concurrency: usize,

    /// PIDs of the server processes, for their memory and CPU use (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,

    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

impl Common {
    pub fn users(&self) -> usize {
        self.users.unwrap_or(self.connections.div_ceil(20)).max(1)
    }
}
