//! Helpers for tests that need real services (feature `testing`).

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
            eprintln!("\n*** SKIPPING: PostgreSQL at {server} is unreachable ({e}); set CHAT_TEST_PG_URL ***\n");
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
