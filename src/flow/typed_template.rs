//! Typed properties written as templates (`cpus: "{{ inputs.cpus }}"`, `timeout: "PT{{ n }}M"`):
//! Kestra types them (`Property<Double>`, `Property<Duration>`, sizes) and renders them when the
//! task starts. The reader keeps the text instead of refusing it as not of its type; it is
//! rendered with the task's other expressions (the planner for a container task's runner, the
//! executor for the task's own `timeout` and a Pause's `delay`) and converted by [`convert`],
//! the one conversion every such property goes through, naming the property when the rendered
//! text is not of its type.
//!
//! Only the properties Kestra renders are here: `allowFailure`, `retry`, `concurrencyLimit`
//! are plain values in Kestra (`boolean`, `Duration`, `Integer`), so a template there is refused
//! when the flow is read, as Kestra refuses it.

use std::time::Duration;

use crate::flow::model::{DockerRunner, PullPolicy, ScriptTask, Task, TaskKind};
use crate::flow::runner_values;
use crate::image::ImageRef;
use crate::units;

/// A typed property whose value is a template: its path under the task (`timeout`) or under
/// `taskRunner` (`cpu.cpus`), as [`TYPED`] names it.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedTemplate {
    pub property: &'static str,
    pub text: String,
    /// The item of a list property (`volumes[1]`) this template is, when the list is written
    /// item by item; `None` for the whole value (a list template renders to a JSON list).
    pub item: Option<usize>,
}

impl TypedTemplate {
    /// The property's path under the task or runner, with the item (`volumes[1]`).
    pub fn path(&self) -> String {
        match self.item {
            Some(i) => format!("{}[{i}]", self.property),
            None => self.property.to_string(),
        }
    }
}

/// What a rendered text must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number of CPUs, more than 0 (`--cpus`).
    Cpus,
    /// Bytes, with Kestra's or Docker's units.
    Size,
    /// An ISO-8601 duration more than zero (a task's `timeout`).
    Timeout,
    /// An ISO-8601 duration, zero allowed (a Pause's `delay`).
    Duration,
    /// A text (the property's value check, if any, judges it).
    Text,
    /// `true` or `false`.
    Bool,
    /// An integer from 0 to 100 (`memorySwappiness`).
    Percent,
    /// A size, or -1 for unlimited (`memorySwap`).
    Swap,
    /// An image pull policy (`IF_NOT_PRESENT`, `ALWAYS`, `NEVER`).
    Pull,
    /// A list of texts: the rendered text is a JSON list of strings (each checked by the
    /// property's value check); an item written as its own template is a [`Kind::Text`].
    List,
}

/// A converted value.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Number(f64),
    Bytes(u64),
    Duration(Duration),
    Text(String),
    Bool(bool),
    Int(i64),
    Pull(PullPolicy),
    List(Vec<String>),
}

/// Where a typed property lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Task,
    Runner,
}

/// One property Kestra types and renders.
#[derive(Debug, Clone, Copy)]
pub struct TypedProperty {
    pub property: &'static str,
    pub on: On,
    pub kind: Kind,
    /// The value check a text (or each item of a list) passes, as when written plainly.
    pub check: Option<Check>,
}

/// A value check from [`runner_values`]: the value, or why it is refused.
pub type Check = fn(&str) -> Result<(), String>;

const fn runner(property: &'static str, kind: Kind) -> TypedProperty {
    TypedProperty {
        property,
        on: On::Runner,
        kind,
        check: None,
    }
}

const fn checked(property: &'static str, kind: Kind, check: Check) -> TypedProperty {
    TypedProperty {
        check: Some(check),
        ..runner(property, kind)
    }
}

/// The typed properties that may be templates.
pub const TYPED: &[TypedProperty] = &[
    runner("cpu.cpus", Kind::Cpus),
    runner("memory.memory", Kind::Size),
    runner("memory.memorySwap", Kind::Swap),
    runner("memory.memoryReservation", Kind::Size),
    runner("memory.kernelMemory", Kind::Size),
    runner("memory.memorySwappiness", Kind::Percent),
    runner("memory.oomKillDisable", Kind::Bool),
    runner("shmSize", Kind::Size),
    checked("user", Kind::Text, runner_values::user),
    checked("networkMode", Kind::Text, runner_values::network_mode),
    runner("pullPolicy", Kind::Pull),
    runner("privileged", Kind::Bool),
    runner("wait", Kind::Bool),
    runner("delete", Kind::Bool),
    runner("entryPoint", Kind::List),
    checked("volumes", Kind::List, runner_values::volume),
    checked("extraHosts", Kind::List, runner_values::extra_host),
    checked("portBindings", Kind::List, runner_values::port_binding),
    TypedProperty {
        property: "containerImage",
        on: On::Task,
        kind: Kind::Text,
        check: Some(image),
    },
    TypedProperty {
        property: "timeout",
        on: On::Task,
        kind: Kind::Timeout,
        check: None,
    },
    TypedProperty {
        property: "delay",
        on: On::Task,
        kind: Kind::Duration,
        check: None,
    },
];

/// `containerImage`: an image reference.
fn image(s: &str) -> Result<(), String> {
    ImageRef::parse(s).map(|_| ())
}

fn described(property: &str) -> Option<&'static TypedProperty> {
    TYPED.iter().find(|p| p.property == property)
}

/// The kind of the typed property whose key is `name` (`user`, `memorySwap`), if one may be a
/// template (the schema takes a template there).
pub fn kind_of_key(name: &str) -> Option<Kind> {
    TYPED
        .iter()
        .find(|p| p.property.rsplit('.').next() == Some(name))
        .map(|p| p.kind)
}

/// Whether a scalar's text is a template (it holds an expression or a tag).
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// The property as the error names it (`taskRunner.cpu.cpus`, `timeout`).
pub fn shown(property: &str) -> String {
    match described(property) {
        Some(p) if p.on == On::Runner => format!("taskRunner.{property}"),
        _ => property.to_string(),
    }
}

/// Reads `rendered` as a value of `kind`, or says what was expected.
pub fn convert_kind(kind: Kind, rendered: &str) -> Result<Typed, String> {
    let t = rendered.trim();
    match kind {
        Kind::Cpus => t
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(Typed::Number)
            .ok_or_else(|| "a number of CPUs more than 0".to_string()),
        Kind::Size => units::parse_size(t)
            .map(Typed::Bytes)
            .map_err(|e| format!("a size ({e})")),
        Kind::Timeout | Kind::Duration => match units::parse_duration(t) {
            Ok(d) if d.is_zero() && kind == Kind::Timeout => {
                Err("an ISO-8601 duration more than zero (a timeout of zero would stop the task at once)".to_string())
            }
            Ok(d) => Ok(Typed::Duration(d)),
            Err(_) => Err("an ISO-8601 duration such as PT30S, PT5M or P1D".to_string()),
        },
        Kind::Text => Ok(Typed::Text(t.to_string())),
        Kind::Bool => match t {
            "true" => Ok(Typed::Bool(true)),
            "false" => Ok(Typed::Bool(false)),
            _ => Err("`true` or `false`".to_string()),
        },
        Kind::Percent => t
            .parse::<i64>()
            .ok()
            .filter(|v| (0..=100).contains(v))
            .map(Typed::Int)
            .ok_or_else(|| "an integer between 0 and 100".to_string()),
        Kind::Swap if t == "-1" => Ok(Typed::Int(-1)),
        Kind::Swap => units::parse_size(t)
            .map(|b| Typed::Int(b as i64))
            .map_err(|e| format!("a size or -1 for unlimited swap ({e})")),
        Kind::Pull => PullPolicy::parse(t)
            .map(Typed::Pull)
            .ok_or_else(|| format!("one of {}", PullPolicy::NAMES.join(", "))),
        Kind::List => serde_json::from_str::<Vec<String>>(t)
            .map(Typed::List)
            .map_err(|_| "a list of strings (a JSON list such as [\"a\", \"b\"])".to_string()),
    }
}

/// [`convert_kind`] for property `p` (an item of a list when `item`), then `p`'s value check.
fn convert_property(p: &TypedProperty, item: bool, rendered: &str) -> Result<Typed, String> {
    let kind = if item { Kind::Text } else { p.kind };
    let v = convert_kind(kind, rendered).map_err(|what| format!("expected {what}"))?;
    if let Some(check) = p.check {
        match &v {
            Typed::Text(s) => check(s)?,
            Typed::List(xs) => xs.iter().try_for_each(|x| check(x))?,
            _ => {}
        }
    }
    Ok(v)
}

/// Converts `rendered`, the rendered text of `t.text`, to the type of `t.property`, or says why
/// it cannot, naming the property, the template and what it rendered as.
pub fn convert(t: &TypedTemplate, rendered: &str) -> Result<Typed, String> {
    convert_unnamed(t, rendered).map_err(|e| format!("`{}`: {e}", shown_item(t)))
}

/// [`shown`] with the item of a list (`taskRunner.volumes[0]`).
pub fn shown_item(t: &TypedTemplate) -> String {
    match t.item {
        Some(i) => format!("{}[{i}]", shown(t.property)),
        None => shown(t.property),
    }
}

/// [`convert`] without the property's name (for an error that names it already).
pub fn convert_unnamed(t: &TypedTemplate, rendered: &str) -> Result<Typed, String> {
    let p =
        described(t.property).ok_or_else(|| "this property cannot be a template".to_string())?;
    convert_property(p, t.item.is_some(), rendered)
        .map_err(|what| format!("{what}, but `{}` rendered as `{rendered}`", t.text))
}

/// Sets runner property `t.property` from `rendered` (see [`convert`]).
pub fn apply_runner(
    runner: &mut DockerRunner,
    t: &TypedTemplate,
    rendered: &str,
) -> Result<(), String> {
    let m = &mut runner.memory;
    match (t.property, t.item, convert(t, rendered)?) {
        ("cpu.cpus", _, Typed::Number(v)) => runner.cpus = Some(v),
        ("memory.memory", _, Typed::Bytes(b)) => m.memory = Some(b),
        ("memory.memorySwap", _, Typed::Int(b)) => m.memory_swap = Some(b),
        ("memory.memoryReservation", _, Typed::Bytes(b)) => m.memory_reservation = Some(b),
        ("memory.kernelMemory", _, Typed::Bytes(b)) => m.kernel_memory = Some(b),
        ("memory.memorySwappiness", _, Typed::Int(v)) => m.memory_swappiness = Some(v as u8),
        ("memory.oomKillDisable", _, Typed::Bool(b)) => m.oom_kill_disable = Some(b),
        ("shmSize", _, Typed::Bytes(b)) => runner.shm_size = Some(b),
        ("user", _, Typed::Text(s)) => runner.user = Some(s),
        ("networkMode", _, Typed::Text(s)) => runner.network_mode = Some(s),
        ("pullPolicy", _, Typed::Pull(p)) => runner.pull_policy = p,
        ("privileged", _, Typed::Bool(b)) => runner.privileged = Some(b),
        ("wait", _, Typed::Bool(b)) => runner.wait = b,
        ("delete", _, Typed::Bool(b)) => runner.delete = b,
        (list, item, v)
            if matches!(
                list,
                "entryPoint" | "volumes" | "extraHosts" | "portBindings"
            ) =>
        {
            let l = match list {
                "entryPoint" => &mut runner.entry_point,
                "volumes" => &mut runner.volumes,
                "extraHosts" => &mut runner.extra_hosts,
                _ => &mut runner.port_bindings,
            };
            match (item, v) {
                (Some(i), Typed::Text(s)) if i < l.len() => l[i] = s,
                (None, Typed::List(xs)) => *l = xs,
                _ => return Err(format!("`{}` is not a list item", shown_item(t))),
            }
        }
        (other, _, _) => return Err(format!("`{}` is not a runner property", shown(other))),
    }
    Ok(())
}

/// Sets property `t.property` of a container task (its `containerImage`, or its runner's, see
/// [`apply_runner`]) from `rendered`.
pub fn apply_script(
    task: &mut ScriptTask,
    t: &TypedTemplate,
    rendered: &str,
) -> Result<(), String> {
    if t.property != "containerImage" {
        return apply_runner(&mut task.runner, t, rendered);
    }
    match convert(t, rendered)? {
        Typed::Text(s) => task.container_image = ImageRef::parse(&s)?,
        _ => return Err("`containerImage` is not a text".to_string()),
    }
    Ok(())
}

/// Sets task property `t.property` of `task` from `rendered` (see [`convert`]).
pub fn apply_task(task: &mut Task, t: &TypedTemplate, rendered: &str) -> Result<(), String> {
    match (t.property, convert(t, rendered)?, &mut task.kind) {
        ("timeout", Typed::Duration(d), _) => task.timeout = Some(d),
        ("delay", Typed::Duration(d), TaskKind::Pause { delay, .. }) => *delay = Some(d),
        (other, _, _) => return Err(format!("`{other}` is not a property of this task")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &'static str) -> TypedTemplate {
        TypedTemplate {
            property: p,
            text: "{{ inputs.x }}".into(),
            item: None,
        }
    }

    #[test]
    fn rendered_text_is_converted_or_refused_naming_the_property() {
        let mut r = DockerRunner::default();
        apply_runner(&mut r, &t("cpu.cpus"), " 1.5 ").unwrap();
        assert_eq!(r.cpus, Some(1.5));
        apply_runner(&mut r, &t("memory.memory"), "512MB").unwrap();
        assert_eq!(r.memory.memory, Some(512 * 1024 * 1024));
        apply_runner(&mut r, &t("shmSize"), "64M").unwrap();
        assert_eq!(r.shm_size, Some(64 * 1024 * 1024));
        let e = apply_runner(&mut r, &t("cpu.cpus"), "two").unwrap_err();
        assert!(
            e.contains("`taskRunner.cpu.cpus`") && e.contains("rendered as `two`"),
            "{e}"
        );
        assert!(apply_runner(&mut r, &t("cpu.cpus"), "0").is_err());
        let e = apply_runner(&mut r, &t("memory.memory"), "lots").unwrap_err();
        assert!(
            e.contains("`taskRunner.memory.memory`: expected a size"),
            "{e}"
        );
    }

    /// Every kind over the texts a template may render to.
    #[test]
    fn one_conversion_per_kind() {
        use Kind::*;
        let s = std::time::Duration::from_secs;
        for (kind, text, want) in [
            (Cpus, "2", Some(Typed::Number(2.0))),
            (Cpus, "0.25\n", Some(Typed::Number(0.25))),
            (Cpus, "-1", None),
            (Cpus, "NaN", None),
            (Size, "1GB", Some(Typed::Bytes(1 << 30))),
            (Size, "512m", Some(Typed::Bytes(512 << 20))),
            (Size, "", None),
            (Timeout, "PT5M", Some(Typed::Duration(s(300)))),
            (Timeout, " PT1H30M\n", Some(Typed::Duration(s(5400)))),
            (Timeout, "P1D", Some(Typed::Duration(s(86400)))),
            (Timeout, "PT0S", None),
            (Timeout, "5m", None),
            (Timeout, "", None),
            (Duration, "PT0S", Some(Typed::Duration(s(0)))),
            (Duration, "PT2S", Some(Typed::Duration(s(2)))),
            (Duration, "soon", None),
        ] {
            assert_eq!(convert_kind(kind, text).ok(), want, "{kind:?} {text:?}");
        }
    }

    #[test]
    fn a_task_timeout_and_a_pause_delay_are_set_from_their_text() {
        let mut task = Task {
            id: "p".into(),
            path: "tasks[0]".into(),
            pos: Default::default(),
            description: None,
            timeout: None,
            allow_failure: false,
            disabled: false,
            kind: TaskKind::Pause {
                delay: None,
                tasks: vec![],
            },
            control: Default::default(),
        };
        apply_task(&mut task, &t("timeout"), "PT10M").unwrap();
        assert_eq!(task.timeout, Some(Duration::from_secs(600)));
        apply_task(&mut task, &t("delay"), "PT3S").unwrap();
        assert!(matches!(task.kind, TaskKind::Pause { delay: Some(d), .. } if d.as_secs() == 3));
        let e = apply_task(&mut task, &t("timeout"), "ten minutes").unwrap_err();
        assert!(
            e.starts_with("`timeout`: expected an ISO-8601 duration")
                && e.contains("but `{{ inputs.x }}` rendered as `ten minutes`"),
            "{e}"
        );
        assert!(apply_task(&mut task, &t("timeout"), "PT0S").is_err());
    }

    /// The runner's other Property<…> kinds: texts with their value check, enums, booleans,
    /// sizes, integers and lists (a JSON list, or one item).
    #[test]
    fn runner_properties_of_every_kind_are_set_and_checked() {
        let mut r = DockerRunner::default();
        for (p, text) in [
            ("user", "1000:1000"),
            ("networkMode", "bridge"),
            ("pullPolicy", "NEVER"),
            ("privileged", "false"),
            ("wait", " true\n"),
            ("memory.memorySwap", "-1"),
            ("memory.memoryReservation", "268435456"),
            ("memory.kernelMemory", "256MB"),
            ("memory.memorySwappiness", "60"),
            ("memory.oomKillDisable", "true"),
            ("entryPoint", r#"["/bin/sh", "-c"]"#),
            ("extraHosts", r#"["custom.local:127.0.0.1"]"#),
        ] {
            apply_runner(&mut r, &t(p), text).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
        assert_eq!(r.user.as_deref(), Some("1000:1000"));
        assert_eq!(r.network_mode.as_deref(), Some("bridge"));
        assert_eq!(r.pull_policy, PullPolicy::Never);
        assert_eq!(r.privileged, Some(false));
        assert!(r.wait);
        assert_eq!(r.memory.memory_swap, Some(-1));
        assert_eq!(r.memory.memory_reservation, Some(268435456));
        assert_eq!(r.memory.kernel_memory, Some(256 << 20));
        assert_eq!(r.memory.memory_swappiness, Some(60));
        assert_eq!(r.memory.oom_kill_disable, Some(true));
        assert_eq!(r.entry_point, ["/bin/sh", "-c"]);
        assert_eq!(r.extra_hosts, ["custom.local:127.0.0.1"]);
        // One item of a list written as its own template.
        r.volumes = vec!["{{ v }}".into(), "/b:/b".into()];
        let item = TypedTemplate {
            item: Some(0),
            ..t("volumes")
        };
        apply_runner(&mut r, &item, "/a:/a:ro").unwrap();
        assert_eq!(r.volumes, ["/a:/a:ro", "/b:/b"]);
        for (p, item, text, want) in [
            ("user", None, "1000:", "`taskRunner.user`: user `1000:`"),
            (
                "networkMode",
                None,
                "container:",
                "`taskRunner.networkMode`: network mode",
            ),
            (
                "pullPolicy",
                None,
                "SOMETIMES",
                "expected one of IF_NOT_PRESENT, ALWAYS, NEVER",
            ),
            (
                "privileged",
                None,
                "yes",
                "`taskRunner.privileged`: expected `true` or `false`",
            ),
            ("memory.memorySwappiness", None, "101", "between 0 and 100"),
            ("memory.memorySwap", None, "-2", "a size or -1"),
            ("entryPoint", None, "/bin/sh", "expected a list of strings"),
            (
                "extraHosts",
                None,
                r#"["nocolon"]"#,
                "`taskRunner.extraHosts`:",
            ),
            (
                "volumes",
                Some(0),
                "relative",
                "`taskRunner.volumes[0]`: volume `relative`",
            ),
        ] {
            let tt = TypedTemplate { item, ..t(p) };
            let e = apply_runner(&mut r, &tt, text).unwrap_err();
            assert!(e.contains(want) && e.contains("rendered as"), "{p}: {e}");
        }
    }

    #[test]
    fn a_templated_container_image_is_checked_once_rendered() {
        let c = t("containerImage");
        assert_eq!(
            convert(&c, " alpine:latest\n"),
            Ok(Typed::Text("alpine:latest".into()))
        );
        let e = convert(&c, "Bad Image").unwrap_err();
        assert!(
            e.starts_with("`containerImage`: invalid image reference"),
            "{e}"
        );
    }
}
