//! End to end, on Docker and Podman: the context roots known only at run time reach the
//! container rendered (`execution.startDate`, `execution.state`, `taskrun.attemptsCount`), with
//! those known before (`envs` from `ENV_*`, `globals` from `$DOCKHAND_GLOBALS`, `labels`,
//! `task.type`, `outputDir`), as the task prints them.

mod common;

use common::{flow, task};

e2e_test!(run_time_context_roots_are_rendered_in_the_container, |cx| {
    let script = [
        "echo \"start={{ execution.startDate }} state={{ execution.state }}\"",
        "echo \"attempts={{ taskrun.attemptsCount }} env={{ envs.e2e_region }} global={{ globals['db-host'] }}\"",
        "echo \"label={{ labels.team }} type={{ task.type }} out={{ outputDir }}\"",
    ];
    let text = flow("ctxroots", &[task("show", "", "", &script)]).replacen(
        "\ntasks:\n",
        "\nlabels:\n  team: data\n\ntasks:\n",
        1,
    );
    let f = cx.flow("ctxroots", &text);
    let globals = cx.tmp.path().join("globals.yaml");
    std::fs::write(&globals, "dbHost: pg.prod\n").unwrap();
    let globals = globals.display().to_string();
    let run = cx.run_with(
        &f,
        &[],
        &[
            ("ENV_E2E_REGION", "eu-west-1"),
            ("DOCKHAND_GLOBALS", &globals),
        ],
    );
    run.assert_code(0);
    let lines = run.logs("show", '|');
    let start = lines
        .iter()
        .find_map(|l| l.strip_prefix("start="))
        .unwrap_or_else(|| panic!("no start line\n{}", run.dump()));
    // An ISO-8601 instant in UTC with milliseconds, as Kestra's `Instant` prints.
    let (date, rest) = start.split_once(' ').unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(date).is_ok() && date.ends_with('Z'),
        "{date}\n{}",
        run.dump()
    );
    assert_eq!(rest, "state=RUNNING", "{}", run.dump());
    assert!(
        lines.contains(&"attempts=0 env=eu-west-1 global=pg.prod".to_string()),
        "{}",
        run.dump()
    );
    let workdir = cx.workdir("show").display().to_string();
    assert!(
        lines.contains(&format!(
            "label=data type=io.kestra.plugin.scripts.shell.Commands out={workdir}"
        )),
        "{}",
        run.dump()
    );
});
