//! The names and argument lists of every filter, function and test the engine knows (Pebble's
//! core ones and Kestra's), used both to bind call arguments by name and to check calls
//! statically: an unknown name or a wrong number of arguments is found before anything runs.

use super::ast::{Args, Span};
use super::error::{Error, ErrorKind, Result};

/// One callable's signature: its argument names in order, how many are required, and whether
/// it takes any number of positional arguments (Pebble's `max`/`min`).
#[derive(Debug, Clone, Copy)]
pub struct Sig {
    pub name: &'static str,
    pub args: &'static [&'static str],
    pub required: usize,
    pub variadic: bool,
    /// Kestra has it but dockhand does not: the reason, given at validation.
    pub missing: Option<&'static str>,
}

const fn s(name: &'static str, args: &'static [&'static str], required: usize) -> Sig {
    Sig {
        name,
        args,
        required,
        variadic: false,
        missing: None,
    }
}
const fn ni(name: &'static str, args: &'static [&'static str], why: &'static str) -> Sig {
    Sig {
        name,
        args,
        required: 0,
        variadic: true,
        missing: Some(why),
    }
}
const DATE: &[&str] = &["format", "timeZone", "existingFormat", "locale"];

pub const FILTERS: &[Sig] = &[
    // Pebble core
    s("abbreviate", &["length"], 1),
    s("abs", &[], 0),
    s("base64decode", &[], 0),
    s("base64encode", &[], 0),
    s("capitalize", &[], 0),
    s("date", DATE, 0),
    s("default", &["default"], 1),
    s("escape", &["strategy"], 0),
    s("first", &[], 0),
    s("join", &["separator"], 0),
    s("last", &[], 0),
    s("length", &[], 0),
    s("lower", &[], 0),
    s("merge", &["items"], 1),
    s("nl2br", &[], 0),
    s("numberformat", &["format"], 1),
    // Kestra's own tests spell it this way (PebbleVariableRendererTest.numberFormat).
    s("numberFormat", &["format"], 1),
    s("raw", &[], 0),
    s("replace", &["replace_pairs", "regexp"], 1),
    s("reverse", &[], 0),
    s("rsort", &[], 0),
    s("sha256", &[], 0),
    s("slice", &["fromIndex", "toIndex"], 0),
    s("sort", &[], 0),
    s("split", &["delimiter", "limit"], 1),
    s("title", &[], 0),
    s("trim", &[], 0),
    s("upper", &[], 0),
    s("urlencode", &[], 0),
    // Kestra
    s("chunk", &["size"], 1),
    s("className", &[], 0),
    s(
        "dateAdd",
        &[
            "amount",
            "unit",
            "format",
            "timeZone",
            "existingFormat",
            "locale",
        ],
        2,
    ),
    s("distinct", &[], 0),
    s("endsWith", &["suffix"], 1),
    s("escapeChar", &["type"], 1),
    s("flatten", &["separator"], 0),
    s("indent", &["amount", "prefix"], 1),
    s("jq", &["expression"], 1),
    // Removed from Kestra in 2026; kept as `toJson` with a warning.
    s("json", &[], 0),
    s("jsonEncode", &[], 0),
    s("keys", &[], 0),
    s("md5", &[], 0),
    s("nindent", &["amount", "prefix"], 1),
    s("number", &["type"], 0),
    s("regexExtract", &["regex", "group"], 1),
    s("regexMatch", &["regex"], 1),
    s("regexReplace", &["regex", "replacement"], 2),
    s("sha1", &[], 0),
    s("sha512", &[], 0),
    s("slugify", &[], 0),
    s("startsWith", &["prefix"], 1),
    s("string", &[], 0),
    s("substringAfter", &["separator"], 1),
    s("substringAfterLast", &["separator"], 1),
    s("substringBefore", &["separator"], 1),
    s("substringBeforeLast", &["separator"], 1),
    s("timestamp", &["timeZone", "existingFormat"], 0),
    s("timestampMicro", &["timeZone", "existingFormat"], 0),
    s("timestampMilli", &["timeZone", "existingFormat"], 0),
    s("timestampNano", &["timeZone", "existingFormat"], 0),
    s("toJson", &[], 0),
    s("urldecode", &[], 0),
    s("values", &[], 0),
    s("yaml", &[], 0),
    ni(
        "toIon",
        &[],
        "Amazon Ion output is not implemented by dockhand; use `toJson`",
    ),
    ni(
        "format",
        &[],
        "Java's String.format is not implemented by dockhand",
    ),
];

pub const FUNCTIONS: &[Sig] = &[
    Sig {
        name: "max",
        args: &[],
        required: 1,
        variadic: true,
        missing: None,
    },
    Sig {
        name: "min",
        args: &[],
        required: 1,
        variadic: true,
        missing: None,
    },
    s("range", &["start", "end", "increment"], 2),
    s("now", &["format", "timeZone", "locale"], 0),
    s("secret", &["key", "namespace", "subkey"], 1),
    s("kv", &["key", "namespace", "errorOnMissing"], 1),
    s("read", &["path", "namespace", "version"], 1),
    s("render", &["toRender", "recursive"], 1),
    s("renderOnce", &["toRender"], 1),
    s("fromJson", &["json"], 1),
    // Removed from Kestra in 2026; kept as `fromJson` with a warning.
    s("json", &["json"], 1),
    s("yaml", &["yaml"], 1),
    s("uuid", &[], 0),
    s("id", &[], 0),
    s("ksuid", &[], 0),
    s("randomInt", &["lower", "upper"], 2),
    s("randomPort", &[], 0),
    s("fileExists", &["path", "namespace"], 1),
    s("fileSize", &["path", "namespace"], 1),
    s("fileURI", &["path", "namespace"], 1),
    s("isFileEmpty", &["path", "namespace"], 1),
    s("errorLogs", &[], 0),
    s("currentEachOutput", &["outputs"], 1),
    ni(
        "encrypt",
        &[],
        "encryption needs Kestra's server key; not implemented by dockhand",
    ),
    ni(
        "decrypt",
        &[],
        "encryption needs Kestra's server key; not implemented by dockhand",
    ),
    ni(
        "tasksWithState",
        &[],
        "task states of an execution are not implemented by dockhand",
    ),
    ni(
        "fromIon",
        &[],
        "Amazon Ion input is not implemented by dockhand",
    ),
    ni(
        "http",
        &[],
        "the http() function is not implemented by dockhand",
    ),
    ni(
        "printContext",
        &[],
        "printContext() is not implemented by dockhand",
    ),
    ni(
        "block",
        &[],
        "blocks and template inheritance are not supported",
    ),
    ni(
        "parent",
        &[],
        "blocks and template inheritance are not supported",
    ),
    ni("i18n", &[], "i18n() is not implemented by dockhand"),
];

pub const TESTS: &[Sig] = &[
    s("defined", &[], 0),
    s("null", &[], 0),
    s("empty", &[], 0),
    s("even", &[], 0),
    s("odd", &[], 0),
    s("iterable", &[], 0),
    s("map", &[], 0),
    s("json", &[], 0),
    s("isIn", &["values"], 1),
];

/// The tags (`{% name … %}`) the parser reads, with their closing tags.
pub const TAGS: &[&str] = &[
    "if",
    "for",
    "set",
    "raw",
    "verbatim",
    "filter",
    "macro",
    "autoescape",
];

/// Pebble's tags that dockhand refuses: a flow property is one template string, so there is no
/// other template to extend, include or import, and no cache or parallel rendering to control.
pub const UNSUPPORTED_TAGS: &[&str] = &[
    "block", "extends", "include", "import", "from", "embed", "parallel", "cache", "flush",
];

/// The variables Kestra gives every expression (`RunVariables`), with what each holds. Any
/// other root is unknown: Kestra's strict variables make it an error at run time, so
/// validation refuses it.
pub const CONTEXT_ROOTS: &[(&str, &str)] = &[
    ("flow", "`id`, `namespace`, `revision`"),
    (
        "execution",
        "`id`, `startDate`, `state`, `originalId` (the last three at run time)",
    ),
    ("task", "`id`, `type`"),
    (
        "taskrun",
        "`id`, `startDate`, `attemptsCount`; `value`, `iteration`, `parentId` inside a ForEach (at run time)",
    ),
    ("inputs", "the flow's inputs"),
    ("outputs", "outputs of tasks that have ended (at run time)"),
    (
        "vars",
        "the flow's `variables`, each of any YAML type (text, number, boolean, list, map) with that type (`{{ vars.n + 1 }}`, `{{ vars.hosts[0] }}`); a text is given as written, not rendered again, unless `render(vars.NAME)`",
    ),
    (
        "labels",
        "the execution's labels (`a.b` nests as `labels.a.b`)",
    ),
    ("envs", "environment variables `ENV_NAME` as `envs.name`"),
    ("globals", "the globals file"),
    ("workingDir", "the task's working directory"),
    (
        "outputDir",
        "the task's output directory (its working directory)",
    ),
    (
        "trigger",
        "the trigger's variables (empty when started by hand)",
    ),
    (
        "parent",
        "the enclosing ForEach run: `taskrun.value`, `outputs`",
    ),
    ("parents", "every enclosing ForEach run, nearest first"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Filter,
    Function,
    Test,
}

impl Family {
    pub fn noun(self) -> &'static str {
        match self {
            Family::Filter => "filter",
            Family::Function => "function",
            Family::Test => "test",
        }
    }
    pub fn sigs(self) -> &'static [Sig] {
        match self {
            Family::Filter => FILTERS,
            Family::Function => FUNCTIONS,
            Family::Test => TESTS,
        }
    }
}

pub fn find(family: Family, name: &str) -> Option<&'static Sig> {
    family.sigs().iter().find(|s| s.name == name)
}

/// Checks a call against the registry: the name exists, is implemented, and the arguments fit.
pub fn check(
    family: Family,
    name: &str,
    name_span: &Span,
    args: &Args,
    whole: &Span,
) -> Result<&'static Sig> {
    let Some(sig) = find(family, name) else {
        let names = family
            .sigs()
            .iter()
            .filter(|s| s.missing.is_none())
            .map(|s| s.name);
        return Err(Error::new(
            ErrorKind::Unknown,
            format!(
                "{} `{name}` does not exist{}",
                family.noun(),
                crate::suggest::hint(name, names)
            ),
            name_span.clone(),
        ));
    };
    if let Some(why) = sig.missing {
        return Err(Error::new(
            ErrorKind::NotImplemented,
            format!("{} `{name}` is not implemented: {why}", family.noun()),
            name_span.clone(),
        ));
    }
    check_args(family, sig, args, whole)?;
    Ok(sig)
}

fn check_args(family: Family, sig: &Sig, args: &Args, whole: &Span) -> Result<()> {
    let what = format!("{} `{}`", family.noun(), sig.name);
    let takes = |n: usize| match n {
        0 => "no arguments".to_string(),
        1 => "1 argument".to_string(),
        n => format!("{n} arguments"),
    };
    if !sig.variadic && args.positional.len() > sig.args.len() {
        let list = if sig.args.is_empty() {
            String::new()
        } else {
            format!(" ({})", sig.args.join(", "))
        };
        return Err(Error::new(
            ErrorKind::Arity,
            format!(
                "{what} takes at most {}{list}, given {}",
                takes(sig.args.len()),
                args.positional.len()
            ),
            whole.clone(),
        ));
    }
    for (n, e) in &args.named {
        if sig.variadic || !sig.args.contains(&n.as_str()) {
            let hint = crate::suggest::hint(n, sig.args.iter().copied());
            return Err(Error::new(
                ErrorKind::Arity,
                format!("{what} has no argument `{n}`{hint}"),
                e.span.clone(),
            ));
        }
        if let Some(i) = sig.args.iter().position(|a| a == n)
            && i < args.positional.len()
        {
            return Err(Error::new(
                ErrorKind::Arity,
                format!("{what}: argument `{n}` given twice"),
                e.span.clone(),
            ));
        }
    }
    let given = if sig.variadic {
        args.positional.len()
    } else {
        (0..sig.required)
            .filter(|i| {
                *i < args.positional.len() || args.named.iter().any(|(n, _)| n == sig.args[*i])
            })
            .count()
    };
    if given < sig.required {
        let missing: Vec<&str> = if sig.variadic {
            vec![]
        } else {
            sig.args[..sig.required]
                .iter()
                .copied()
                .filter(|a| !args.named.iter().any(|(n, _)| n == a))
                .skip(args.positional.len())
                .collect()
        };
        let names = if missing.is_empty() {
            String::new()
        } else {
            format!(": missing {}", missing.join(", "))
        };
        return Err(Error::new(
            ErrorKind::Arity,
            format!(
                "{what} needs {}{names}",
                if sig.variadic {
                    "at least 1 argument".to_string()
                } else {
                    takes(sig.required)
                }
            ),
            whole.clone(),
        ));
    }
    Ok(())
}
