//! Where webhooks may point. A CRM is on the internet; an address on the loopback, a private
//! network or link-local (cloud metadata) would let anyone who can create a webhook probe the
//! server's own network, so those are refused unless the operator allows them.

use std::net::{IpAddr, SocketAddr};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the URL is not valid: {0}")]
    Invalid(String),
    #[error("only http and https URLs can receive webhooks")]
    Scheme,
    #[error("the host cannot be resolved")]
    Unresolvable,
    #[error("the address {0} is private, loopback or link-local")]
    Private(IpAddr),
}

/// Parses `url` and checks its scheme; returns host and port.
pub fn parse(url: &str) -> Result<(String, u16), TargetError> {
    let url = url.trim();
    if url.len() > 2048 {
        return Err(TargetError::Invalid("longer than 2048 characters".into()));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| TargetError::Invalid("no scheme".into()))?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(TargetError::Scheme),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty()
        || authority.contains('@')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(TargetError::Invalid(
            "a host is required, without credentials or spaces".into(),
        ));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| TargetError::Invalid("bad IPv6 host".into()))?;
            (host.to_owned(), after.strip_prefix(':').map(str::to_owned))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p.to_owned())),
            None => (authority.to_owned(), None),
        },
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| TargetError::Invalid("bad port".into()))?,
        None => default_port,
    };
    if host.is_empty() {
        return Err(TargetError::Invalid("empty host".into()));
    }
    Ok((host, port))
}

pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 0
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64) // carrier-grade NAT
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xFE00) == 0xFC00 // unique local
                || (seg[0] & 0xFFC0) == 0xFE80 // link-local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Resolves the host and checks every address. The addresses returned are the ones to
/// connect to, so a DNS answer that changes between the check and the request (rebinding)
/// cannot slip a private address through.
pub async fn resolve(
    url: &str,
    allow_private: bool,
) -> Result<(String, Vec<SocketAddr>), TargetError> {
    let (host, port) = parse(url)?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| TargetError::Unresolvable)?
        .collect();
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable);
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
            return Err(TargetError::Private(bad.ip()));
        }
    }
    Ok((host, addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_addresses() {
        assert_eq!(
            parse("https://crm.example.com/hooks/wasl"),
            Ok(("crm.example.com".into(), 443))
        );
        assert_eq!(
            parse("http://10.0.0.1:8080/x"),
            Ok(("10.0.0.1".into(), 8080))
        );
        assert_eq!(parse("http://[::1]:9000/"), Ok(("::1".into(), 9000)));
        assert_eq!(parse("ftp://x.io/"), Err(TargetError::Scheme));
        assert!(parse("https://user:pw@x.io/").is_err());
        assert!(parse("not a url").is_err());
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(is_private(private.parse().expect("ip")), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_private(public.parse().expect("ip")), "{public}");
        }
    }
}
