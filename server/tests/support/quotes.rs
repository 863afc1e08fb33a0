//! A loopback HTTP server in stooq's CSV format, standing in for the quote API.

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde::Deserialize;

const HEADER: &str = "Symbol,Date,Time,Open,High,Low,Close,Volume";

#[derive(Deserialize)]
struct Query {
    s: String,
}

/// Answers like stooq for a few codes: `aapl.us` and `msft.us` have quotes,
/// `fail.us` is a 500, `slow.us` takes 10 s, `garbage.us` is not CSV,
/// `empty.us` is an empty body, `header.us` has no rows; anything else is N/D.
async fn quote(q: web::Query<Query>) -> HttpResponse {
    let code = q.s.to_ascii_uppercase();
    let csv = |row: &str| {
        HttpResponse::Ok()
            .content_type("text/csv")
            .body(format!("{HEADER}\r\n{row}\r\n"))
    };
    match q.s.as_str() {
        "aapl.us" => csv("AAPL.US,2026-11-27,22:00:09,92.1,94,91.8,93.42,41234567"),
        "msft.us" => csv("MSFT.US,2026-11-27,22:00:09,410,415,409,412.5,1234567"),
        "fail.us" => HttpResponse::InternalServerError().body("oops"),
        "slow.us" => {
            actix_rt::time::sleep(Duration::from_secs(10)).await;
            csv("SLOW.US,2026-11-27,22:00:09,1,1,1,1,1")
        }
        "garbage.us" => HttpResponse::Ok().body("<html>not a csv</html>"),
        "empty.us" => HttpResponse::Ok().finish(),
        "header.us" => HttpResponse::Ok().body(format!("{HEADER}\r\n")),
        _ => csv(&format!("{code},N/D,N/D,N/D,N/D,N/D,N/D,N/D")),
    }
}

/// Starts the quote server on a free loopback port; returns its URL template.
pub fn start() -> String {
    let server = HttpServer::new(|| App::new().route("/q/l/", web::get().to(quote)))
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("loopback port");
    let addr = server.addrs()[0];
    actix_rt::spawn(server.run());
    format!("http://{addr}/q/l/?s={{code}}&f=sd2t2ohlcv&h&e=csv")
}
