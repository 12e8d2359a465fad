//! Typed runner properties written as templates (`cpus: "{{ inputs.cpus }}"`): Kestra types
//! them (`Property<Double>`, sizes) and renders them when the task starts. The reader keeps the
//! text instead of refusing it as not a number; the planner renders it with the task's other
//! expressions and converts it with [`convert`], naming the property when the rendered text is
//! not of its type.

use crate::flow::model::DockerRunner;
use crate::units;

/// A typed property whose value is a template, by its path under `taskRunner` (`cpu.cpus`).
#[derive(Debug, Clone, PartialEq)]
pub struct TypedTemplate {
    pub property: &'static str,
    pub text: String,
}

/// The typed runner properties that may be templates.
pub const TYPED: &[&str] = &["cpu.cpus", "memory.memory", "shmSize"];

/// Whether a scalar's text is a template (it holds an expression or a tag).
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// Sets property `t.property` of `runner` from `rendered`, the rendered text of `t.text`, or
/// says why it cannot, naming the property, the template and what it rendered as.
pub fn convert(runner: &mut DockerRunner, t: &TypedTemplate, rendered: &str) -> Result<(), String> {
    let fail = |what: &str| {
        format!(
            "`taskRunner.{}`: expected {what}, but `{}` rendered as `{rendered}`",
            t.property, t.text
        )
    };
    match t.property {
        "cpu.cpus" => {
            let v: f64 = rendered
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0)
                .ok_or_else(|| fail("a number of CPUs more than 0"))?;
            runner.cpus = Some(v);
        }
        "memory.memory" => {
            runner.memory.memory =
                Some(units::parse_size(rendered).map_err(|e| fail(&format!("a size ({e})")))?);
        }
        "shmSize" => {
            runner.shm_size =
                Some(units::parse_size(rendered).map_err(|e| fail(&format!("a size ({e})")))?);
        }
        other => return Err(format!("`taskRunner.{other}` cannot be a template")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_text_is_converted_or_refused_naming_the_property() {
        let mut r = DockerRunner::default();
        let t = |p: &'static str| TypedTemplate {
            property: p,
            text: "{{ inputs.x }}".into(),
        };
        convert(&mut r, &t("cpu.cpus"), " 1.5 ").unwrap();
        assert_eq!(r.cpus, Some(1.5));
        convert(&mut r, &t("memory.memory"), "512MB").unwrap();
        assert_eq!(r.memory.memory, Some(512 * 1024 * 1024));
        convert(&mut r, &t("shmSize"), "64M").unwrap();
        assert_eq!(r.shm_size, Some(64 * 1024 * 1024));
        let e = convert(&mut r, &t("cpu.cpus"), "two").unwrap_err();
        assert!(
            e.contains("`taskRunner.cpu.cpus`") && e.contains("rendered as `two`"),
            "{e}"
        );
        assert!(convert(&mut r, &t("cpu.cpus"), "0").is_err());
        let e = convert(&mut r, &t("memory.memory"), "lots").unwrap_err();
        assert!(
            e.contains("`taskRunner.memory.memory`: expected a size"),
            "{e}"
        );
    }
}
