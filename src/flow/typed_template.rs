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

use crate::flow::model::{DockerRunner, Task, TaskKind};
use crate::units;

/// A typed property whose value is a template: its path under the task (`timeout`) or under
/// `taskRunner` (`cpu.cpus`), as [`TYPED`] names it.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedTemplate {
    pub property: &'static str,
    pub text: String,
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
}

/// A converted value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Typed {
    Number(f64),
    Bytes(u64),
    Duration(Duration),
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
}

/// The typed properties that may be templates.
pub const TYPED: &[TypedProperty] = &[
    TypedProperty {
        property: "cpu.cpus",
        on: On::Runner,
        kind: Kind::Cpus,
    },
    TypedProperty {
        property: "memory.memory",
        on: On::Runner,
        kind: Kind::Size,
    },
    TypedProperty {
        property: "shmSize",
        on: On::Runner,
        kind: Kind::Size,
    },
    TypedProperty {
        property: "timeout",
        on: On::Task,
        kind: Kind::Timeout,
    },
    TypedProperty {
        property: "delay",
        on: On::Task,
        kind: Kind::Duration,
    },
];

fn described(property: &str) -> Option<&'static TypedProperty> {
    TYPED.iter().find(|p| p.property == property)
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
    }
}

/// Converts `rendered`, the rendered text of `t.text`, to the type of `t.property`, or says why
/// it cannot, naming the property, the template and what it rendered as.
pub fn convert(t: &TypedTemplate, rendered: &str) -> Result<Typed, String> {
    convert_unnamed(t, rendered).map_err(|e| format!("`{}`: {e}", shown(t.property)))
}

/// [`convert`] without the property's name (for an error that names it already).
pub fn convert_unnamed(t: &TypedTemplate, rendered: &str) -> Result<Typed, String> {
    let p =
        described(t.property).ok_or_else(|| "this property cannot be a template".to_string())?;
    convert_kind(p.kind, rendered)
        .map_err(|what| format!("expected {what}, but `{}` rendered as `{rendered}`", t.text))
}

/// Sets runner property `t.property` from `rendered` (see [`convert`]).
pub fn apply_runner(
    runner: &mut DockerRunner,
    t: &TypedTemplate,
    rendered: &str,
) -> Result<(), String> {
    match (t.property, convert(t, rendered)?) {
        ("cpu.cpus", Typed::Number(v)) => runner.cpus = Some(v),
        ("memory.memory", Typed::Bytes(b)) => runner.memory.memory = Some(b),
        ("shmSize", Typed::Bytes(b)) => runner.shm_size = Some(b),
        (other, _) => return Err(format!("`{}` is not a runner property", shown(other))),
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
}
