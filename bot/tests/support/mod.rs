//! A quote service on loopback for the bot's tests: plain HTTP over TCP,
//! each request answered by a function of the code it asks for (the `s=`
//! parameter), after that answer's delay; counts the requests it gets.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How to answer one request.
pub struct Answer {
    pub delay: Duration,
    /// Status line, e.g. `200 OK`.
    pub status: &'static str,
    pub body: String,
}

impl Answer {
    pub fn ok(body: String) -> Self {
        Answer {
            delay: Duration::ZERO,
            status: "200 OK",
            body,
        }
    }
}

/// A running quote service.
pub struct Service {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub hits: Arc<AtomicUsize>,
}

/// Starts a service answering with `answer(code)`.
pub async fn start(answer: fn(&str) -> Answer) -> Service {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    actix_rt::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            actix_rt::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let code = request
                    .split("s=")
                    .nth(1)
                    .and_then(|r| r.split(['&', ' ']).next())
                    .unwrap_or("")
                    .to_owned();
                let Answer {
                    delay,
                    status,
                    body,
                } = answer(&code);
                actix_rt::time::sleep(delay).await;
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Service { base, hits }
}
