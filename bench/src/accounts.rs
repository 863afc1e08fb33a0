//! The HTTP side of the protocol: bench accounts (registered once, logged in
//! afterwards) and the rooms the benchmark talks in.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::{stream, StreamExt, TryStreamExt};
use reqwest::StatusCode;
use serde_json::json;

/// Password of every bench account.
pub const PASSWORD: &str = "bench-password-1";

/// A logged-in account: its name and session cookie (`chat_session=…`).
#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    pub cookie: String,
}

pub fn username(i: usize) -> String {
    format!("bench{i:04}")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(64)
        .build()
        .expect("the HTTP client builds")
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with("chat_session=") && pair.len() > "chat_session=".len())
        .map(str::to_owned)
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<reqwest::Response> {
    client
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("POST {path}"))
}

/// Registers `name`, or logs in when it already exists (409).
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    name: String,
) -> anyhow::Result<Account> {
    let body = json!({ "username": name, "password": PASSWORD });
    let mut response = post(client, base, "/api/register", body.clone()).await?;
    if response.status() == StatusCode::CONFLICT {
        for _ in 0..10 {
            response = post(client, base, "/api/login", body.clone()).await?;
            if response.status() != StatusCode::TOO_MANY_REQUESTS {
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    if !response.status().is_success() {
        bail!(
            "{name}: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    let cookie = session_cookie(&response).with_context(|| format!("{name}: no session cookie"))?;
    Ok(Account {
        username: name,
        cookie,
    })
}

/// Accounts `bench0000..` (`count` of them), at most `concurrency` logins at
/// a time (bcrypt makes each one expensive on purpose). Also returns how long it took.
pub async fn sign_in_all(
    base: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<(Vec<Account>, Duration)> {
    let client = http();
    let start = Instant::now();
    let accounts: Vec<Account> =
        stream::iter((0..count).map(|i| sign_in(&client, base, username(i))))
            .buffered(concurrency.max(1))
            .try_collect()
            .await?;
    Ok((accounts, start.elapsed()))
}

/// Like `sign_in_all`, but kept in `cache` (a line `name cookie` per
/// account): when the file holds `count` accounts they are used as they are
/// (a server started on a copy of the data directory they were made in
/// accepts them), else they are signed in and written there.
pub async fn sign_in_cached(
    base: &str,
    count: usize,
    concurrency: usize,
    cache: &std::path::Path,
) -> anyhow::Result<(Vec<Account>, Duration)> {
    if let Ok(text) = std::fs::read_to_string(cache) {
        let accounts: Vec<Account> = text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(name, cookie)| Account {
                username: name.to_owned(),
                cookie: cookie.to_owned(),
            })
            .collect();
        if accounts.len() >= count {
            return Ok((accounts[..count].to_vec(), Duration::ZERO));
        }
    }
    let (accounts, took) = sign_in_all(base, count, concurrency).await?;
    let lines: String = accounts
        .iter()
        .map(|a| format!("{} {}\n", a.username, a.cookie))
        .collect();
    std::fs::write(cache, lines).with_context(|| format!("writing {}", cache.display()))?;
    Ok((accounts, took))
}

/// Creates the rooms (an existing one is fine) as `account`.
pub async fn create_rooms(base: &str, account: &Account, rooms: &[String]) -> anyhow::Result<()> {
    let client = http();
    for room in rooms {
        let response = client
            .post(format!("{base}/api/channels"))
            .header(reqwest::header::COOKIE, &account.cookie)
            .json(&json!({ "name": room }))
            .send()
            .await?;
        match response.status() {
            StatusCode::CREATED | StatusCode::CONFLICT => {}
            s => bail!(
                "creating #{room}: {s} {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
    Ok(())
}

/// Room names `<prefix>0..<prefix>{count-1}`.
pub fn room_names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i}")).collect()
}

/// `http://host:port` for a `ws://`/`http://` URL or a bare `host:port`.
pub fn http_base(url: &str) -> String {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("http://"))
        .map(|r| ("http", r))
        .or_else(|| {
            url.strip_prefix("wss://")
                .or_else(|| url.strip_prefix("https://"))
                .map(|r| ("https", r))
        })
        .unwrap_or(("http", url));
    format!("{}://{}", rest.0, rest.1.trim_end_matches('/'))
}

/// The WebSocket endpoint of a server given as in `http_base`.
pub fn ws_url(url: &str) -> String {
    let base = http_base(url);
    let ws = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    format!("{ws}/ws")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_any_form_give_both_endpoints() {
        assert_eq!(http_base("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(http_base("ws://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_eq!(ws_url("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/ws");
        assert_eq!(ws_url("https://chat.example"), "wss://chat.example/ws");
        assert_eq!(username(7), "bench0007");
        assert_eq!(room_names("bench-r", 2), vec!["bench-r0", "bench-r1"]);
    }
}
