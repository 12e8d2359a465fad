//! A minimal ustar writer for the working directory that `cp -` copies into a created
//! container: the directory itself (mode 0777 when a non-root user must write to it) and the
//! input files. Pure and deterministic (mtime 0, uid/gid 0 unless an entry names its owner).

/// One entry: a directory (no content) or a regular file.
pub struct Entry<'a> {
    pub path: String,
    pub mode: u32,
    /// uid and gid in the header: a private (0600) file must belong to the container's user,
    /// and `docker cp` keeps the archive's owner (podman gives copies the container's user).
    pub owner: (u32, u32),
    pub content: Option<&'a [u8]>,
}

fn octal(buf: &mut [u8], value: u64) {
    // Width-1 octal digits, then NUL.
    let n = buf.len() - 1;
    let s = format!("{value:0n$o}");
    buf[..n].copy_from_slice(s.as_bytes());
    buf[n] = 0;
}

/// Splits a long path into ustar's prefix (155) and name (100).
fn split_path(path: &str) -> Result<(&str, &str), String> {
    if path.len() <= 100 {
        return Ok(("", path));
    }
    for (i, c) in path.char_indices().rev() {
        if c == '/' && i <= 155 && path.len() - i - 1 <= 100 {
            return Ok((&path[..i], &path[i + 1..]));
        }
    }
    Err(format!(
        "path too long for the working directory archive: {path}"
    ))
}

fn header(e: &Entry<'_>) -> Result<[u8; 512], String> {
    let mut h = [0u8; 512];
    let is_dir = e.content.is_none();
    let path = if is_dir && !e.path.ends_with('/') {
        format!("{}/", e.path)
    } else {
        e.path.clone()
    };
    let (prefix, name) = split_path(&path)?;
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], u64::from(e.mode));
    octal(&mut h[108..116], u64::from(e.owner.0));
    octal(&mut h[116..124], u64::from(e.owner.1));
    octal(&mut h[124..136], e.content.map_or(0, |c| c.len() as u64));
    octal(&mut h[136..148], 0);
    h[156] = if is_dir { b'5' } else { b'0' };
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    Ok(h)
}

/// The archive bytes.
pub fn archive(entries: &[Entry<'_>]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&header(e)?);
        if let Some(c) = e.content {
            out.extend_from_slice(c);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
    }
    out.resize(out.len() + 1024, 0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_is_block_aligned_with_valid_checksums() {
        let a = archive(&[
            Entry {
                path: "tmp/w".into(),
                mode: 0o777,
                owner: (0, 0),
                content: None,
            },
            Entry {
                path: "tmp/w/a.txt".into(),
                mode: 0o644,
                owner: (0, 0),
                content: Some(b"hello\n"),
            },
        ])
        .unwrap();
        assert_eq!(a.len(), 512 * 2 + 512 + 1024);
        let h = &a[..512];
        assert_eq!(&h[..6], b"tmp/w/");
        assert_eq!(h[156], b'5');
        let stored = u32::from_str_radix(std::str::from_utf8(&h[148..154]).unwrap(), 8).unwrap();
        let mut copy = h.to_vec();
        copy[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, copy.iter().map(|&b| u32::from(b)).sum::<u32>());
        assert_eq!(&a[1024..1030], b"hello\n");
    }

    #[test]
    fn long_paths_use_the_prefix() {
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let a = archive(&[Entry {
            path: long,
            mode: 0o644,
            owner: (0, 0),
            content: Some(b""),
        }])
        .unwrap();
        assert_eq!(&a[345..465], "d".repeat(120).as_bytes());
        assert!(
            archive(&[Entry {
                path: "x".repeat(300),
                mode: 0o644,
                owner: (0, 0),
                content: Some(b"")
            }])
            .is_err()
        );
    }
}
