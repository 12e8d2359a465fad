//! End-to-end tests of `dockhand report` / `run --report`, on Docker and on Podman, read in a
//! real browser: headless Chromium (Debian's `chromium`) loads the file with the network off,
//! its DOM has a bar per task run with the run's state, and its screenshot shows the bars
//! where the timeline puts them (a later task's bar starts further right, in its state's
//! colour).
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_report

#[macro_use]
mod common;

use std::path::Path;
use std::process::Command;

use common::{flow, task};

/// Chromium, headless, no network: `args` then the file's URL; (stdout, status).
fn chromium(args: &[&str], page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            // Any request off the file fails: the page must need nothing else.
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("cannot run chromium (scripts/setup-engines.sh installs it)");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The pixels of a PNG screenshot as RGB rows.
fn pixels(png_file: &Path) -> (usize, usize, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_file).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let px: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks(step)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width as usize, info.height as usize, px)
}

/// The bounding box (x0, y0, x1, y1) of the pixels of colour `hex` (`#rrggbb`), if any.
fn boxes_of(img: &(usize, usize, Vec<[u8; 3]>), hex: &str) -> Vec<(usize, usize, usize, usize)> {
    let (w, h, px) = img;
    let c = u32::from_str_radix(&hex[1..], 16).unwrap();
    let want = [(c >> 16) as u8, (c >> 8) as u8, c as u8];
    let near = |p: &[u8; 3]| p.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 6);
    // Rows holding the colour, grouped into bands of consecutive rows: one band per bar.
    let mut bands: Vec<(usize, usize, usize, usize)> = Vec::new();
    for y in 0..*h {
        let xs: Vec<usize> = (0..*w).filter(|x| near(&px[y * w + x])).collect();
        // At least a few pixels wide: not a legend swatch's edge or an anti-aliased letter.
        if xs.len() < 3 {
            continue;
        }
        let (x0, x1) = (xs[0], *xs.last().unwrap());
        match bands.last_mut() {
            Some(b) if b.3 + 1 == y => {
                b.0 = b.0.min(x0);
                b.2 = b.2.max(x1);
                b.3 = y;
            }
            _ => bands.push((x0, y, x1, y)),
        }
    }
    bands
}

e2e_test!(the_report_reads_right_in_a_real_browser, |cx| {
    let f = cx.flow(
        "rep",
        &flow(
            "rep",
            &[
                task(
                    "first",
                    "",
                    "",
                    &[
                        "echo 'hello <b>report</b>'",
                        "sleep 2",
                        "echo '::{\"outputs\":{\"rows\":42}}::'",
                    ],
                ),
                task(
                    "second",
                    "allowFailure: true",
                    "",
                    &["sleep 1", "echo failing >&2", "exit 3"],
                ),
                task("third", "", "", &["sleep 1", "echo done"]),
            ],
        ),
    );
    let report = cx.tmp.path().join("report.html");
    let run = cx.run_with(&f, &["--report", report.to_str().unwrap()], &[]);
    run.assert_code(0);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));

    // `dockhand report` writes the same file from the state directory afterwards.
    let again = cx.tmp.path().join("again.html");
    cx.dockhand(&["report", &cx.id, "-o", again.to_str().unwrap()], &[])
        .assert_code(0);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);

    // The browser's DOM: a bar per run, in start order, with its state; the task's log is
    // there as text (its `<b>` escaped, not markup); the output is shown.
    let dom = chromium(&["--dump-dom"], &report);
    let bars: Vec<(String, String)> =
        regex::Regex::new(r#"<a class="bar"[^>]*data-key="([^"]+)"[^>]*data-state="([^"]+)""#)
            .unwrap()
            .captures_iter(&dom)
            .map(|c| (c[1].to_string(), c[2].to_string()))
            .collect();
    assert_eq!(
        bars,
        [
            ("first".to_string(), "SUCCESS".to_string()),
            ("second".to_string(), "WARNING".to_string()),
            ("third".to_string(), "SUCCESS".to_string()),
        ],
        "{dom}"
    );
    assert!(
        dom.contains("first  | hello &lt;b&gt;report&lt;/b&gt;"),
        "{dom}"
    );
    assert!(dom.contains("\"rows\": 42"), "{dom}");
    assert!(dom.contains(&format!("id=\"execution\">{}</code>", cx.id)));
    assert!(dom.contains("data-state=\"SUCCESS\"") && dom.contains(">SUCCESS</span>"));

    // The screenshot: three bars on three rows, top to bottom, each starting right of the one
    // before (first ran for about 2 s, second 1 s after it, third after that).
    let shot = cx.tmp.path().join("shot.png");
    chromium(
        &[
            "--window-size=1200,700",
            &format!("--screenshot={}", shot.display()),
        ],
        &report,
    );
    let img = pixels(&shot);
    let green = boxes_of(&img, "#2e9d4f");
    let amber = boxes_of(&img, "#e0a100");
    // Bars are 14 px high; the legend's swatches and badges are other bands, smaller or
    // elsewhere: keep bands of bar height in the chart's width.
    let bar = |b: &&(usize, usize, usize, usize)| (13..=15).contains(&(b.3 - b.1 + 1));
    let green: Vec<_> = green.iter().filter(bar).copied().collect();
    let amber: Vec<_> = amber.iter().filter(bar).copied().collect();
    assert_eq!(green.len(), 2, "green bars {green:?}");
    assert_eq!(amber.len(), 1, "amber bars {amber:?}");
    let (first, third, second) = (green[0], green[1], amber[0]);
    assert!(
        first.1 < second.1 && second.1 < third.1,
        "rows out of order: {first:?} {second:?} {third:?}"
    );
    assert!(
        first.0 < second.0 && second.0 < third.0,
        "bars do not move right in time: {first:?} {second:?} {third:?}"
    );
    // first ran longest: its bar is the widest.
    assert!(first.2 - first.0 > third.2 - third.0, "{first:?} {third:?}");
});
