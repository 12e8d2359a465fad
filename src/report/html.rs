//! The report as one HTML document: inline CSS, no script, no external resource. The Gantt
//! chart is laid out by the browser from percentages (a bar's left edge is its start over the
//! execution's duration, its width its duration), so it is right at any window width; each
//! bar links to its run's section, where `<details>` elements fold the logs away.

use std::fmt::Write as _;

use super::data::{Report, Run};

/// The colour of each state: the bars, the badges and the legend use the same.
pub const STATE_COLOURS: &[(&str, &str)] = &[
    ("SUCCESS", "#2e9d4f"),
    ("WARNING", "#e0a100"),
    ("FAILED", "#d1242f"),
    ("KILLED", "#6e4b9e"),
    ("SKIPPED", "#9aa4ad"),
    ("RUNNING", "#1f6feb"),
];

fn colour(state: &str) -> &'static str {
    STATE_COLOURS
        .iter()
        .find(|(s, _)| *s == state)
        .map_or("#57606a", |(_, c)| c)
}

/// `&`, `<`, `>`, `"` and `'` as entities: everything from the journal and logs is text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A duration as people read it: `850ms`, `12.4s`, `3m07s`, `2h05m`.
pub fn human(ms: u64) -> String {
    match ms {
        m if m < 1000 => format!("{m}ms"),
        m if m < 60_000 => format!("{:.1}s", m as f64 / 1000.0),
        m if m < 3_600_000 => format!("{}m{:02}s", m / 60_000, (m / 1000) % 60),
        m => format!("{}h{:02}m", m / 3_600_000, (m / 60_000) % 60),
    }
}

fn utc(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

const CSS: &str = r#"
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
body { margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: #57606a; margin-bottom: 16px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.legend span { margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; vertical-align: -1px; }
.gantt { display: grid; grid-template-columns: minmax(120px, max-content) 1fr; column-gap: 12px; row-gap: 4px; margin: 12px 0 24px; }
.label { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 360px; line-height: 18px; }
.track { position: relative; height: 18px; background: #f6f8fa; border-radius: 3px; }
.bar { position: absolute; top: 2px; height: 14px; min-width: 3px; border-radius: 3px; display: block; }
.axis { position: relative; height: 16px; font-size: 11px; color: #57606a; }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.axis span:first-child { transform: none; }
.axis span:last-child { transform: translateX(-100%); }
/* Runs off screen are not laid out until scrolled to: a report of 1,000 runs opens fast. */
section.run { border-top: 1px solid #d0d7de; padding: 8px 0; content-visibility: auto; contain-intrinsic-size: auto 160px; }
section.run > h3 { font-size: 14px; margin: 0 0 6px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 6px; font-size: 13px; }
dt { color: #57606a; }
dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; margin: 4px 0; max-height: 480px; }
summary { cursor: pointer; font-size: 13px; }
"#;

/// The whole document.
pub fn html(r: &Report) -> String {
    let mut o = String::with_capacity(
        16 * 1024 + r.runs.iter().map(|x| x.log.len() * 11 / 10).sum::<usize>(),
    );
    let total = r.duration_ms.max(1);
    let title = format!("{}.{} — execution {}", r.namespace, r.flow, r.id);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{CSS}</style></head><body>\n",
        escape(&title)
    );
    let _ = write!(
        o,
        "<h1>{}.{}</h1>\n<div class=\"meta\">execution <code id=\"execution\">{}</code> \
<span class=\"badge\" id=\"state\" data-state=\"{}\" style=\"background:{}\">{}</span> \
· started {} · {} · {} task run{} · flow file <code>{}</code></div>\n",
        escape(&r.namespace),
        escape(&r.flow),
        escape(&r.id),
        escape(&r.state),
        colour(&r.state),
        escape(&r.state),
        utc(r.start_ms),
        human(r.duration_ms),
        r.runs.len(),
        if r.runs.len() == 1 { "" } else { "s" },
        escape(&r.flow_file),
    );
    o.push_str("<div class=\"legend\">");
    for (s, c) in STATE_COLOURS {
        let _ = write!(o, "<span><i style=\"background:{c}\"></i>{s}</span>");
    }
    o.push_str("</div>\n<div class=\"gantt\" id=\"gantt\">\n");
    for (i, run) in r.runs.iter().enumerate() {
        let left = run.start_ms as f64 * 100.0 / total as f64;
        let width = (run.duration_ms as f64 * 100.0 / total as f64).min(100.0 - left);
        let _ = writeln!(
            o,
            "<div class=\"label\" title=\"{k}\">{k}{a}</div><div class=\"track\"><a class=\"bar\" href=\"#run-{i}\" \
data-key=\"{k}\" data-attempt=\"{att}\" data-state=\"{s}\" data-start-ms=\"{st}\" data-duration-ms=\"{d}\" \
title=\"{k}{a}: {s}, {hd} from +{hs}\" style=\"left:{left:.4}%;width:{width:.4}%;background:{c}\"></a></div>",
            k = escape(&run.key),
            a = if run.attempt > 1 {
                format!(" (attempt {})", run.attempt)
            } else {
                String::new()
            },
            att = run.attempt,
            s = escape(&run.state),
            st = run.start_ms,
            d = run.duration_ms,
            hd = human(run.duration_ms),
            hs = human(run.start_ms),
            c = colour(&run.state),
        );
    }
    // The axis: five ticks from 0 to the execution's duration.
    o.push_str("<div></div><div class=\"axis\">");
    for t in 0..=4u64 {
        let _ = write!(
            o,
            "<span style=\"left:{}%\">{}</span>",
            t * 25,
            human(total * t / 4)
        );
    }
    o.push_str("</div>\n</div>\n");
    for (i, run) in r.runs.iter().enumerate() {
        section(&mut o, i, run);
    }
    o.push_str("</body></html>\n");
    o
}

fn section(o: &mut String, i: usize, run: &Run) {
    let _ = write!(
        o,
        "<section class=\"run\" id=\"run-{i}\" data-key=\"{k}\"><h3>{k}{a} \
<span class=\"badge\" style=\"background:{c}\">{s}</span></h3><dl>",
        k = escape(&run.key),
        a = if run.attempt > 1 {
            format!(" · attempt {}", run.attempt)
        } else {
            String::new()
        },
        c = colour(&run.state),
        s = escape(&run.state),
    );
    let mut row = |name: &str, value: &str| {
        if !value.is_empty() {
            let _ = write!(o, "<dt>{name}</dt><dd>{}</dd>", escape(value));
        }
    };
    row("container", &run.container);
    row("container image", &run.image);
    row(
        "exit code",
        &run.exit_code.map(|c| c.to_string()).unwrap_or_default(),
    );
    row("started", &format!("+{}", human(run.start_ms)));
    row("duration", &human(run.duration_ms));
    row("message", &run.message);
    o.push_str("</dl>");
    if !run.outputs.is_empty() {
        let text = serde_json::to_string_pretty(&run.outputs).unwrap_or_default();
        let _ = write!(
            o,
            "<details open><summary>outputs ({})</summary><pre class=\"outputs\">{}</pre></details>",
            run.outputs.len(),
            escape(&text)
        );
    }
    if !run.output_files.is_empty() {
        let _ = write!(
            o,
            "<details open><summary>output files ({})</summary><pre class=\"files\">{}</pre></details>",
            run.output_files.len(),
            escape(&run.output_files.join("\n"))
        );
    }
    let _ = writeln!(
        o,
        "<details class=\"log\"><summary>log ({} line{})</summary><pre>{}</pre></details></section>",
        run.log_lines,
        if run.log_lines == 1 { "" } else { "s" },
        escape(&run.log)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_durations_read_well() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        let cases = [
            (0, "0ms"),
            (999, "999ms"),
            (1500, "1.5s"),
            (187_000, "3m07s"),
            (7_500_000, "2h05m"),
        ];
        for (ms, want) in cases {
            assert_eq!(human(ms), want);
        }
    }

    #[test]
    fn bars_are_placed_by_start_and_duration() {
        let run = |key: &str, state: &str, start_ms, duration_ms| Run {
            key: key.into(),
            attempt: 1,
            state: state.into(),
            start_ms,
            duration_ms,
            container: String::new(),
            image: String::new(),
            exit_code: None,
            message: String::new(),
            outputs: Default::default(),
            output_files: vec![],
            log: "a | <script>x</script>\n".into(),
            log_lines: 1,
        };
        let r = Report {
            id: "e".into(),
            namespace: "n".into(),
            flow: "f".into(),
            flow_file: "f.yaml".into(),
            state: "FAILED".into(),
            start_ms: 0,
            duration_ms: 4000,
            runs: vec![run("a", "SUCCESS", 0, 1000), run("b", "FAILED", 1000, 3000)],
        };
        let h = html(&r);
        assert!(
            h.contains("left:0.0000%;width:25.0000%;background:#2e9d4f"),
            "{h}"
        );
        assert!(
            h.contains("left:25.0000%;width:75.0000%;background:#d1242f"),
            "{h}"
        );
        assert!(h.contains("&lt;script&gt;x&lt;/script&gt;") && !h.contains("<script>"));
        assert!(
            !h.contains("http://") && !h.contains("https://"),
            "no external resource"
        );
    }
}
