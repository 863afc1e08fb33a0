//! Reading a server's Prometheus text on `/metrics`.

use super::http;

/// The value of `name` on the `/metrics` of the server at `addr` (host:port);
/// panics when the server does not export it.
pub async fn metric(addr: &str, name: &str) -> f64 {
    let mut response = http()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("/metrics answers");
    let body = response.body().await.expect("/metrics reads");
    let text = String::from_utf8_lossy(&body);
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (key, value) = line.split_once(' ')?;
            (key == name).then(|| value.trim().parse().ok()).flatten()
        })
        .unwrap_or_else(|| panic!("{name} is not on /metrics:\n{text}"))
}
