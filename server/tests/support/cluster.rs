//! Distributed mode for tests: nats-server nodes started with the project's
//! nats.conf on free ports, a fresh PostgreSQL database, and the real
//! `chat-server`, `chat-bot` and `chat-archiver` binaries.

use std::path::{Path, PathBuf};
use std::process::Command;

use chat_shared::testing::{free_port, nats_password, NatsServer, TestProcess};

use super::{machine, Client, LIFTED_LIMITS, PASSWORD};

pub const SESSION_KEY: &str =
    "test-session-key-test-session-key-test-session-key-test-session-key!";

fn binary(name: &str) -> PathBuf {
    let server = PathBuf::from(env!("CARGO_BIN_EXE_chat-server"));
    let path = server.with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace (cargo test --workspace builds it)",
        path.display()
    );
    path
}

/// nats-server nodes, a cluster when more than one; returns when all are ready.
async fn start_nats(nodes: usize, dir: &Path) -> Vec<NatsServer> {
    let route_ports: Vec<u16> = (0..nodes).map(|_| free_port()).collect();
    let servers: Vec<NatsServer> = (0..nodes)
        .map(|i| NatsServer::spawn(&format!("nats-{i}"), dir, cluster_args(i, &route_ports)))
        .collect();
    for server in &servers {
        server.ready().await;
    }
    servers
}

/// The arguments that make node `i` one of a cluster routed over `route_ports`
/// (none for a single node). Nodes do not tell clients of the others, so a
/// process stays on the node it was given: a test decides who fails over.
fn cluster_args(i: usize, route_ports: &[u16]) -> Vec<String> {
    if route_ports.len() < 2 {
        return Vec::new();
    }
    let routes: Vec<String> = route_ports
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, port)| format!("nats://127.0.0.1:{port}"))
        .collect();
    vec![
        "--cluster_name".to_owned(),
        "chat-test".to_owned(),
        "--cluster".to_owned(),
        format!("nats://127.0.0.1:{}", route_ports[i]),
        "--routes".to_owned(),
        routes.join(","),
        "--no_advertise".to_owned(),
    ]
}

/// A chat server process in distributed mode.
pub struct Server {
    pub addr: String,
    pub proc: TestProcess,
}

/// Servers, bots and archivers on NATS and a fresh PostgreSQL database.
pub struct Cluster {
    pub servers: Vec<Server>,
    pub bots: Vec<TestProcess>,
    pub archivers: Vec<TestProcess>,
    pub nats: Vec<NatsServer>,
    pub db_url: String,
    quotes: String,
    pub archiver_env: Vec<(&'static str, &'static str)>,
    pub server_env: Vec<(&'static str, &'static str)>,
    pub bot_env: Vec<(&'static str, &'static str)>,
    nats_failover: bool,
    /// Dropped after the processes that log into it.
    dir: tempfile::TempDir,
    _turn: machine::Turn,
}

/// How many of each, and extra environment for the archivers. The default is
/// one NATS node, one server and one archiver, and no bot.
pub struct Shape {
    pub nats_nodes: usize,
    pub servers: usize,
    pub bots: usize,
    pub archivers: usize,
    pub archiver_env: Vec<(&'static str, &'static str)>,
    /// A database to use instead of a fresh one on the shared server.
    pub db_url: Option<String>,
    /// Extra environment for the chat servers (after `LIFTED_LIMITS`).
    pub server_env: Vec<(&'static str, &'static str)>,
    /// Extra environment for the bots.
    pub bot_env: Vec<(&'static str, &'static str)>,
    /// Give every process every NATS node's URL (comma separated), so that
    /// it fails over when its node goes; by default each knows one node.
    pub nats_failover: bool,
    /// The quote service's URL template, instead of a fresh one (the daily
    /// history beside it, at `/q/d/l/`).
    pub quotes: Option<String>,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            nats_nodes: 1,
            servers: 1,
            bots: 0,
            archivers: 1,
            archiver_env: Vec::new(),
            db_url: None,
            server_env: Vec::new(),
            bot_env: Vec::new(),
            nats_failover: false,
            quotes: None,
        }
    }
}

impl Shape {
    /// The default shape with `servers` chat servers.
    pub fn servers(servers: usize) -> Self {
        Shape {
            servers,
            ..Shape::default()
        }
    }
}

impl Cluster {
    /// Starts everything; `None` (after a loud message) when PostgreSQL is
    /// missing outside CI.
    pub async fn start(shape: Shape) -> Option<Self> {
        let turn = machine::shared();
        let db_url = match shape.db_url {
            Some(url) => url,
            None => chat_shared::testing::fresh_pg_database("chat_cluster").await?,
        };
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = Cluster {
            servers: Vec::new(),
            bots: Vec::new(),
            archivers: Vec::new(),
            nats: start_nats(shape.nats_nodes, dir.path()).await,
            db_url,
            quotes: shape.quotes.clone().unwrap_or_else(super::quotes::start),
            archiver_env: shape.archiver_env,
            server_env: shape.server_env,
            bot_env: shape.bot_env,
            nats_failover: shape.nats_failover,
            dir,
            _turn: turn,
        };
        for _ in 0..shape.archivers {
            cluster.start_archiver().await;
        }
        for i in 0..shape.servers {
            cluster.start_server(i).await;
        }
        for _ in 0..shape.bots {
            cluster.start_bot().await;
        }
        Some(cluster)
    }

    fn command(&self, binary_name: &str, user: &str, node: usize) -> Command {
        let mut cmd = Command::new(binary(binary_name));
        for var in ["CHAT_ALLOWED_ORIGINS", "CHAT_DATA_DIR"] {
            cmd.env_remove(var);
        }
        let url = if self.nats_failover {
            let urls: Vec<String> = self.nats.iter().map(NatsServer::url).collect();
            urls.join(",")
        } else {
            self.nats[node % self.nats.len()].url()
        };
        cmd.env("NATS_URL", url)
            .env("NATS_USER", user)
            .env("NATS_PASSWORD", nats_password(user))
            .env("RUST_LOG", "info");
        cmd
    }

    pub async fn start_server(&mut self, node: usize) {
        let addr = format!("127.0.0.1:{}", free_port());
        let proc = self.spawn_server(self.servers.len(), &addr, node).await;
        self.servers.push(Server { addr, proc });
    }

    /// Copies every process's log to `to` (for a failed run to be read).
    pub fn keep_logs(&self, to: &Path) {
        let _ = std::fs::create_dir_all(to);
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::copy(entry.path(), to.join(entry.file_name()));
        }
    }

    async fn spawn_server(&self, i: usize, addr: &str, node: usize) -> TestProcess {
        let mut cmd = self.command("chat-server", "server", node);
        cmd.env("CHAT_BIND", addr)
            .env("DATABASE_URL", &self.db_url)
            .env("CHAT_SESSION_KEY", SESSION_KEY)
            .env("CHAT_BCRYPT_COST", "10")
            .envs(LIFTED_LIMITS)
            .envs(self.server_env.iter().copied());
        let proc = TestProcess::spawn(&format!("server-{i}"), self.dir.path(), cmd);
        proc.wait_for_log("chat server listening").await;
        proc
    }

    pub async fn start_bot(&mut self) {
        let proc = self.spawn_bot(self.bots.len()).await;
        self.bots.push(proc);
    }

    async fn spawn_bot(&self, node: usize) -> TestProcess {
        let mut cmd = self.command("chat-bot", "bot", node);
        cmd.env("STOCK_API_URL", &self.quotes)
            .env("STOCK_HISTORY_URL", self.quotes.replace("/q/l/", "/q/d/l/"))
            .env("DATABASE_URL", &self.db_url)
            .env("STOCK_TIMEOUT_SECS", "2")
            .envs(self.bot_env.iter().copied());
        let proc = TestProcess::spawn(&format!("bot-{node}"), self.dir.path(), cmd);
        proc.wait_for_log("bot listening").await;
        proc
    }

    pub async fn start_archiver(&mut self) {
        let proc = self.spawn_archiver(self.archivers.len()).await;
        self.archivers.push(proc);
    }

    async fn spawn_archiver(&self, node: usize) -> TestProcess {
        let mut cmd = self.command("chat-archiver", "archiver", node);
        cmd.env("DATABASE_URL", &self.db_url)
            .env("CHAT_SESSION_KEY", SESSION_KEY)
            .envs(self.archiver_env.iter().copied());
        let proc = TestProcess::spawn(&format!("archiver-{node}"), self.dir.path(), cmd);
        proc.wait_for_log("archiving").await;
        proc
    }

    /// Starts server `i` again, as before (same address, same node); returns
    /// once it listens. A server still running is killed first.
    pub async fn restart_server(&mut self, i: usize) {
        self.servers[i].proc.kill();
        let addr = self.servers[i].addr.clone();
        self.servers[i].proc = self.spawn_server(i, &addr, i).await;
    }

    /// Starts bot `i` again, as before; returns once it listens.
    pub async fn restart_bot(&mut self, i: usize) {
        self.bots[i].kill();
        self.bots[i] = self.spawn_bot(i).await;
    }

    /// Starts archiver `i` again, as before; returns once it archives.
    pub async fn restart_archiver(&mut self, i: usize) {
        self.archivers[i].kill();
        self.archivers[i] = self.spawn_archiver(i).await;
    }

    /// The names of the processes that are not running (exited by themselves,
    /// or killed and not started again).
    pub fn not_running(&mut self) -> Vec<String> {
        let procs = self
            .nats
            .iter_mut()
            .map(NatsServer::process_mut)
            .chain(self.servers.iter_mut().map(|s| &mut s.proc))
            .chain(&mut self.bots)
            .chain(&mut self.archivers);
        procs
            .filter_map(|p| (!p.is_running()).then(|| p.name.clone()))
            .collect()
    }

    /// An anonymous client of server `i`.
    pub fn client(&self, i: usize) -> Client {
        Client::new(&self.servers[i].addr)
    }

    /// Registers `name` through server `i`.
    pub async fn user(&self, i: usize, name: &str) -> Client {
        let mut c = self.client(i);
        let (status, body) = c.register(name, PASSWORD).await;
        assert_eq!(status, 201, "register {name}: {body}");
        c
    }

    /// Every process's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let procs = self
            .nats
            .iter()
            .map(NatsServer::process)
            .chain(self.servers.iter().map(|s| &s.proc))
            .chain(&self.bots)
            .chain(&self.archivers);
        for p in procs {
            out += &format!("\n===== {} =====\n{}", p.name, p.log_text());
        }
        out
    }
}
