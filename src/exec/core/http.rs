//! `http.Request` and `http.Download` (also under their `io.kestra.plugin.fs.http.*` names):
//! one request with reqwest (rustls, with the Mozilla root certificates of webpki-roots),
//! Kestra's outputs, and a response code of 400 or more failing the task unless `allowFailed`.
//! A download streams the body to a file of the execution (`WORK_DIR/EXECUTION/TASK/NAME`),
//! whose `file://` URL is the output `uri`.

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use tokio::io::AsyncWriteExt as _;

use super::Done;
use crate::exec::result::{Failure, State};
use crate::exec::{Cancel, Runtime};
use crate::flow::core_task::HttpCall;
use crate::plan::scope::TextRenderer;

/// A request with its texts rendered, and where a download goes.
pub(super) struct Prepared {
    call: HttpCall,
    download: Option<Download>,
}

struct Download {
    dir: Utf8PathBuf,
    fail_on_empty: bool,
}

/// Renders the request's texts (the synchronous part).
pub(super) fn prepare(
    call: &HttpCall,
    download: Option<(bool, &Utf8Path)>,
    r: &mut TextRenderer,
) -> Result<Prepared, String> {
    let mut c = call.clone();
    c.uri = r.text(&c.uri)?;
    if let Some(b) = &c.body {
        c.body = Some(r.text(b)?);
    }
    if let Some(t) = &c.content_type {
        c.content_type = Some(r.text(t)?);
    }
    for v in c.headers.values_mut().chain(c.form_data.values_mut()) {
        *v = r.text(v)?;
    }
    if let Some((u, p)) = &c.basic_auth {
        c.basic_auth = Some((r.text(u)?, r.text(p)?));
    }
    Ok(Prepared {
        call: c,
        download: download.map(|(fail_on_empty, dir)| Download {
            dir: dir.to_path_buf(),
            fail_on_empty,
        }),
    })
}

/// Does a code end the task FAILED? Kestra's client throws on every code of 400 or more.
pub(super) fn failed_code(code: u16, allow_failed: bool) -> bool {
    code >= 400 && !allow_failed
}

/// The file name of a download: Content-Disposition's `filename` (its last path part), else the
/// URL's last path segment, else `download`. Never a path, never `.` or `..`.
pub(super) fn file_name(content_disposition: Option<&str>, uri: &str) -> String {
    let from_header = content_disposition.and_then(|cd| {
        let mut name = None;
        for part in cd.split(';').map(str::trim) {
            if let Some(v) = part.strip_prefix("filename*=") {
                // RFC 5987: CHARSET'LANG'NAME
                name = v.rsplit('\'').next().map(str::to_string);
            } else if let Some(v) = part.strip_prefix("filename=")
                && name.is_none()
            {
                name = Some(v.trim_matches('"').to_string());
            }
        }
        name
    });
    let from_uri = || {
        let path = uri.split(['?', '#']).next().unwrap_or_default();
        let after_host = path.split_once("://").map_or(path, |(_, r)| r);
        after_host
            .split_once('/')
            .and_then(|(_, p)| p.rsplit('/').next())
            .map(str::to_string)
    };
    let name = from_header.or_else(from_uri).unwrap_or_default();
    let last = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_string();
    if last.is_empty() || last == "." || last == ".." {
        "download".to_string()
    } else {
        last
    }
}

fn client(c: &HttpCall) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().redirect(if c.follow_redirects {
        reqwest::redirect::Policy::limited(10)
    } else {
        reqwest::redirect::Policy::none()
    });
    if let Some(t) = c.connect_timeout {
        b = b.connect_timeout(t);
    }
    if let Some(t) = c.read_timeout {
        b = b.read_timeout(t);
    }
    b.build()
        .map_err(|e| format!("cannot make the HTTP client: {e}"))
}

fn request(c: &HttpCall) -> Result<reqwest::RequestBuilder, String> {
    let method = reqwest::Method::from_bytes(c.method.as_bytes())
        .map_err(|_| format!("invalid HTTP method `{}`", c.method))?;
    let url = reqwest::Url::parse(&c.uri).map_err(|e| format!("invalid URI `{}`: {e}", c.uri))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "URI `{}`: only http and https are supported",
            c.uri
        ));
    }
    let mut rb = client(c)?.request(method, url);
    for (k, v) in &c.headers {
        rb = rb.header(k, v);
    }
    if let Some((u, p)) = &c.basic_auth {
        rb = rb.basic_auth(u, Some(p));
    }
    if !c.form_data.is_empty() {
        if c.content_type.as_deref() == Some("multipart/form-data") {
            return Err("formData as multipart/form-data is not supported by dockhand; leave contentType out to send the form urlencoded".into());
        }
        rb = rb.form(&c.form_data);
    } else if let Some(b) = &c.body {
        rb = rb
            .header(
                reqwest::header::CONTENT_TYPE,
                c.content_type.as_deref().unwrap_or("application/json"),
            )
            .body(b.clone());
    } else if let Some(t) = &c.content_type {
        rb = rb.header(reqwest::header::CONTENT_TYPE, t);
    }
    Ok(rb)
}

/// Response headers as Kestra gives them: each name (lowercase) to its list of values.
fn headers(h: &reqwest::header::HeaderMap) -> Json {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in h {
        out.entry(k.as_str().to_string())
            .or_default()
            .push(String::from_utf8_lossy(v.as_bytes()).into_owned());
    }
    json!(out)
}

fn http_failure(code: u16, reason: &str) -> Done {
    Done::failed(format!(
        "HTTP request failed with response code {code}{}",
        if reason.is_empty() {
            String::new()
        } else {
            format!(" ({reason})")
        }
    ))
}

/// Sends the request (and stores a download); Ctrl-C or SIGTERM ends it KILLED.
pub(super) async fn run(rt: &Runtime, p: Prepared) -> Done {
    let mut cancel = rt.cancel.clone();
    tokio::select! {
        d = exchange(p) => d.unwrap_or_else(Done::failed),
        _ = cancel.wait_for(|c| *c != Cancel::No) => Done {
            state: State::Killed,
            message: Some("cancelled during the HTTP request".into()),
            failure: Some(Failure::Cancelled),
            ..Done::success()
        },
    }
}

async fn exchange(p: Prepared) -> Result<Done, String> {
    let c = &p.call;
    let resp = request(c)?
        .send()
        .await
        .map_err(|e| format!("HTTP {} {}: {}", c.method, c.uri, error_chain(&e)))?;
    let code = resp.status().as_u16();
    let reason = resp.status().canonical_reason().unwrap_or_default();
    if failed_code(code, c.allow_failed) {
        return Ok(http_failure(code, reason));
    }
    let hdrs = headers(resp.headers());
    let mut out: BTreeMap<String, Json> = BTreeMap::new();
    out.insert("code".into(), json!(code));
    out.insert("headers".into(), hdrs);
    out.insert("uri".into(), json!(c.uri));
    let Some(dl) = p.download else {
        let body = resp
            .text()
            .await
            .map_err(|e| format!("reading the response of {}: {}", c.uri, error_chain(&e)))?;
        out.insert("body".into(), json!(body));
        return Ok(Done::with_outputs(out));
    };
    let expected = resp.content_length();
    let cd = resp
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let name = file_name(cd.as_deref(), &c.uri);
    tokio::fs::create_dir_all(&dl.dir)
        .await
        .map_err(|e| format!("cannot create {}: {e}", dl.dir))?;
    let path = dl.dir.join(&name);
    let length = write_body(resp, &path, &c.uri).await?;
    if let Some(n) = expected
        && n != length
    {
        return Err(format!("Invalid size, got {length}, expected {n}"));
    }
    let mut done = Done::with_outputs(out);
    if length == 0 {
        if dl.fail_on_empty && !c.allow_failed {
            return Ok(Done::failed("No response from server: the body is empty"));
        }
        done.message = Some(format!("File '{}' is empty", c.uri));
    }
    done.outputs.insert("length".into(), json!(length));
    done.outputs
        .insert("uri".into(), json!(format!("file://{path}")));
    Ok(done)
}

/// Streams the body into `path` (written next to it first, renamed when complete).
async fn write_body(
    mut resp: reqwest::Response,
    path: &Utf8Path,
    uri: &str,
) -> Result<u64, String> {
    let part = path.with_file_name(format!(".{}.part", path.file_name().unwrap_or("download")));
    let mut f = tokio::fs::File::create(&part)
        .await
        .map_err(|e| format!("cannot write {part}: {e}"))?;
    let mut n = 0u64;
    loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => {
                n += bytes.len() as u64;
                f.write_all(&bytes)
                    .await
                    .map_err(|e| format!("cannot write {part}: {e}"))?;
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(format!("downloading {uri}: {}", error_chain(&e)));
            }
        }
    }
    f.flush()
        .await
        .map_err(|e| format!("cannot write {part}: {e}"))?;
    drop(f);
    tokio::fs::rename(&part, path)
        .await
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok(n)
}

/// An error with its causes (reqwest's own message is often only "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_that_fail() {
        for (code, allow, fails) in [
            (200, false, false),
            (204, false, false),
            (302, false, false),
            (399, false, false),
            (400, false, true),
            (404, false, true),
            (500, false, true),
            (404, true, false),
            (503, true, false),
        ] {
            assert_eq!(failed_code(code, allow), fails, "{code} {allow}");
        }
    }

    #[test]
    fn download_file_names() {
        for (cd, uri, want) in [
            (None, "http://h/a/b/data.csv", "data.csv"),
            (None, "http://h/a/b/data.csv?x=1#f", "data.csv"),
            (None, "http://h", "download"),
            (None, "http://h/", "download"),
            (
                Some("attachment; filename=\"r.json\""),
                "http://h/x",
                "r.json",
            ),
            (Some("attachment; filename=r.json"), "http://h/x", "r.json"),
            (
                Some("attachment; filename*=UTF-8''caf%C3%A9.txt"),
                "http://h/x",
                "caf%C3%A9.txt",
            ),
            (
                Some("attachment; filename=\"../../etc/passwd\""),
                "http://h/x",
                "passwd",
            ),
            (
                Some("attachment; filename=\"..\""),
                "http://h/x",
                "download",
            ),
            (Some("inline"), "http://h/x/y.bin", "y.bin"),
        ] {
            assert_eq!(file_name(cd, uri), want, "{cd:?} {uri}");
        }
    }
}
