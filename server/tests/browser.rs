//! The browser UI end to end: runs `e2e/run.mjs` (headless Chromium driven by
//! playwright-core) against this build's `chat-server` binary, with a
//! nats-server (the project's nats.conf) and a fresh PostgreSQL database for
//! the tests on the bus.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chat_shared::testing::{fresh_pg_database, nats_password, say_skipping, NatsServer};

use crate::support::machine;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The runner bounds each test itself; this only catches a runner that hangs.
const DEADLINE: Duration = Duration::from_secs(15 * 60);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate is inside the workspace")
        .to_path_buf()
}

/// What is missing to run the browser tests, if anything.
fn missing_tools(root: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!("{CHROMIUM} (apt-get install chromium)"));
    }
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        missing.push("node (apt-get install nodejs npm)".to_owned());
    }
    if !root.join("e2e/node_modules/playwright-core").is_dir() {
        missing.push("e2e/node_modules (cd e2e && npm ci)".to_owned());
    }
    missing
}

/// NATS and PostgreSQL for the tests on the bus, and the runner's variables
/// naming them (none without PostgreSQL outside CI: those tests skip).
fn bus_for_the_runner(dir: &Path) -> (Option<NatsServer>, Vec<(&'static str, String)>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let Some(database_url) = fresh_pg_database("chat_e2e").await else {
            return (None, Vec::new());
        };
        let nats = NatsServer::start("nats", dir).await;
        // The stream that stores messages, as the archiver makes it: a
        // server acknowledges a message once the stream has stored it.
        let archiver = async_nats::ConnectOptions::with_user_and_password(
            "archiver".to_owned(),
            nats_password("archiver").to_owned(),
        )
        .connect(nats.url())
        .await
        .expect("the archiver user connects");
        chat_archiver::source::ensure_stream(
            &async_nats::jetstream::new(archiver),
            &chat_archiver::source::StreamLimits::default(),
        )
        .await
        .expect("the message stream");
        let env = vec![
            ("CHAT_E2E_NATS_URL", nats.url()),
            (
                "CHAT_E2E_NATS_SERVER_PASSWORD",
                nats_password("server").to_owned(),
            ),
            (
                "CHAT_E2E_NATS_OPS_PASSWORD",
                nats_password("ops").to_owned(),
            ),
            ("CHAT_E2E_DATABASE_URL", database_url),
        ];
        (Some(nats), env)
    })
}

#[test]
fn the_browser_ui_passes_its_end_to_end_tests() {
    let root = repo_root();
    let missing = missing_tools(&root);
    if !missing.is_empty() {
        let what = missing.join(", ");
        if std::env::var_os("CI").is_some() {
            panic!("browser tests cannot run in CI: missing {what}");
        }
        say_skipping(&format!("browser tests: missing {what}"));
        return;
    }
    // The runner starts its own servers and a browser, and its tests wait on
    // timers: it has the machine to itself.
    let _alone = machine::alone();

    let out_dir = tempfile::tempdir().expect("temp dir");
    let (_nats, bus_env) = bus_for_the_runner(out_dir.path());
    let out_path = out_dir.path().join("e2e.log");
    let out = std::fs::File::create(&out_path).expect("runner log file");
    let mut child = Command::new("node")
        .arg("e2e/run.mjs")
        .current_dir(&root)
        .env("CHAT_SERVER_BIN", env!("CARGO_BIN_EXE_chat-server"))
        .env("CHROMIUM", CHROMIUM)
        .envs(bus_env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone().expect("runner log file")))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("node starts");

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for node") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            // SIGTERM first, so the runner stops its servers and the browser.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(5));
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    match status {
        Some(s) if s.success() => println!("{output}"),
        Some(s) => panic!("browser tests failed ({s}):\n{output}"),
        None => panic!("browser tests did not finish within {DEADLINE:?}:\n{output}"),
    }
}
