//! The client's real address, for every per-address limit and for the logs:
//! the TCP peer, or, when the peer is a trusted proxy, the rightmost
//! `X-Forwarded-For` entry that is not itself a trusted proxy.

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use actix_web::{web, FromRequest, HttpRequest};
use ipnet::IpNet;

use crate::state::AppState;

/// The header a proxy appends the address of its own client to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// A proxy address or range whose `X-Forwarded-For` is believed (`10.0.0.5`,
/// `10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy(IpNet);

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        s.parse::<IpNet>()
            .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
            .map(TrustedProxy)
            .map_err(|_| format!("{s:?} is neither an IP address nor a CIDR range"))
    }
}

impl TrustedProxy {
    fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(&canonical(*ip))
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_trusted(ip: &IpAddr, trusted: &[TrustedProxy]) -> bool {
    trusted.iter().any(|t| t.contains(ip))
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy;
/// then, walking the `X-Forwarded-For` entries from the right (the nearest
/// hop first), the first that is not a trusted proxy. An entry that is not an
/// address ends the walk at the last trusted hop. (No peer: a request made
/// in a test; it counts as 0.0.0.0.)
pub fn resolve(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let mut client = canonical(peer);
    if !is_trusted(&client, trusted) {
        return client;
    }
    let entries: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in entries.iter().rev() {
        let Ok(hop) = entry.parse::<IpAddr>().map(canonical) else {
            break;
        };
        client = hop;
        if !is_trusted(&hop, trusted) {
            break;
        }
    }
    client
}

/// The real client address of a request (an extractor; never fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    pub fn of(req: &HttpRequest) -> Self {
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.trusted_proxies.as_slice())
            .unwrap_or_default();
        ClientAddr(resolve(req.peer_addr(), req.headers(), trusted))
    }
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FromRequest for ClientAddr {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// A peer at `s`, port 1234.
    fn peer(s: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip(s), 1234))
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                HeaderName::from_static(FORWARDED_FOR),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|p| p.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let h = forwarded(&["1.2.3.4"]);
        assert_eq!(resolve(peer("10.0.0.7"), &h, &[]), ip("10.0.0.7"));
        let trusted = proxies(&["10.0.0.1"]);
        assert_eq!(resolve(peer("10.0.0.7"), &h, &trusted), ip("10.0.0.7"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_entry_is_the_client() {
        let trusted = proxies(&["10.0.0.1", "192.168.0.0/16"]);
        let proxy = peer("10.0.0.1");
        let h = forwarded(&["6.6.6.6, 1.2.3.4"]);
        assert_eq!(resolve(proxy, &h, &trusted), ip("1.2.3.4"));
        let h = forwarded(&["6.6.6.6, 1.2.3.4", "192.168.7.7"]);
        assert_eq!(
            resolve(proxy, &h, &trusted),
            ip("1.2.3.4"),
            "two header lines"
        );
        let h = forwarded(&["192.168.7.7"]);
        assert_eq!(
            resolve(proxy, &h, &trusted),
            ip("192.168.7.7"),
            "only proxies"
        );
        let none = HeaderMap::new();
        assert_eq!(resolve(proxy, &none, &trusted), ip("10.0.0.1"), "no header");
        let h = forwarded(&["1.2.3.4, garbage, 192.168.7.7"]);
        assert_eq!(resolve(proxy, &h, &trusted), ip("192.168.7.7"));
    }

    #[test]
    fn ipv4_mapped_peers_and_ipv6_ranges_are_understood() {
        let trusted = proxies(&["10.0.0.1", "fd00::/8"]);
        let h = forwarded(&["2001:db8::5"]);
        assert_eq!(
            resolve(peer("::ffff:10.0.0.1"), &h, &trusted),
            ip("2001:db8::5")
        );
        assert_eq!(resolve(peer("fd12::1"), &h, &trusted), ip("2001:db8::5"));
        assert!("not-an-ip".parse::<TrustedProxy>().is_err());
        assert!("10.0.0.0/33".parse::<TrustedProxy>().is_err());
    }
}
