//! A loopback HTTP server in stooq's CSV formats, standing in for the quote
//! and daily-history APIs, whose prices a test can move, and which counts
//! and times the requests it gets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use serde::Deserialize;

const HEADER: &str = "Symbol,Date,Time,Open,High,Low,Close,Volume";
const HISTORY_HEADER: &str = "Date,Open,High,Low,Close,Volume";
/// Days of history `aapl.us` has.
pub const HISTORY_DAYS: usize = 120;

#[derive(Deserialize)]
struct Query {
    s: String,
}

/// What the server knows and has been asked.
#[derive(Default)]
struct Book {
    /// Close prices set by the test, by code.
    closes: HashMap<String, f64>,
    /// When each code was asked for, by path and code.
    asked: HashMap<String, Vec<Instant>>,
    /// How long each quote takes.
    delay: Duration,
}

type Shared = web::Data<Mutex<Book>>;

fn csv(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/csv").body(body)
}

fn noted(book: &Shared, kind: &str, code: &str) {
    let mut book = book.lock().unwrap();
    book.asked
        .entry(format!("{kind}:{code}"))
        .or_default()
        .push(Instant::now());
}

/// Answers like stooq for a few codes: `aapl.us` and `msft.us` have quotes
/// (`aapl.us` at the close the test set, else 93.42), `fail.us` is a 500,
/// `slow.us` takes 10 s, `garbage.us` is not CSV, `empty.us` is an empty
/// body, `header.us` has no rows; any code given a close has that quote;
/// anything else is N/D.
async fn quote(q: web::Query<Query>, book: Shared) -> HttpResponse {
    noted(&book, "quote", &q.s);
    let code = q.s.to_ascii_uppercase();
    let (set, delay) = {
        let book = book.lock().unwrap();
        (book.closes.get(&q.s).copied(), book.delay)
    };
    if !delay.is_zero() {
        actix_rt::time::sleep(delay).await;
    }
    let row = |row: &str| csv(format!("{HEADER}\r\n{row}\r\n"));
    match (q.s.as_str(), set) {
        (_, Some(close)) => row(&format!(
            "{code},2026-11-27,22:00:09,92.1,{close},91.8,{close},41234567"
        )),
        ("aapl.us", None) => row("AAPL.US,2026-11-27,22:00:09,92.1,94,91.8,93.42,41234567"),
        ("msft.us", None) => row("MSFT.US,2026-11-27,22:00:09,410,415,409,412.5,1234567"),
        ("fail.us", _) => HttpResponse::InternalServerError().body("oops"),
        ("slow.us", _) => {
            actix_rt::time::sleep(Duration::from_secs(10)).await;
            row("SLOW.US,2026-11-27,22:00:09,1,1,1,1,1")
        }
        ("garbage.us", _) => HttpResponse::Ok().body("<html>not a csv</html>"),
        ("empty.us", _) => HttpResponse::Ok().finish(),
        ("header.us", _) => HttpResponse::Ok().body(format!("{HEADER}\r\n")),
        _ => row(&format!("{code},N/D,N/D,N/D,N/D,N/D,N/D,N/D")),
    }
}

/// The close of `aapl.us`'s history on day `i` (0 the oldest).
pub fn history_close(i: usize) -> f64 {
    let i = i as f64;
    ((150.0 + i * 0.35 + (i / 3.0).sin() * 4.0) * 100.0).round() / 100.0
}

/// Daily history: `aapl.us` has `HISTORY_DAYS` days, `fail.us` is a 500,
/// `slow.us` takes 10 s, `empty.us` has no rows, anything else is stooq's
/// `No data`.
async fn history(q: web::Query<Query>, book: Shared) -> HttpResponse {
    noted(&book, "history", &q.s);
    match q.s.as_str() {
        "aapl.us" => {
            let start = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
            let mut body = format!("{HISTORY_HEADER}\r\n");
            for i in 0..HISTORY_DAYS {
                let day = start + chrono::Days::new(i as u64);
                let c = history_close(i);
                body.push_str(&format!("{day},{c},{c},{c},{c},1000\r\n"));
            }
            csv(body)
        }
        "fail.us" => HttpResponse::InternalServerError().body("oops"),
        "slow.us" => {
            actix_rt::time::sleep(Duration::from_secs(10)).await;
            csv(format!("{HISTORY_HEADER}\r\n2026-01-01,1,1,1,1,1\r\n"))
        }
        "empty.us" => csv(format!("{HISTORY_HEADER}\r\n")),
        _ => HttpResponse::Ok().body("No data"),
    }
}

/// The quote service, running.
#[derive(Clone)]
pub struct QuoteService {
    /// The quote URL template (`{code}`).
    pub url: String,
    /// The daily-history URL template (`{code}`).
    pub history_url: String,
    book: Shared,
}

impl QuoteService {
    /// Starts one on a free loopback port.
    pub fn start() -> Self {
        let book: Shared = web::Data::new(Mutex::new(Book::default()));
        let data = book.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/q/l/", web::get().to(quote))
                .route("/q/d/l/", web::get().to(history))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("loopback port");
        let addr = server.addrs()[0];
        actix_rt::spawn(server.run());
        QuoteService {
            url: format!("http://{addr}/q/l/?s={{code}}&f=sd2t2ohlcv&h&e=csv"),
            history_url: format!("http://{addr}/q/d/l/?s={{code}}&i=d"),
            book,
        }
    }

    /// From now on `code` is quoted at `close`.
    pub fn set_close(&self, code: &str, close: f64) {
        self.book
            .lock()
            .unwrap()
            .closes
            .insert(code.to_owned(), close);
    }

    /// From now on each quote takes `delay`.
    pub fn set_delay(&self, delay: Duration) {
        self.book.lock().unwrap().delay = delay;
    }

    /// When `code`'s quote (`kind` "quote") or history ("history") was asked.
    pub fn asked(&self, kind: &str, code: &str) -> Vec<Instant> {
        let book = self.book.lock().unwrap();
        book.asked
            .get(&format!("{kind}:{code}"))
            .cloned()
            .unwrap_or_default()
    }

    /// Every request's time, of any kind and code, in order.
    pub fn all_asked(&self) -> Vec<Instant> {
        let book = self.book.lock().unwrap();
        let mut all: Vec<Instant> = book.asked.values().flatten().copied().collect();
        all.sort();
        all
    }
}

/// Starts the quote server on a free loopback port; returns its URL template.
pub fn start() -> String {
    QuoteService::start().url
}
