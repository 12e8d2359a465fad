//! End-to-end test of `outputFiles` patterns matched as Kestra matches them (see
//! `src/flow/output_globs.rs`), on Docker and Podman: one task writes files at the top and in
//! subdirectories, and each pattern form picks what Kestra's `PathMatcher` would.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_output_globs

#[macro_use]
mod common;

use common::{flow, task};

e2e_test!(output_patterns_pick_what_kestra_picks, |cx| {
    let kinds = [
        // (task id, pattern, files it hands out)
        ("top", "*.txt", vec!["a.txt"]),
        ("deep", "**/*.txt", vec!["d/b.txt", "d/e/c.txt"]),
        (
            "anywhere",
            "glob:**/*.txt",
            vec!["a.txt", "d/b.txt", "d/e/c.txt"],
        ),
        ("nothing", "glob:*.txt", vec![]),
        ("regex", "regex:.*/d/[a-z]\\.txt", vec!["d/b.txt"]),
        ("alternatives", "{a,x}.{txt,csv}", vec!["a.txt", "x.csv"]),
        ("class", "d/[!a].txt", vec!["d/b.txt"]),
    ];
    let tasks: Vec<String> = kinds
        .iter()
        .map(|(id, pattern, _)| {
            task(
                id,
                &format!("outputFiles:\n  - '{pattern}'"),
                "",
                &["mkdir -p d/e && echo a > a.txt && echo x > x.csv && echo b > d/b.txt && echo c > d/e/c.txt"],
            )
        })
        .collect();
    let f = cx.flow("globs", &flow("globs", &tasks));
    let run = cx.run(&f);
    run.assert_code(0);
    for (id, pattern, want) in kinds {
        let t = run.task(id);
        let mut got: Vec<String> = t["storedFiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect();
        got.sort();
        assert_eq!(got, want, "{id}: `{pattern}`\n{}", run.dump());
    }
});
