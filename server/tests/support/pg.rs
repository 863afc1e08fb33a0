//! A private PostgreSQL server for tests that stop and start the database.

use std::path::PathBuf;
use std::process::Command;

use chat_shared::testing::{free_port, say_skipping};

/// A PostgreSQL instance in a temp dir on a free port; stopped when dropped.
pub struct PrivatePg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_root: bool,
}

fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find(|b| b.join("initdb").exists())
}

impl PrivatePg {
    /// Creates and starts the instance; `None` (said loudly) when PostgreSQL's
    /// server binaries are not installed, except in CI, where that fails.
    pub fn start() -> Option<Self> {
        let Some(bin) = pg_bin() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL server binaries are required in CI"
            );
            say_skipping("no PostgreSQL server binaries under /usr/lib/postgresql");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        // PostgreSQL refuses to run as root: then it runs as the postgres user.
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0\n"))
            .unwrap_or(false);
        if as_root {
            assert!(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success());
        }
        let pg = PrivatePg {
            dir,
            bin,
            port: free_port(),
            as_root,
        };
        let data = pg.data().to_string_lossy().into_owned();
        assert!(
            pg.run(
                "initdb",
                &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            "initdb failed"
        );
        pg.start_again();
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) -> bool {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(self.dir.path());
        cmd.output().map(|o| o.status.success()).unwrap_or(false)
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Starts (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let data = self.data().to_string_lossy().into_owned();
        let log = self
            .dir
            .path()
            .join("pg.log")
            .to_string_lossy()
            .into_owned();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        assert!(
            self.run(
                "pg_ctl",
                &["-D", &data, "-l", &log, "-o", &opts, "-w", "start"]
            ),
            "pg_ctl start failed"
        );
    }

    /// The rows `sql` returns from database `db`, each a list of fields
    /// (NULL as empty); `None` when the query fails (e.g. the server is down).
    pub fn query(&self, db: &str, sql: &str) -> Option<Vec<Vec<String>>> {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-F",
                "\u{1f}",
                "-R",
                "\u{1e}",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .args(["-p", &self.port.to_string(), "-d", db, "-c", sql])
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8(output.stdout).ok()?;
        let rows = text
            .trim_end_matches('\n')
            .split('\u{1e}')
            .filter(|row| !row.is_empty())
            .map(|row| row.split('\u{1f}').map(str::to_owned).collect())
            .collect();
        Some(rows)
    }

    /// Stops at once (fast shutdown: connections are cut).
    pub fn stop(&self) {
        let data = self.data().to_string_lossy().into_owned();
        assert!(
            self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]),
            "pg_ctl stop failed"
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data().to_string_lossy().into_owned();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}
