//! Reading the archive: how many messages of a run the archiver has stored,
//! in PostgreSQL (distributed mode) or the embedded SQLite file.

use std::path::PathBuf;

use anyhow::{bail, Context};

/// Where the archive lives.
#[derive(Debug, Clone)]
pub enum Archive {
    Postgres(String),
    Sqlite(PathBuf),
}

impl Archive {
    /// From `--archive-pg` / `--archive-sqlite`.
    pub fn from_flags(pg: Option<&str>, sqlite: Option<&std::path::Path>) -> Option<Self> {
        pg.map(|u| Archive::Postgres(u.to_owned()))
            .or_else(|| sqlite.map(|p| Archive::Sqlite(p.to_owned())))
    }

    /// Stored messages whose text starts with `prefix`.
    pub async fn count_with_prefix(&self, prefix: &str) -> anyhow::Result<u64> {
        match self {
            Archive::Postgres(url) => {
                let client = pg_connect(url).await?;
                let row = client
                    .query_one(
                        "SELECT count(*) FROM messages WHERE text LIKE $1",
                        &[&format!("{prefix}%")],
                    )
                    .await?;
                Ok(row.get::<_, i64>(0) as u64)
            }
            Archive::Sqlite(path) => {
                // The sqlite3 shell reads the server's WAL database without a
                // second copy of SQLite in this binary.
                let sql = format!("SELECT count(*) FROM messages WHERE text LIKE '{prefix}%';");
                let out = tokio::process::Command::new("sqlite3")
                    .arg("-readonly")
                    .arg(path)
                    .arg(sql)
                    .output()
                    .await
                    .context("running sqlite3 (apt-get install sqlite3)")?;
                if !out.status.success() {
                    bail!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
                }
                Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
            }
        }
    }
}

/// A PostgreSQL connection (plain TCP: the database is on loopback).
pub async fn pg_connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {}", chat_shared::config::redact_url(url)))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("postgres connection ended: {e}");
        }
    });
    Ok(client)
}
