//! The client's address, as sign-up and login throttling count it.
//!
//! Behind proxies the socket peer is the proxy, and X-Forwarded-For holds
//! the chain, each proxy appending the address it received from. Only the
//! entries appended by proxies we trust are facts; everything to their left
//! came from the client (issue 10: trusting the first entry let a client
//! choose its own throttling address). So: start at the socket peer and walk
//! the entries right to left while the hop is one of TRUSTED_PROXIES; the
//! first address that is not is the client.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use todo_common::config::IpNet;

use crate::error::ApiError;
use crate::state::AppState;

/// The client's IP: the socket peer, or, when that is a trusted proxy, the
/// right-most X-Forwarded-For entry that is not one.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(Self(client_ip(
            peer,
            &parts.headers,
            &state.config.http.trusted_proxies,
        )))
    }
}

fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut hop = peer.to_canonical();
    if !is_trusted(&hop) {
        return hop;
    }
    // Raw bytes, entry by entry: a client's non-ASCII prefix must not make
    // the whole header unreadable, or it would be counted as the proxy.
    let entries: Vec<&[u8]> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .collect();
    for entry in entries.into_iter().rev() {
        match parse_entry(entry) {
            Some(ip) if is_trusted(&ip) => hop = ip,
            Some(ip) => return ip,
            // A trusted hop wrote something that is no address ("unknown"):
            // nothing to its left can be believed, so that hop is the client.
            None => return hop,
        }
    }
    // Every hop is trusted (an internal caller): the left-most one.
    hop
}

/// `1.2.3.4`, `2001:db8::1`, and the forms with a port some proxies write
/// (`1.2.3.4:5678`, `[2001:db8::1]:5678`).
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?.trim();
    let ip = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')?
                .strip_suffix(']')?
                .parse::<IpAddr>()
                .ok()
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn xff(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_bytes(v).unwrap());
        }
        headers
    }

    const PROXY: &str = "10.0.0.5";

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let h = xff(&[b"1.2.3.4"]);
        assert_eq!(client_ip(ip(PROXY), &h, &[]), ip(PROXY));
        // A peer that is not a trusted proxy cannot speak for anyone else.
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(client_ip(ip("8.8.8.8"), &h, &trusted), ip("8.8.8.8"));
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let cases: [(&[&[u8]], &str); 6] = [
            (&[b"1.2.3.4"], "1.2.3.4"),
            // The client prepends a spoofed address; the proxy appends the real one.
            (&[b"6.6.6.6, 1.2.3.4"], "1.2.3.4"),
            (&[b"6.6.6.6", b"1.2.3.4"], "1.2.3.4"),
            // Two proxies of ours.
            (&[b"6.6.6.6, 1.2.3.4, 10.0.0.1"], "1.2.3.4"),
            // Everything trusted: an internal caller.
            (&[b"10.0.0.9, 10.0.0.1"], "10.0.0.9"),
            // Ports and brackets as some proxies write them.
            (&[b"[2001:db8::7]:443"], "2001:db8::7"),
        ];
        for (values, want) in cases {
            assert_eq!(
                client_ip(ip(PROXY), &xff(values), &trusted),
                ip(want),
                "{values:?}"
            );
        }
        assert_eq!(client_ip(ip(PROXY), &HeaderMap::new(), &trusted), ip(PROXY));
    }

    #[test]
    fn client_garbage_does_not_turn_into_the_proxy_address() {
        let trusted = nets(&["10.0.0.5/32"]);
        let h = xff(&[b"\xff\xfe junk, not-an-ip, 1.2.3.4"]);
        assert_eq!(client_ip(ip(PROXY), &h, &trusted), ip("1.2.3.4"));
        // Garbage written at a trusted hop's position stops the walk there.
        let h = xff(&[b"1.2.3.4, unknown"]);
        assert_eq!(client_ip(ip(PROXY), &h, &trusted), ip(PROXY));
    }

    #[test]
    fn ipv4_mapped_addresses_are_plain_ipv4() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&[b"::ffff:1.2.3.4"]);
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.5"), &h, &trusted),
            ip("1.2.3.4")
        );
    }
}
