//! Helpers for tests that need real services (feature `testing`): a fresh
//! PostgreSQL database, child processes with their logs, and nats-server
//! with the project's nats.conf.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// The PostgreSQL server tests use: `CHAT_TEST_PG_URL`, or the local one.
pub fn pg_server_url() -> String {
    std::env::var("CHAT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// Creates a fresh, empty database and returns its URL. Without a reachable
/// server it returns `None` after saying so loudly, unless `CI` is set, where
/// a missing service is a failure.
pub async fn fresh_pg_database(prefix: &str) -> Option<String> {
    let server = pg_server_url();
    let name = format!(
        "{prefix}_{}",
        crate::message::next_id().to_string().to_ascii_lowercase()
    );
    let admin = AsyncPgConnection::establish(&format!("{server}/postgres")).await;
    let mut admin = match admin {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_none() => {
            say_skipping(&format!(
                "PostgreSQL at {server} is unreachable ({e}); set CHAT_TEST_PG_URL"
            ));
            return None;
        }
        Err(e) => panic!("PostgreSQL at {server} is required in CI: {e}"),
    };
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    Some(format!("{server}/{name}"))
}

/// Says that a test skips, and why, on standard error: written directly, since
/// the test harness would swallow `eprintln!` from a test that passes.
pub fn say_skipping(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPING: {why} ***\n");
}

/// A loopback TCP port that is free now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A child process writing its output to `<dir>/<name>.log`; killed when
/// dropped, so a failed assertion leaves nothing running.
pub struct TestProcess {
    pub name: String,
    pub log: PathBuf,
    /// Where this run's output starts in the log: a process started again
    /// under the same name appends to the same file.
    log_start: usize,
    child: Option<Child>,
}

impl TestProcess {
    /// How long `terminate` waits for the process to exit.
    pub const STOP_WITHIN: Duration = Duration::from_secs(20);
    /// How long `wait_for_log` waits.
    const LOG_WITHIN: Duration = Duration::from_secs(30);

    /// Starts `cmd` with standard output and error appended to the log.
    pub fn spawn(name: &str, dir: &Path, mut cmd: Command) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("the log file opens");
        let log_start = file.metadata().map_or(0, |m| m.len()) as usize;
        cmd.stdout(Stdio::from(file.try_clone().expect("the log file opens")))
            .stderr(Stdio::from(file));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        TestProcess {
            name: name.to_owned(),
            log,
            log_start,
            child: Some(child),
        }
    }

    /// The whole log, earlier runs under the same name included.
    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until this run has logged `needle`; panics after 30 s.
    pub async fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Self::LOG_WITHIN;
        loop {
            let log = self.log_text();
            if log.get(self.log_start..).unwrap_or(&log).contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never logged {needle:?}:\n{log}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the process is still running (it has not exited, nor been stopped here).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `STOP_WITHIN` for the exit.
    pub async fn terminate(&mut self) {
        self.terminate_within(Self::STOP_WITHIN).await;
    }

    /// SIGTERM, then waits up to `within` for the exit; panics if it goes on.
    pub async fn terminate_within(&mut self, within: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        let deadline = Instant::now() + within;
        while child
            .try_wait()
            .expect("the child can be waited for")
            .is_none()
        {
            assert!(
                Instant::now() < deadline,
                "{} did not stop on SIGTERM",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The users of the project's nats.conf: name, the variable its password is
/// read from, and the password tests give it.
pub const NATS_USERS: [(&str, &str, &str); 4] = [
    ("server", "NATS_SERVER_PASSWORD", "server-secret"),
    ("bot", "NATS_BOT_PASSWORD", "bot-secret"),
    ("archiver", "NATS_ARCHIVER_PASSWORD", "archiver-secret"),
    ("ops", "NATS_OPS_PASSWORD", "ops-secret"),
];

/// The password tests give a user of nats.conf.
pub fn nats_password(user: &str) -> &'static str {
    NATS_USERS
        .iter()
        .find(|u| u.0 == user)
        .map(|u| u.2)
        .unwrap_or_else(|| panic!("{user} is not a user of nats.conf"))
}

/// The project's nats.conf, at the root of the workspace.
fn nats_conf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../nats.conf")
}

/// A nats-server with the project's nats.conf and the test passwords, on a
/// free loopback port, with its JetStream store in `<dir>/<name>` and its log
/// in `<dir>/<name>.log`; killed when dropped.
pub struct NatsServer {
    pub port: u16,
    dir: PathBuf,
    /// More arguments, e.g. for a cluster's routes.
    args: Vec<String>,
    process: TestProcess,
}

impl NatsServer {
    /// Starts the server and returns when it is ready.
    pub async fn start(name: &str, dir: &Path) -> Self {
        let server = Self::spawn(name, dir, Vec::new());
        server.ready().await;
        server
    }

    /// Starts the server with more arguments and returns at once: the nodes
    /// of a cluster start together, then each is waited for (`ready`).
    pub fn spawn(name: &str, dir: &Path, args: Vec<String>) -> Self {
        let port = free_port();
        let process = TestProcess::spawn(name, dir, Self::command(name, dir, port, &args));
        NatsServer {
            port,
            dir: dir.to_path_buf(),
            args,
            process,
        }
    }

    fn command(name: &str, dir: &Path, port: u16, args: &[String]) -> Command {
        let mut cmd = Command::new("nats-server");
        cmd.arg("-c")
            .arg(nats_conf())
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .arg("-sd")
            .arg(dir.join(name))
            .args(["-n", name])
            .args(args);
        for (_, var, password) in NATS_USERS {
            cmd.env(var, password);
        }
        cmd
    }

    /// Waits until the server (in its latest run) is ready for clients.
    pub async fn ready(&self) {
        self.process.wait_for_log("Server is ready").await;
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The process, for its name and log.
    pub fn process(&self) -> &TestProcess {
        &self.process
    }

    /// The process, to see whether it runs.
    pub fn process_mut(&mut self) -> &mut TestProcess {
        &mut self.process
    }

    /// Kills the server at once (SIGKILL); `restart` starts it again.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Stops the server (SIGTERM) and returns when it has exited.
    pub async fn stop(&mut self) {
        self.process.terminate().await;
    }

    /// Starts the server again on the same port and store; returns when it
    /// is ready.
    pub async fn restart(&mut self) {
        self.process.kill();
        let name = self.process.name.clone();
        let cmd = Self::command(&name, &self.dir, self.port, &self.args);
        self.process = TestProcess::spawn(&name, &self.dir, cmd);
        self.ready().await;
    }

    /// Connects as one of the nats.conf users.
    pub async fn connect_as(&self, user: &str) -> async_nats::Client {
        async_nats::ConnectOptions::new()
            .user_and_password(user.to_owned(), nats_password(user).to_owned())
            .connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("connect as {user}: {e}"))
    }
}
