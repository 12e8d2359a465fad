//! Docker image references (`ubuntu:22.04`, `ghcr.io/org/img@sha256:...`):
//! parsing and validation per the grammar of the distribution project
//! (`github.com/distribution/reference`), and the normalisations the Docker CLI
//! applies: the default registry `docker.io`, the `library/` namespace for
//! official images, the `:latest` default tag, and the key a registry's
//! credentials are stored under in `~/.docker/config.json`.
//!
//! ```text
//! reference      := name [ ":" tag ] [ "@" digest ]
//! name           := [domain "/"] path-component ("/" path-component)*
//! domain         := host [":" port]
//! host           := domain-name | "[" ipv6 "]"
//! path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
//! tag            := [\w][\w.-]{0,127}
//! digest         := algorithm ":" hex
//! ```
//!
//! The first component of a name is a domain only when it contains `.` or `:`,
//! is exactly `localhost`, or contains an uppercase letter (as in distribution);
//! otherwise it is part of the path (`user/img` lives on Docker Hub).
//!
//! This module does no I/O. Errors are complete lowercase messages; the caller
//! prefixes them with the location and the property name.

use std::fmt;

/// Docker Hub's canonical registry name.
const DOCKER_HUB: &str = "docker.io";
/// Other names of Docker Hub that normalise to [`DOCKER_HUB`].
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", "registry-1.docker.io"];
/// The key Docker Hub credentials are stored under in `config.json`.
const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
/// The namespace of Docker Hub's official images.
const OFFICIAL_NAMESPACE: &str = "library";
/// The longest name (domain and path) distribution accepts.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// The longest tag distribution accepts.
const TAG_LENGTH_MAX: usize = 128;
/// The digest algorithms whose hex length is known.
const KNOWN_DIGESTS: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];
/// The shortest hex part distribution accepts for any other algorithm.
const DIGEST_HEX_MIN: usize = 32;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry as written (`ghcr.io`, `localhost:5000`, `[::1]:5000`), if any.
    pub domain: Option<String>,
    /// The repository path as written, without the domain (`ubuntu`, `user/img`).
    pub path: String,
    /// The tag, without its `:`.
    pub tag: Option<String>,
    /// The digest, `algorithm:hex`, without its `@`.
    pub digest: Option<String>,
    original: String,
}

impl ImageRef {
    /// Parses and validates an image reference.
    ///
    /// The reference must be written exactly: no whitespace anywhere, and no
    /// normalisation is applied to the stored parts (see [`ImageRef::full_name`]
    /// and [`ImageRef::with_default_tag`] for the normalised forms).
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        if s.is_empty() {
            return Err(
                "invalid image reference: the value is empty (expected e.g. ubuntu:22.04)".into(),
            );
        }
        let err = |why: &str| format!("invalid image reference `{s}`: {why}");

        if s.chars().any(char::is_whitespace) {
            return Err(err("contains whitespace"));
        }
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(err(
                "a 64-character hexadecimal string is an image id, not a repository name",
            ));
        }

        let (name_and_tag, digest) = match s.split_once('@') {
            Some((before, digest)) => (before, Some(digest)),
            None => (s, None),
        };
        if let Some(digest) = digest {
            validate_digest(digest).map_err(|why| err(&why))?;
        }

        // The tag follows the last `:` unless a `/` comes after it, in which
        // case that `:` introduces a registry port.
        let (name, tag) = match name_and_tag.rfind(':') {
            Some(i) if !name_and_tag[i..].contains('/') => {
                (&name_and_tag[..i], Some(&name_and_tag[i + 1..]))
            }
            _ => (name_and_tag, None),
        };

        if name.is_empty() {
            return Err(err("missing the image name (e.g. ubuntu:22.04)"));
        }
        if let Some(tag) = tag {
            validate_tag(tag).map_err(|why| err(&why))?;
        }
        // A `:` left in the last component cannot be a port: no `/` follows it.
        if name
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
        {
            return Err(err("has more than one tag"));
        }
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(err(&format!(
                "the name is {} characters long; at most {NAME_TOTAL_LENGTH_MAX} are allowed",
                name.len()
            )));
        }

        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if is_domain(first) => (Some(first), rest),
            _ => (None, name),
        };
        if let Some(domain) = domain {
            validate_domain(domain).map_err(|why| err(&why))?;
        }
        validate_path(path).map_err(|why| err(&why))?;

        Ok(ImageRef {
            domain: domain.map(str::to_string),
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
            original: s.to_string(),
        })
    }

    /// The reference exactly as written.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The registry: the domain as written, except that no domain and Docker
    /// Hub's other names (`index.docker.io`, `registry-1.docker.io`) give
    /// `docker.io`.
    pub fn registry(&self) -> &str {
        match self.domain.as_deref() {
            None => DOCKER_HUB,
            Some(d) if DOCKER_HUB_ALIASES.contains(&d) => DOCKER_HUB,
            Some(d) => d,
        }
    }

    /// Whether the image lives on Docker Hub.
    pub fn is_docker_hub(&self) -> bool {
        self.registry() == DOCKER_HUB
    }

    /// The key of this registry's entry under `auths` in a Docker
    /// `config.json`: `https://index.docker.io/v1/` for Docker Hub, otherwise
    /// the domain as written (`host[:port]`).
    pub fn auth_key(&self) -> String {
        if self.is_docker_hub() {
            DOCKER_HUB_AUTH_KEY.to_string()
        } else {
            self.registry().to_string()
        }
    }

    /// The repository path as written, without domain, tag or digest.
    pub fn familiar_path(&self) -> String {
        self.path.clone()
    }

    /// The fully qualified repository name, without tag or digest:
    /// `docker.io/library/ubuntu` for `ubuntu`, `docker.io/user/img` for
    /// `user/img`, `10.10.1.5:5000/my-image` as written.
    pub fn full_name(&self) -> String {
        if self.is_docker_hub() && !self.path.contains('/') {
            format!("{DOCKER_HUB}/{OFFICIAL_NAMESPACE}/{}", self.path)
        } else {
            format!("{}/{}", self.registry(), self.path)
        }
    }

    /// The normalised full reference, with `:latest` added when neither a tag
    /// nor a digest was given: `docker.io/library/centos:latest`.
    pub fn with_default_tag(&self) -> String {
        let mut out = self.full_name();
        match (&self.tag, &self.digest) {
            (None, None) => out.push_str(":latest"),
            (tag, digest) => {
                if let Some(tag) = tag {
                    out.push(':');
                    out.push_str(tag);
                }
                if let Some(digest) = digest {
                    out.push('@');
                    out.push_str(digest);
                }
            }
        }
        out
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Whether the first component of a name (followed by `/`) is a registry.
fn is_domain(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*`
fn is_valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !is_lower_alnum(first) || !is_lower_alnum(last) {
        return false;
    }
    // Every maximal run of other bytes sits between two alphanumerics.
    component
        .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        .filter(|sep| !sep.is_empty())
        .all(|sep| matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-'))
}

fn validate_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("missing the repository path after the registry".into());
    }
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("repository name must be lowercase (`{path}`)"));
    }
    for component in path.split('/') {
        if component.is_empty() {
            return Err(
                "the repository path has an empty component (`//` or a `/` at an end)".into(),
            );
        }
        if !is_valid_path_component(component) {
            return Err(format!(
                "invalid repository path component `{component}`: use lowercase letters and \
                 digits, separated by `.`, `_`, `__` or dashes, starting and ending with a \
                 letter or digit"
            ));
        }
    }
    Ok(())
}

/// `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`
fn is_valid_domain_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

fn validate_domain(domain: &str) -> Result<(), String> {
    let (host, port) = if let Some(inner) = domain.strip_prefix('[') {
        let Some((address, after)) = inner.split_once(']') else {
            return Err(format!(
                "invalid registry `{domain}`: missing `]` after the ipv6 address"
            ));
        };
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(format!(
                "invalid registry `{domain}`: `[{address}]` is not an ipv6 address"
            ));
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => {
                    return Err(format!(
                        "invalid registry `{domain}`: unexpected `{after}` after the ipv6 address"
                    ));
                }
            },
        };
        (None, port)
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host
        && !host.split('.').all(is_valid_domain_label)
    {
        return Err(format!(
            "invalid registry host `{host}`: use letters, digits and dashes, in labels \
             separated by dots, each starting and ending with a letter or digit"
        ));
    }
    match port {
        Some("") => Err(format!(
            "invalid registry `{domain}`: the port after `:` is empty"
        )),
        Some(port) if !port.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
            "invalid registry `{domain}`: the port `{port}` must be a number"
        )),
        _ => Ok(()),
    }
}

fn validate_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("the tag after `:` is empty".into());
    }
    if tag.len() > TAG_LENGTH_MAX {
        return Err(format!(
            "the tag is {} characters long; at most {TAG_LENGTH_MAX} are allowed",
            tag.len()
        ));
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    if !word(bytes[0]) {
        return Err(format!(
            "invalid tag `{tag}`: it must start with a letter, digit or `_`"
        ));
    }
    if !bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-') {
        return Err(format!(
            "invalid tag `{tag}`: use only letters, digits, `_`, `.` and `-`"
        ));
    }
    Ok(())
}

/// `algorithm:hex`, algorithm `[a-z0-9]+([+._-][a-z0-9]+)*`, hex lowercase with
/// the exact length of a known algorithm, or at least 32 digits otherwise.
fn validate_digest(digest: &str) -> Result<(), String> {
    let example = "e.g. sha256: followed by 64 hex digits";
    if digest.is_empty() {
        return Err(format!("the digest after `@` is empty ({example})"));
    }
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!(
            "invalid digest `{digest}`: expected algorithm:hex ({example})"
        ));
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .split(['+', '.', '_', '-'])
            .all(|part| !part.is_empty() && part.bytes().all(is_lower_alnum));
    if !algorithm_ok {
        return Err(format!(
            "invalid digest `{digest}`: bad algorithm `{algorithm}` ({example})"
        ));
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!(
            "invalid digest `{digest}`: the part after `:` must be lowercase hex digits"
        ));
    }
    match KNOWN_DIGESTS.iter().find(|(name, _)| *name == algorithm) {
        Some((name, len)) if hex.len() != *len => Err(format!(
            "invalid digest `{digest}`: a {name} digest has {len} hex digits, not {}",
            hex.len()
        )),
        None if hex.len() < DIGEST_HEX_MIN => Err(format!(
            "invalid digest `{digest}`: at least {DIGEST_HEX_MIN} hex digits are required, not {}",
            hex.len()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEX64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn ok(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap_or_else(|e| panic!("`{s}` should parse: {e}"))
    }

    fn bad(s: &str) -> String {
        ImageRef::parse(s).expect_err(&format!("`{s}` should be rejected"))
    }

    /// (domain, path, tag, digest)
    fn parts(r: &ImageRef) -> (Option<&str>, &str, Option<&str>, Option<&str>) {
        (
            r.domain.as_deref(),
            &r.path,
            r.tag.as_deref(),
            r.digest.as_deref(),
        )
    }

    #[test]
    fn official_images() {
        for name in ["ubuntu", "centos"] {
            let r = ok(name);
            assert_eq!(parts(&r), (None, name, None, None));
            assert_eq!(r.registry(), "docker.io");
            assert!(r.is_docker_hub());
            assert_eq!(r.auth_key(), "https://index.docker.io/v1/");
            assert_eq!(r.familiar_path(), name);
            assert_eq!(r.full_name(), format!("docker.io/library/{name}"));
            assert_eq!(
                r.with_default_tag(),
                format!("docker.io/library/{name}:latest")
            );
            assert_eq!(r.original(), name);
            assert_eq!(r.to_string(), name);
        }
    }

    #[test]
    fn official_image_with_tag() {
        let r = ok("ubuntu:22.04");
        assert_eq!(parts(&r), (None, "ubuntu", Some("22.04"), None));
        assert_eq!(r.full_name(), "docker.io/library/ubuntu");
        assert_eq!(r.with_default_tag(), "docker.io/library/ubuntu:22.04");
        assert_eq!(r.to_string(), "ubuntu:22.04");
    }

    #[test]
    fn user_image_is_on_docker_hub() {
        let r = ok("user/img");
        assert_eq!(parts(&r), (None, "user/img", None, None));
        assert_eq!(r.registry(), "docker.io");
        assert!(r.is_docker_hub());
        assert_eq!(r.auth_key(), "https://index.docker.io/v1/");
        assert_eq!(r.familiar_path(), "user/img");
        assert_eq!(r.full_name(), "docker.io/user/img");
        assert_eq!(r.with_default_tag(), "docker.io/user/img:latest");
    }

    #[test]
    fn library_prefix_is_not_doubled() {
        let r = ok("library/ubuntu");
        assert_eq!(parts(&r), (None, "library/ubuntu", None, None));
        assert_eq!(r.full_name(), "docker.io/library/ubuntu");
        assert_eq!(r.with_default_tag(), "docker.io/library/ubuntu:latest");
    }

    #[test]
    fn explicit_docker_io() {
        let r = ok("docker.io/user/img:1");
        assert_eq!(parts(&r), (Some("docker.io"), "user/img", Some("1"), None));
        assert_eq!(r.registry(), "docker.io");
        assert!(r.is_docker_hub());
        assert_eq!(r.auth_key(), "https://index.docker.io/v1/");
        assert_eq!(r.full_name(), "docker.io/user/img");
        assert_eq!(r.with_default_tag(), "docker.io/user/img:1");
        assert_eq!(
            ok("docker.io/ubuntu").full_name(),
            "docker.io/library/ubuntu"
        );
    }

    #[test]
    fn docker_hub_aliases_normalise() {
        let r = ok("index.docker.io/x/y");
        assert_eq!(parts(&r), (Some("index.docker.io"), "x/y", None, None));
        assert_eq!(r.registry(), "docker.io");
        assert!(r.is_docker_hub());
        assert_eq!(r.auth_key(), "https://index.docker.io/v1/");
        assert_eq!(r.full_name(), "docker.io/x/y");
        assert_eq!(r.with_default_tag(), "docker.io/x/y:latest");
        assert_eq!(r.original(), "index.docker.io/x/y");

        let r = ok("registry-1.docker.io/ubuntu:24.04");
        assert_eq!(r.registry(), "docker.io");
        assert_eq!(r.with_default_tag(), "docker.io/library/ubuntu:24.04");
    }

    #[test]
    fn localhost_registry() {
        let r = ok("localhost/img");
        assert_eq!(parts(&r), (Some("localhost"), "img", None, None));
        assert_eq!(r.registry(), "localhost");
        assert!(!r.is_docker_hub());
        assert_eq!(r.auth_key(), "localhost");
        assert_eq!(r.full_name(), "localhost/img");
        assert_eq!(r.with_default_tag(), "localhost/img:latest");

        let r = ok("localhost:5000/a/b:c");
        assert_eq!(parts(&r), (Some("localhost:5000"), "a/b", Some("c"), None));
        assert_eq!(r.registry(), "localhost:5000");
        assert_eq!(r.auth_key(), "localhost:5000");
        assert_eq!(r.familiar_path(), "a/b");
        assert_eq!(r.full_name(), "localhost:5000/a/b");
        assert_eq!(r.with_default_tag(), "localhost:5000/a/b:c");
    }

    #[test]
    fn localhost_alone_is_an_image_name() {
        // As in Docker: without a `/`, `localhost:5000` is image `localhost`, tag `5000`.
        let r = ok("localhost:5000");
        assert_eq!(parts(&r), (None, "localhost", Some("5000"), None));
        assert!(r.is_docker_hub());
    }

    #[test]
    fn ip_registry_with_port_is_not_a_tag() {
        let r = ok("10.10.1.5:5000/my-image");
        assert_eq!(parts(&r), (Some("10.10.1.5:5000"), "my-image", None, None));
        assert_eq!(r.registry(), "10.10.1.5:5000");
        assert!(!r.is_docker_hub());
        assert_eq!(r.auth_key(), "10.10.1.5:5000");
        assert_eq!(r.full_name(), "10.10.1.5:5000/my-image");
        assert_eq!(r.with_default_tag(), "10.10.1.5:5000/my-image:latest");
    }

    #[test]
    fn host_with_port() {
        let r = ok("registry.example.com:5000/x");
        assert_eq!(
            parts(&r),
            (Some("registry.example.com:5000"), "x", None, None)
        );
        assert_eq!(r.auth_key(), "registry.example.com:5000");
        assert_eq!(r.full_name(), "registry.example.com:5000/x");
        let r = ok("registry.example.com:5000/team/x:v1.2-rc_3");
        assert_eq!(parts(&r).2, Some("v1.2-rc_3"));
    }

    #[test]
    fn ipv6_registry() {
        let r = ok("[::1]:5000/img");
        assert_eq!(parts(&r), (Some("[::1]:5000"), "img", None, None));
        assert_eq!(r.registry(), "[::1]:5000");
        assert_eq!(r.auth_key(), "[::1]:5000");
        assert_eq!(r.full_name(), "[::1]:5000/img");
        assert_eq!(r.with_default_tag(), "[::1]:5000/img:latest");

        let r = ok("[2001:db8::1]/org/img:tag");
        assert_eq!(
            parts(&r),
            (Some("[2001:db8::1]"), "org/img", Some("tag"), None)
        );

        assert!(bad("[::1:5000/img").contains("missing `]`"));
        assert!(bad("[]:5000/img").contains("not an ipv6 address"));
        assert!(bad("[::g]/img").contains("not an ipv6 address"));
        assert!(bad("[::1]x/img").contains("unexpected `x`"));
        assert!(bad("[::1]:/img").contains("port after `:` is empty"));
    }

    #[test]
    fn digests() {
        let s = format!("ghcr.io/org/img@sha256:{HEX64}");
        let r = ok(&s);
        let digest = format!("sha256:{HEX64}");
        assert_eq!(
            parts(&r),
            (Some("ghcr.io"), "org/img", None, Some(digest.as_str()))
        );
        assert_eq!(r.registry(), "ghcr.io");
        assert_eq!(r.auth_key(), "ghcr.io");
        assert_eq!(r.full_name(), "ghcr.io/org/img");
        // A digest alone: no `:latest`.
        assert_eq!(r.with_default_tag(), s);
        assert_eq!(r.to_string(), s);

        let s = format!("img:tag@sha256:{HEX64}");
        let r = ok(&s);
        assert_eq!(parts(&r), (None, "img", Some("tag"), Some(digest.as_str())));
        assert_eq!(
            r.with_default_tag(),
            format!("docker.io/library/img:tag@sha256:{HEX64}")
        );

        let r = ok(&format!("localhost:5000/img@sha256:{HEX64}"));
        assert_eq!(parts(&r).0, Some("localhost:5000"));
        assert_eq!(parts(&r).2, None);

        ok(&format!("img@sha512:{HEX64}{HEX64}"));
        ok(&format!("img@sha384:{HEX64}{}", &HEX64[..32]));
        ok(&format!("img@blake3:{}", &HEX64[..32]));
        ok(&format!("img@multi+part.alg_x-y:{HEX64}"));
    }

    #[test]
    fn bad_digests() {
        assert!(bad("img@sha256:short").contains("lowercase hex"));
        assert!(bad("img@sha256:abc123").contains("a sha256 digest has 64 hex digits, not 6"));
        assert!(bad(&format!("img@sha256:{HEX64}0")).contains("not 65"));
        assert!(bad(&format!("img@sha256:{}", HEX64.to_uppercase())).contains("lowercase hex"));
        assert!(bad(&format!("img@sha512:{HEX64}")).contains("128 hex digits"));
        assert!(bad(&format!("img@md5:{}", &HEX64[..31])).contains("at least 32"));
        assert!(bad("img@").contains("digest after `@` is empty"));
        assert!(bad(&format!("img@{HEX64}")).contains("expected algorithm:hex"));
        assert!(bad(&format!("img@SHA256:{HEX64}")).contains("bad algorithm `SHA256`"));
        assert!(bad(&format!("img@:{HEX64}")).contains("bad algorithm"));
        assert!(bad(&format!("img@sha256+:{HEX64}")).contains("bad algorithm"));
        assert!(bad(&format!("img@sha256:{HEX64}@sha256:{HEX64}")).contains("invalid digest"));
        assert!(bad(&format!("@sha256:{HEX64}")).contains("missing the image name"));
    }

    #[test]
    fn uppercase_repository_is_rejected() {
        let e = bad("MyImage");
        assert!(e.contains("repository name must be lowercase"), "{e}");
        assert!(e.starts_with("invalid image reference `MyImage`: "), "{e}");
        assert!(bad("user/MyImage").contains("repository name must be lowercase"));
        assert!(bad("ghcr.io/Org/img").contains("repository name must be lowercase"));
    }

    #[test]
    fn uppercase_first_component_is_a_domain() {
        // As in distribution: only a registry may contain uppercase letters.
        let r = ok("MyRegistry/img");
        assert_eq!(parts(&r), (Some("MyRegistry"), "img", None, None));
        assert_eq!(r.registry(), "MyRegistry");
        assert!(!r.is_docker_hub());
    }

    #[test]
    fn tag_errors() {
        assert_eq!(
            bad("img:tag:tag"),
            "invalid image reference `img:tag:tag`: has more than one tag"
        );
        assert!(bad("a/b:c:d").contains("has more than one tag"));
        assert!(bad("localhost:5000/a:b:c").contains("has more than one tag"));
        assert!(bad("img:").contains("the tag after `:` is empty"));
        assert!(bad(":tag").contains("missing the image name"));
        assert!(bad(":").contains("missing the image name"));
        assert!(bad("img:.tag").contains("must start with a letter, digit or `_`"));
        assert!(bad("img:-tag").contains("must start with"));
        // `img:ta` followed by `/` reads as a registry with a port.
        assert!(bad("img:ta/g").contains("the port `ta` must be a number"));
        assert!(bad("img:t+g").contains("use only letters, digits"));
        assert!(bad("img:täg").contains("use only letters, digits"));
        ok("img:_tag");
        ok("img:TAG.With-Mixed_case");
    }

    #[test]
    fn tag_length_limit() {
        let t128 = "t".repeat(128);
        assert_eq!(
            ok(&format!("img:{t128}")).tag.as_deref(),
            Some(t128.as_str())
        );
        let e = bad(&format!("img:{}", "t".repeat(129)));
        assert!(
            e.contains("the tag is 129 characters long; at most 128 are allowed"),
            "{e}"
        );
    }

    #[test]
    fn name_length_limit() {
        // 255 characters in all, including the domain.
        let domain = "r.io";
        let path = "a".repeat(255 - domain.len() - 1);
        let r = ok(&format!("{domain}/{path}:t"));
        assert_eq!(r.path, path);
        let e = bad(&format!("{domain}/{path}a:t"));
        assert!(
            e.contains("the name is 256 characters long; at most 255 are allowed"),
            "{e}"
        );
        // The tag does not count towards the name.
        ok(&format!("{}:{}", "a".repeat(255), "t".repeat(128)));
        assert!(bad(&"a".repeat(256)).contains("256 characters"));
    }

    #[test]
    fn path_component_grammar() {
        for good in [
            "a",
            "a0",
            "a.b",
            "a_b",
            "a__b",
            "a-b",
            "a---b",
            "a.b-c_d__e",
            "0",
            "a/b/c/d",
            "my-image",
            "foo_bar/baz.qux",
        ] {
            assert_eq!(ok(good).path, good);
        }
        assert!(bad("a//b").contains("empty component"));
        assert!(bad("a/").contains("empty component"));
        assert!(bad("localhost/").contains("missing the repository path"));
        for wrong in [
            "a/-b", "a/b-", "a/.b", "a/b.", "a/b..c", "a/b___c", "a/b._c", "a/b-.c", "a/_b", "a/é",
        ] {
            let e = bad(wrong);
            assert!(
                e.contains("invalid repository path component"),
                "{wrong}: {e}"
            );
        }
        assert!(bad("a/-b").contains("`-b`"));
        assert!(bad("/img").contains("empty component"));
    }

    #[test]
    fn domain_grammar() {
        ok("my-registry.example.com/img");
        ok("a.b.c:1/img");
        ok("Registry.Example.COM/img");
        assert!(bad("-bad.com/img").contains("invalid registry host `-bad.com`"));
        assert!(bad("bad-.com/img").contains("invalid registry host"));
        assert!(bad("bad..com/img").contains("invalid registry host"));
        assert!(bad(".com/img").contains("invalid registry host"));
        assert!(bad("b_d.com/img").contains("invalid registry host"));
        assert!(bad(":5000/img").contains("invalid registry host ``"));
        assert!(bad("host:/img").contains("port after `:` is empty"));
        assert!(bad("host:50a0/img").contains("the port `50a0` must be a number"));
        assert!(bad("host:1:2/img").contains("the port `1:2` must be a number"));
    }

    #[test]
    fn whitespace_and_empty() {
        assert!(bad("").starts_with("invalid image reference: the value is empty"));
        assert_eq!(
            bad(" ubuntu"),
            "invalid image reference ` ubuntu`: contains whitespace"
        );
        assert!(bad("ubuntu ").contains("contains whitespace"));
        assert!(bad("ubu ntu").contains("contains whitespace"));
        assert!(bad("ubuntu:22.04\n").contains("contains whitespace"));
        assert!(bad("\t").contains("contains whitespace"));
    }

    #[test]
    fn image_id_is_not_a_name() {
        assert!(bad(HEX64).contains("is an image id"));
        // Shorter or longer hex strings are valid names, as in Docker.
        ok(&HEX64[..63]);
        ok(&format!("{HEX64}0"));
        ok(&format!("user/{HEX64}"));
    }

    fn component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,4}((\\.|_|__|-{1,2})[a-z0-9]{1,4}){0,2}"
    }

    proptest! {
        #[test]
        fn prop_normalised_form_is_stable(
            domain in prop::option::of(prop::sample::select(vec![
                "docker.io", "index.docker.io", "ghcr.io", "localhost", "localhost:5000",
                "10.0.0.1:5000", "[::1]:5000", "Registry.Example.com",
            ])),
            path in prop::collection::vec(component(), 1..4),
            tag in prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
            digest in prop::option::of("[a-f0-9]{64}"),
        ) {
            // Without a registry, a first component with a dot would read as one.
            prop_assume!(domain.is_some() || path.len() == 1 || !path[0].contains('.'));
            let mut s = String::new();
            if let Some(d) = domain {
                s.push_str(d);
                s.push('/');
            }
            s.push_str(&path.join("/"));
            if let Some(t) = &tag {
                s.push(':');
                s.push_str(t);
            }
            if let Some(d) = &digest {
                s.push_str("@sha256:");
                s.push_str(d);
            }
            let r = ImageRef::parse(&s).map_err(TestCaseError::fail)?;
            prop_assert_eq!(r.original(), s.as_str());
            prop_assert_eq!(r.domain.as_deref(), domain);
            prop_assert_eq!(r.path.clone(), path.join("/"));
            prop_assert_eq!(r.tag.clone(), tag);
            prop_assert_eq!(r.digest.clone(), digest.map(|d| format!("sha256:{d}")));

            let normal = r.with_default_tag();
            let again = ImageRef::parse(&normal).map_err(TestCaseError::fail)?;
            prop_assert_eq!(again.with_default_tag(), normal.clone());
            prop_assert_eq!(again.full_name(), r.full_name());
            prop_assert_eq!(again.registry(), r.registry());
            prop_assert_eq!(again.auth_key(), r.auth_key());
        }

        #[test]
        fn prop_never_panics(s in "\\PC{0,40}|[a-zA-Z0-9.:/@_\\[\\]-]{0,40}") {
            if let Ok(r) = ImageRef::parse(&s) {
                prop_assert_eq!(r.to_string(), s);
                let _ = (r.full_name(), r.with_default_tag(), r.auth_key());
            }
        }
    }
}
