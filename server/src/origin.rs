//! Which web pages may act on this server with a visitor's cookie: the
//! server's own origin (scheme and host, `https` behind TLS) and those listed
//! with `--allowed-origins`. Used for the WebSocket upgrade and for every
//! request that changes state, so that no other site can post, create or log
//! out on a visitor's behalf.

use actix_web::http::header;
use actix_web::HttpRequest;

/// The origins allowed besides the server's own, and the scheme its own
/// pages are served with.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    allowed: Vec<String>,
    scheme: &'static str,
}

impl OriginPolicy {
    /// `behind_tls`: the pages are served over HTTPS (by a proxy), so only
    /// an `https://` origin is this server's own.
    pub fn new(allowed: &[String], behind_tls: bool) -> Self {
        Self {
            allowed: allowed
                .iter()
                .map(|a| a.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|a| !a.is_empty())
                .collect(),
            scheme: if behind_tls { "https" } else { "http" },
        }
    }

    /// Whether the request may act: a browser's Origin must be the server's
    /// own (same scheme and host) or listed, and a browser that says the
    /// request is cross-site (`Sec-Fetch-Site`) is refused. Clients that send
    /// neither header (not browsers) are not subject to it.
    pub fn allows(&self, req: &HttpRequest) -> bool {
        let headers = req.headers();
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if fetch_site.is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
            return false;
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.to_ascii_lowercase();
        if self.allowed.contains(&origin) {
            return true;
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        !host.is_empty() && origin == format!("{}://{}", self.scheme, host.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(origin: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::get().insert_header((header::HOST, "chat.example:8080"));
        if let Some(o) = origin {
            r = r.insert_header((header::ORIGIN, o));
        }
        r.to_http_request()
    }

    #[test]
    fn same_origin_and_listed_origins_pass_others_do_not() {
        let policy = OriginPolicy::new(&["https://app.example/".to_owned()], false);
        assert!(policy.allows(&req(Some("http://chat.example:8080"))));
        assert!(policy.allows(&req(Some("HTTP://Chat.Example:8080"))));
        assert!(policy.allows(&req(Some("https://app.example"))));
        assert!(policy.allows(&req(None)));
        assert!(!policy.allows(&req(Some("https://evil.example"))));
        assert!(!policy.allows(&req(Some("http://chat.example:8081"))));
        assert!(!policy.allows(&req(Some("null"))));
        assert!(!policy.allows(&req(Some("https://chat.example:8080"))));
    }

    #[test]
    fn behind_tls_only_the_https_origin_is_the_servers_own() {
        let policy = OriginPolicy::new(&[], true);
        assert!(policy.allows(&req(Some("https://chat.example:8080"))));
        assert!(
            !policy.allows(&req(Some("http://chat.example:8080"))),
            "a plain-http page on the same host is another origin"
        );
    }

    #[test]
    fn a_browser_saying_cross_site_is_refused_even_without_origin() {
        let policy = OriginPolicy::new(&[], false);
        let r = TestRequest::post()
            .insert_header((header::HOST, "chat.example:8080"))
            .insert_header(("sec-fetch-site", "cross-site"))
            .to_http_request();
        assert!(!policy.allows(&r));
        let r = TestRequest::post()
            .insert_header((header::HOST, "chat.example:8080"))
            .insert_header(("sec-fetch-site", "same-origin"))
            .to_http_request();
        assert!(policy.allows(&r));
    }
}
