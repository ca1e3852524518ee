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
    #[error("port {0} is not for web requests")]
    Port(u16),
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
    if port == 0 {
        return Err(TargetError::Port(port));
    }
    Ok((host, port))
}

/// Whether an address is outside the public internet: every block of IANA's IPv4 and IPv6
/// special-purpose address registries (loopback, private, shared, link-local, documentation,
/// benchmarking, reserved, translation and tunnelling prefixes…), multicast, and anything
/// outside IPv6's global unicast space. An IPv4 address carried inside IPv6 (IPv4-mapped,
/// IPv4-compatible, NAT64's well-known prefix, 6to4) is judged by the IPv4 address it carries,
/// so `[64:ff9b::7f00:1]` is as private as `127.0.0.1`.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

/// IPv4 blocks that are not ordinary public unicast (IANA IPv4 Special-Purpose Address
/// Registry, plus multicast 224.0.0.0/4 and reserved 240.0.0.0/4 with broadcast).
const SPECIAL_V4: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network"
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (carrier-grade NAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local (cloud metadata)
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24), // IETF protocol assignments (DS-Lite, PCP/TURN anycast, NAT64 discovery)
    ([192, 0, 2, 0], 24), // documentation (TEST-NET-1)
    ([192, 31, 196, 0], 24), // AS112-v4
    ([192, 52, 193, 0], 24), // AMT
    ([192, 88, 99, 0], 24), // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16), // private
    ([192, 175, 48, 0], 24), // direct delegation AS112
    ([198, 18, 0, 0], 15), // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24), // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),  // multicast
    ([240, 0, 0, 0], 4),  // reserved, and the limited broadcast address
];

fn special_v4(ip: std::net::Ipv4Addr) -> bool {
    let addr = u32::from(ip);
    SPECIAL_V4.iter().any(|(net, len)| {
        let mask = u32::MAX << (32 - u32::from(*len));
        addr & mask == u32::from_be_bytes(*net) & mask
    })
}

/// IPv6 blocks inside global unicast 2000::/3 that are special (IANA IPv6 Special-Purpose
/// Address Registry). 6to4 (2002::/16) is not here: it is judged by the IPv4 it carries.
const SPECIAL_V6: &[(u128, u8)] = &[
    (0x2001_0000 << 96, 23),      // IETF protocol assignments (Teredo, ORCHID…)
    (0x2001_0db8 << 96, 32),      // documentation
    (0x2620_004f_8000 << 80, 48), // direct delegation AS112
    (0x3fff << 112, 20),          // documentation
];

fn special_v6(ip: std::net::Ipv6Addr) -> bool {
    let addr = u128::from(ip);
    let embedded_v4 =
        |bits: u128| special_v4(std::net::Ipv4Addr::from((bits & 0xFFFF_FFFF) as u32));
    let within = |net: u128, len: u8| {
        let mask = u128::MAX << (128 - u32::from(len));
        addr & mask == net & mask
    };
    // IPv4-mapped ::ffff:0:0/96 and the deprecated IPv4-compatible ::/96 (but not :: and ::1).
    if within(0xFFFF << 32, 96) || (within(0, 96) && addr > 1) {
        return embedded_v4(addr);
    }
    // NAT64's well-known prefix 64:ff9b::/96 carries the IPv4 address in its last 32 bits.
    if within(0x0064_ff9b << 96, 96) {
        return embedded_v4(addr);
    }
    // 6to4 2002::/16 carries it in bits 16 to 48.
    if within(0x2002 << 112, 16) {
        return embedded_v4(addr >> 80);
    }
    // Everything outside global unicast 2000::/3 is special: unspecified, loopback, NAT64's
    // local-use prefix 64:ff9b:1::/48, discard-only 100::/64, unique local fc00::/7,
    // link-local fe80::/10, site-local fec0::/10, multicast ff00::/8, SRv6 5f00::/16…
    if !within(0x2 << 124, 3) {
        return true;
    }
    SPECIAL_V6.iter().any(|(net, len)| within(*net, *len))
}

/// Ports no webhook may use (port 0 is refused by [`parse`]): the ports browsers refuse to fetch from because other
/// protocols (mail, SSH, DNS, databases' neighbours…) listen there, from the Fetch standard's
/// "bad port" list. A request there is an attempt to talk to another service.
const BAD_PORTS: &[u16] = &[
    0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101,
    102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427,
    465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
    993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
    6668, 6669, 6679, 6697, 10080,
];

/// Resolves the host and checks every address. The addresses returned are the ones to
/// connect to, so a DNS answer that changes between the check and the request (rebinding)
/// cannot slip a private address through.
pub async fn resolve(
    url: &str,
    allow_private: bool,
) -> Result<(String, Vec<SocketAddr>), TargetError> {
    let (host, port) = parse(url)?;
    // Local services are another protocol's ports; the operator who lets webhooks reach
    // private addresses (development) lets them reach those too.
    if !allow_private && BAD_PORTS.contains(&port) {
        return Err(TargetError::Port(port));
    }
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
        assert_eq!(parse("http://x.io:0/"), Err(TargetError::Port(0)));
        assert!(parse("http://x.io:65536/").is_err());
        assert_eq!(parse("http://x.io:8443/"), Ok(("x.io".into(), 8443)));
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "100.64.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "192.88.99.1",
            "2001:db8::1",
            "2001::1",
            "3fff::1",
            "ff02::1",
            "100::1",
            "5f00::1",
        ] {
            assert!(is_private(private.parse().expect("ip")), "{private}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "198.20.0.1",
            "223.255.255.1",
            "172.32.0.1",
        ] {
            assert!(!is_private(public.parse().expect("ip")), "{public}");
        }
    }
}

#[cfg(test)]
mod port_tests {
    use super::*;

    #[tokio::test]
    async fn other_services_ports_are_refused_unless_private_targets_are_allowed() {
        for url in [
            "http://8.8.8.8:22/",
            "https://8.8.8.8:25/",
            "http://8.8.8.8:6667/",
        ] {
            assert!(
                matches!(resolve(url, false).await, Err(TargetError::Port(_))),
                "{url}"
            );
        }
        assert!(
            resolve("http://127.0.0.1:9/", true).await.is_ok(),
            "development"
        );
        assert_eq!(
            resolve("http://127.0.0.1:0/", true).await,
            Err(TargetError::Port(0))
        );
    }
}
