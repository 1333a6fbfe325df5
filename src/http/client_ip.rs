//! Where a request comes from: the client's address (the TCP peer, or `X-Forwarded-For`
//! when that peer is a proxy we were told to trust, `PORTCULLIS_TRUSTED_PROXIES`) and its
//! user agent, as sessions and audit entries record them.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::service::Client;

pub struct RequestOrigin {
    pub ip: IpAddr,
    pub ip_text: String,
    pub user_agent: Option<String>,
}

impl RequestOrigin {
    /// The request's origin as the use cases take it.
    pub fn client(&self) -> Client<'_> {
        Client {
            ip: self.ip,
            ip_text: &self.ip_text,
            user_agent: self.user_agent.as_deref(),
        }
    }
}

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = of_request(state, &parts.extensions, &parts.headers);
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        Ok(RequestOrigin {
            ip,
            ip_text: ip.to_string(),
            user_agent,
        })
    }
}

/// The client address of a request, for code that holds the request rather than an extractor.
pub fn of_request(
    state: &AppState,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    resolve(peer, headers, &state.trusted_proxies)
}

/// Walks `X-Forwarded-For` from the right, past every trusted proxy: the first address
/// that is not one is the client. Anything unparsable stops the walk at the last trusted hop.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(resolve(peer, &headers("1.2.3.4"), &[]), peer);
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            resolve(peer, &headers("6.6.6.6, 198.51.100.7, 10.0.0.5"), &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(resolve(peer, &headers("garbage"), &trusted), peer);
    }
}
