//! Distributed mode for tests: nats-server nodes started with the project's
//! nats.conf on free ports, a fresh PostgreSQL database, and the real
//! `chat-server`, `chat-bot` and `chat-archiver` binaries.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, Client, PASSWORD};

pub const SESSION_KEY: &str =
    "test-session-key-test-session-key-test-session-key-test-session-key!";
pub const PASSWORDS: [(&str, &str, &str); 4] = [
    ("server", "NATS_SERVER_PASSWORD", "server-secret"),
    ("bot", "NATS_BOT_PASSWORD", "bot-secret"),
    ("archiver", "NATS_ARCHIVER_PASSWORD", "archiver-secret"),
    ("ops", "NATS_OPS_PASSWORD", "ops-secret"),
];

fn password(user: &str) -> &'static str {
    PASSWORDS
        .iter()
        .find(|p| p.0 == user)
        .map(|p| p.2)
        .expect("known NATS user")
}

/// A child process with its log; killed when dropped.
pub struct Proc {
    pub name: String,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    fn spawn(name: &str, dir: &Path, mut cmd: Command) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        cmd.stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        Proc {
            name: name.to_owned(),
            log,
            child: Some(child),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub async fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.log_text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "{} never logged {needle:?}:\n{}",
                self.name,
                self.log_text()
            );
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn kill(&mut self) {
        super::kill_now(&mut self.child);
    }

    /// SIGTERM, then wait for the exit.
    pub async fn terminate(&mut self) {
        super::terminate(&mut self.child, &self.name, Duration::from_secs(20)).await;
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

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

fn nats_conf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../nats.conf")
}

/// nats-server nodes (a cluster when more than one).
pub struct Nats {
    pub ports: Vec<u16>,
    pub procs: Vec<Proc>,
    route_ports: Vec<u16>,
    dir: PathBuf,
}

impl Nats {
    pub async fn start(nodes: usize, dir: &Path) -> Self {
        let mut nats = Nats {
            ports: (0..nodes).map(|_| free_port()).collect(),
            route_ports: (0..nodes).map(|_| free_port()).collect(),
            procs: Vec::new(),
            dir: dir.to_path_buf(),
        };
        for i in 0..nodes {
            let proc = nats.spawn_node(i);
            nats.procs.push(proc);
        }
        for p in &nats.procs {
            p.wait_for_log("Server is ready").await;
        }
        nats
    }

    fn spawn_node(&self, i: usize) -> Proc {
        let nodes = self.ports.len();
        let mut cmd = Command::new("nats-server");
        cmd.arg("-c")
            .arg(nats_conf())
            .args(["-a", "127.0.0.1", "-p", &self.ports[i].to_string()])
            .arg("-sd")
            .arg(self.dir.join(format!("nats-{i}")))
            .args(["-n", &format!("nats-{i}")]);
        if nodes > 1 {
            let routes: Vec<String> = (0..nodes)
                .filter(|j| *j != i)
                .map(|j| format!("nats://127.0.0.1:{}", self.route_ports[j]))
                .collect();
            cmd.args(["--cluster_name", "chat-test"])
                .args([
                    "--cluster",
                    &format!("nats://127.0.0.1:{}", self.route_ports[i]),
                ])
                .args(["--routes", &routes.join(",")]);
        }
        for (_, var, value) in PASSWORDS {
            cmd.env(var, value);
        }
        Proc::spawn(&format!("nats-{i}"), &self.dir, cmd)
    }

    /// Stops node `i` (SIGTERM) and returns when it has exited.
    pub async fn stop_node(&mut self, i: usize) {
        self.procs[i].terminate().await;
    }

    /// Starts node `i` again on the same port and store.
    pub async fn start_node(&mut self, i: usize) {
        let proc = self.spawn_node(i);
        let ready_before = proc.log_text().matches("Server is ready").count();
        let deadline = Instant::now() + Duration::from_secs(30);
        while proc.log_text().matches("Server is ready").count() <= ready_before {
            assert!(
                Instant::now() < deadline,
                "nats-{i} did not restart:\n{}",
                proc.log_text()
            );
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
        self.procs[i] = proc;
    }

    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.ports[i % self.ports.len()])
    }

    /// Connects as one of the nats.conf users.
    pub async fn connect_as(&self, user: &str, node: usize) -> async_nats::Client {
        async_nats::ConnectOptions::new()
            .user_and_password(user.to_owned(), password(user).to_owned())
            .connect(self.url(node))
            .await
            .unwrap_or_else(|e| panic!("connect as {user}: {e}"))
    }
}

/// A chat server process in distributed mode.
pub struct Server {
    pub addr: String,
    pub proc: Proc,
}

/// Servers, bots and archivers on NATS and a fresh PostgreSQL database.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub nats: Nats,
    pub db_url: String,
    pub quotes: String,
    pub servers: Vec<Server>,
    pub bots: Vec<Proc>,
    pub archivers: Vec<Proc>,
    pub server_env: Vec<(&'static str, &'static str)>,
    pub archiver_env: Vec<(&'static str, &'static str)>,
}

/// How many of each, and extra environment for some of them.
#[derive(Default)]
pub struct Shape {
    pub nats_nodes: usize,
    pub servers: usize,
    pub bots: usize,
    pub archivers: usize,
    pub server_env: Vec<(&'static str, &'static str)>,
    pub archiver_env: Vec<(&'static str, &'static str)>,
    /// A database to use instead of a fresh one on the shared server.
    pub db_url: Option<String>,
}

impl Cluster {
    /// Starts everything; `None` (after a loud message) when PostgreSQL is
    /// missing outside CI.
    pub async fn start(shape: Shape) -> Option<Self> {
        let db_url = match shape.db_url {
            Some(url) => url,
            None => chat_shared::testing::fresh_pg_database("chat_cluster").await?,
        };
        let dir = tempfile::tempdir().unwrap();
        let nats = Nats::start(shape.nats_nodes, dir.path()).await;
        let quotes = super::quotes::start();
        let mut cluster = Cluster {
            dir,
            nats,
            db_url,
            quotes,
            servers: Vec::new(),
            bots: Vec::new(),
            archivers: Vec::new(),
            server_env: shape.server_env,
            archiver_env: shape.archiver_env,
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
        cmd.env("NATS_URL", self.nats.url(node))
            .env("NATS_USER", user)
            .env("NATS_PASSWORD", password(user))
            .env("RUST_LOG", "info");
        cmd
    }

    pub async fn start_server(&mut self, node: usize) {
        let addr = format!("127.0.0.1:{}", free_port());
        self.start_server_at(node, addr).await;
    }

    /// Starts a server on a given address (e.g. where a stopped one was).
    pub async fn start_server_at(&mut self, node: usize, addr: String) {
        let mut cmd = self.command("chat-server", "server", node);
        cmd.env("CHAT_BIND", &addr)
            .env("DATABASE_URL", &self.db_url)
            .env("CHAT_SESSION_KEY", SESSION_KEY)
            .env("CHAT_BCRYPT_COST", "10")
            .envs(self.server_env.iter().copied());
        let name = format!("server-{}", self.servers.len());
        let proc = Proc::spawn(&name, self.dir.path(), cmd);
        proc.wait_for_log("chat server listening").await;
        self.servers.push(Server { addr, proc });
    }

    pub async fn start_bot(&mut self) {
        let node = self.bots.len();
        let mut cmd = self.command("chat-bot", "bot", node);
        cmd.env("STOCK_API_URL", &self.quotes)
            .env("STOCK_TIMEOUT_SECS", "2");
        let proc = Proc::spawn(&format!("bot-{node}"), self.dir.path(), cmd);
        proc.wait_for_log("bot listening").await;
        self.bots.push(proc);
    }

    pub async fn start_archiver(&mut self) {
        let node = self.archivers.len();
        let mut cmd = self.command("chat-archiver", "archiver", node);
        cmd.env("DATABASE_URL", &self.db_url)
            .envs(self.archiver_env.iter().copied());
        let proc = Proc::spawn(&format!("archiver-{node}"), self.dir.path(), cmd);
        proc.wait_for_log("archiving").await;
        self.archivers.push(proc);
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
            .procs
            .iter()
            .chain(self.servers.iter().map(|s| &s.proc))
            .chain(&self.bots)
            .chain(&self.archivers);
        for p in procs {
            out += &format!("\n===== {} =====\n{}", p.name, p.log_text());
        }
        out
    }
}
