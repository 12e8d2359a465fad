//! Checks of runner property values that the engine would otherwise refuse late (when the task
//! starts, after earlier tasks ran) or take in a way the flow did not mean: `extraHosts`,
//! `portBindings`, `user`, `networkMode`, the host side of `volumes` and `credentials.auth`.
//! Each returns the message for a `file:line:col` error; the formats are those both engine CLIs
//! accept (`docker run --add-host`, `--publish`, `--user`, `--network`, `--volume`, and the
//! `auth` field of a client `config.json`).

use std::net::IpAddr;
use std::sync::LazyLock;

use regex::Regex;

/// Host names, network, container and volume names: a letter or digit, then letters, digits,
/// `_`, `.` and `-` (the engines' name pattern).
static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$").unwrap());
/// A user or group name: no `:`, no blank, not starting with `-`.
static ACCOUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$").unwrap());

/// `extraHosts` item: `HOST:IP` (`--add-host`); the IP may be in brackets, or `host-gateway`.
pub fn extra_host(s: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "extra host `{s}`: {why}; expected HOST:IP such as db.local:10.0.0.5 or db.local:host-gateway"
        ))
    };
    let Some((host, ip)) = s.split_once(':') else {
        // Docker 25 also takes HOST=IP; Podman 4 does not, so it is not accepted here.
        return bad("no `:` between the host name and the address");
    };
    if host.is_empty() || !NAME.is_match(host) {
        return bad(&format!("`{host}` is not a host name"));
    }
    let bare = ip
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(ip);
    if ip != "host-gateway" && bare.parse::<IpAddr>().is_err() {
        return bad(&format!("`{ip}` is not an IP address"));
    }
    Ok(())
}

/// A port or a range of ports `A-B`, as (first, count).
fn ports(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let p = |x: &str| {
        (!x.is_empty() && x.len() <= 5 && x.bytes().all(|c| c.is_ascii_digit()))
            .then(|| x.parse::<u32>().ok())
            .flatten()
            .filter(|n| (1..=65535).contains(n))
    };
    let (a, b) = (p(a)?, p(b)?);
    (a <= b).then(|| (a, b - a + 1))
}

/// `portBindings` item, docker's publish syntax: `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`,
/// ports or ranges (`8000-8010`), an IPv6 address in brackets, protocol tcp, udp or sctp.
pub fn port_binding(s: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "port binding `{s}`: {why}; expected [IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL] such as 8080:80, 127.0.0.1:5432:5432 or 53:53/udp"
        ))
    };
    let (spec, proto) = match s.rsplit_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    if let Some(p) = proto
        && !matches!(p, "tcp" | "udp" | "sctp")
    {
        return bad(&format!("unknown protocol `{p}` (tcp, udp or sctp)"));
    }
    // An IPv6 address is bracketed; anything else splits on `:`.
    let (ip, rest) = match spec.strip_prefix('[') {
        Some(r) => match r.split_once("]:") {
            Some((ip, rest)) => (Some(ip), rest),
            None => return bad("an IPv6 address in brackets must be followed by `:`"),
        },
        None => match spec.matches(':').count() {
            2 => {
                let (ip, rest) = spec.split_once(':').unwrap();
                (Some(ip), rest)
            }
            0 | 1 => (None, spec),
            _ => return bad("too many `:` (an IPv6 address goes in brackets)"),
        },
    };
    if let Some(ip) = ip
        && !ip.is_empty()
        && ip.parse::<IpAddr>().is_err()
    {
        return bad(&format!("`{ip}` is not an IP address"));
    }
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (Some(h), c),
        None if ip.is_some() => return bad("missing the container port"),
        None => (None, rest),
    };
    let Some((_, n)) = ports(container) else {
        return bad(&format!(
            "`{container}` is not a container port (1-65535) or range"
        ));
    };
    match host.filter(|h| !h.is_empty()) {
        None => Ok(()),
        Some(h) => match ports(h) {
            None => bad(&format!("`{h}` is not a host port (1-65535) or range")),
            Some((_, m)) if n > 1 && m != n => bad(&format!(
                "the host range `{h}` and the container range `{container}` differ in size"
            )),
            Some(_) => Ok(()),
        },
    }
}

/// A `volumes` item: `SOURCE:DESTINATION[:OPTIONS]`.
pub fn volume(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.split(':').collect();
    let bad = |why: &str| {
        Err(format!(
            "volume `{v}`: {why}; expected SOURCE:DESTINATION[:OPTIONS] such as /data:/data:ro"
        ))
    };
    match parts.as_slice() {
        [src, dst] | [src, dst, _] => {
            if src.is_empty() {
                return bad("empty source");
            }
            if let Err(e) = volume_source(src) {
                return bad(&e);
            }
            if !dst.starts_with('/') {
                return bad("the destination must be an absolute path in the container");
            }
            if let [_, _, opts] = parts.as_slice() {
                for opt in opts.split(',') {
                    if !crate::flow::spec::VOLUME_OPTIONS.contains(&opt) {
                        return bad(&format!("unknown option `{opt}`"));
                    }
                }
            }
            Ok(())
        }
        _ => bad("missing destination"),
    }
}

/// `user`: `NAME|UID[:GROUP|GID]` (`--user`).
pub fn user(s: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "user `{s}`: {why}; expected NAME or UID, optionally :GROUP or :GID, such as 1000:1000 or app"
        ))
    };
    let mut parts = s.splitn(2, ':');
    let who = parts.next().unwrap_or_default();
    for (what, part) in [("user", Some(who)), ("group", parts.next())] {
        let Some(p) = part else { continue };
        if p.is_empty() {
            return bad(&format!("the {what} is empty"));
        }
        if p.bytes().all(|b| b.is_ascii_digit()) {
            if p.parse::<u32>().map_or(true, |n| n == u32::MAX) {
                return bad(&format!("{what} id `{p}` is out of range"));
            }
        } else if p.contains(':') {
            return bad("more than one `:`");
        } else if !ACCOUNT.is_match(p) {
            return bad(&format!("`{p}` is not a {what} name"));
        }
    }
    Ok(())
}

/// `networkMode`: `bridge`, `host`, `none`, `default`, `private`, `container:NAME`, `ns:PATH`,
/// `slirp4netns` or `pasta` (Podman), or a network's name, each optionally with `:OPTIONS`
/// (Podman's `bridge:ip=…`, `NETWORK:ip=…`).
pub fn network_mode(s: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "network mode `{s}`: {why}; expected bridge, host, none, container:NAME, or a network's name"
        ))
    };
    let (mode, opts) = match s.split_once(':') {
        Some((m, o)) => (m, Some(o)),
        None => (s, None),
    };
    match (mode, opts) {
        ("container", Some(c)) if NAME.is_match(c) => Ok(()),
        ("container", _) => bad("`container:` needs a container's name or id"),
        ("ns", Some(p)) if p.starts_with('/') => Ok(()),
        ("ns", _) => bad("`ns:` needs an absolute path to a network namespace"),
        ("host" | "none", Some(_)) => bad(&format!("`{mode}` takes no options")),
        (_, Some(o)) if o.is_empty() || o.contains(char::is_whitespace) => {
            bad("empty options or options with blanks after `:`")
        }
        (m, _) if NAME.is_match(m) => Ok(()),
        (m, _) => bad(&format!("`{m}` is not a network name")),
    }
}

/// The source of a `volumes` item: an absolute host path, or a named volume (a name without
/// `/`). A relative path would be taken as a volume name by the engine, or refused.
pub fn volume_source(src: &str) -> Result<(), String> {
    if src.starts_with('/') || (src.len() >= 2 && NAME.is_match(src)) {
        return Ok(());
    }
    Err(format!(
        "the host path `{src}` must be absolute (a source without `/` is a named volume)"
    ))
}

/// `credentials.auth`: standard base64 (with padding) of `USER:PASSWORD`, as a docker
/// `config.json` holds it. The value is a secret: the message never shows it.
pub fn auth(s: &str) -> Result<(), String> {
    let why = match decode_base64(s.trim()) {
        None => "is not base64",
        Some(d) => match String::from_utf8(d) {
            Err(_) => "does not decode to text",
            Ok(t) if !t.contains(':') => "decodes to no `USER:PASSWORD` (no `:`)",
            Ok(t) if t.starts_with(':') => "decodes to an empty user name",
            Ok(_) => return Ok(()),
        },
    };
    Err(format!(
        "`auth` {why}: it must be the base64 of USER:PASSWORD (the value is not shown: it is a secret)"
    ))
}

/// Standard base64 with padding (RFC 4648 §4); `None` if malformed.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    let chunks = b.len() / 4;
    for (i, c) in b.chunks(4).enumerate() {
        let pad = c.iter().rev().take_while(|x| **x == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != chunks) {
            return None;
        }
        let mut n: u32 = 0;
        for &x in &c[..4 - pad] {
            n = (n << 6) | u32::from(val(x)?);
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_ok(f: fn(&str) -> Result<(), String>, values: &[&str]) {
        for v in values {
            assert_eq!(f(v), Ok(()), "`{v}`");
        }
    }

    fn all_bad(f: fn(&str) -> Result<(), String>, values: &[&str]) {
        for v in values {
            assert!(f(v).is_err(), "`{v}` was accepted");
        }
    }

    #[test]
    fn extra_hosts() {
        all_ok(
            extra_host,
            &[
                "db.local:10.0.0.5",
                "h:::1",
                "h:[fd00::5]",
                "h:host-gateway",
                "my-host_1:127.0.0.1",
            ],
        );
        all_bad(
            extra_host,
            &[
                "db.local",
                "db.local=10.0.0.5",
                ":10.0.0.5",
                "db:local",
                "db.local:",
                "db.local:10.0.0.256",
                "bad host:1.2.3.4",
                "h:gateway",
            ],
        );
    }

    #[test]
    fn port_bindings() {
        all_ok(
            port_binding,
            &[
                "80",
                "8080:80",
                "127.0.0.1:5432:5432",
                "127.0.0.1::80",
                "[::1]:8080:80",
                "53:53/udp",
                "80/tcp",
                "8000-8010:8000-8010",
                "8000-8010:80",
                "9000:80/sctp",
            ],
        );
        all_bad(
            port_binding,
            &[
                "",
                "http",
                "0",
                "65536:80",
                "8080:",
                "8080:80/icmp",
                "1.2.3:80:80",
                "::1:80:80",
                "8000-8010:9000-9001",
                "80-70",
                "127.0.0.1:80",
                "[::1]80",
                "a:b:c:d",
            ],
        );
        assert_eq!(
            port_binding("8080:80/icmp"),
            Err("port binding `8080:80/icmp`: unknown protocol `icmp` (tcp, udp or sctp); expected [IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL] such as 8080:80, 127.0.0.1:5432:5432 or 53:53/udp".into())
        );
    }

    #[test]
    fn users() {
        all_ok(
            user,
            &[
                "root",
                "1000",
                "1000:1000",
                "app:staff",
                "app:100",
                "www-data",
                "_svc",
                "svc$",
                "0:0",
            ],
        );
        all_bad(
            user,
            &[
                "",
                ":",
                "1000:",
                ":1000",
                "a:b:c",
                "my user",
                "-x",
                "4294967295",
                "99999999999",
                "app:-g",
            ],
        );
    }

    #[test]
    fn network_modes() {
        all_ok(
            network_mode,
            &[
                "bridge",
                "host",
                "none",
                "default",
                "private",
                "container:db",
                "container:3f4e9a",
                "ns:/run/netns/x",
                "slirp4netns",
                "slirp4netns:allow_host_loopback=true",
                "pasta",
                "my_net",
                "bridge:ip=10.88.0.10",
                "mynet:ip=10.89.0.5",
            ],
        );
        all_bad(
            network_mode,
            &[
                "",
                "container:",
                "container",
                "ns:",
                "ns:run/netns/x",
                "host:x",
                "my net",
                "-net",
                "bridge:",
                "mynet:ip 1",
            ],
        );
    }

    #[test]
    fn volume_sources() {
        all_ok(volume_source, &["/data", "/", "cache", "my_vol.1"]);
        all_bad(
            volume_source,
            &["./data", "data/sub", "~/data", "../x", "x", "-v"],
        );
    }

    #[test]
    fn auths() {
        // "robot:s3cret", "a:" (empty password is allowed), and padded forms.
        all_ok(auth, &["cm9ib3Q6czNjcmV0", "YTo=", "dXNlcjpwYXNzd29yZA=="]);
        // not base64, no padding, no colon ("robot"), empty user (":x"), not text.
        all_bad(
            auth,
            &[
                "robot:s3cret",
                "cm9ib3Q6czNjcmV0=",
                "YTo",
                "cm9ib3Q=",
                "Ong=",
                "//79",
                "",
                "cm9i=3Q6",
            ],
        );
        let e = auth("cm9ib3Q=").unwrap_err();
        assert!(!e.contains("cm9ib3Q"), "the secret is shown: {e}");
        assert_eq!(decode_base64("Zm9vYg=="), Some(b"foob".to_vec()));
        assert_eq!(decode_base64("Zm9vYmE="), Some(b"fooba".to_vec()));
        assert_eq!(decode_base64("Zm9vYmFy"), Some(b"foobar".to_vec()));
    }
}
