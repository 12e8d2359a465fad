//! Reading `namespaceFiles` (script tasks and WorkingDirectory), as Kestra's `NamespaceFiles`:
//! `enabled` (default true), `include`, `exclude`, `namespaces`, `ifExists`,
//! `folderPerNamespace`. Disabled is the same as absent.

use crate::flow::model::{IfExists, NamespaceFiles};
use crate::flow::reader::{Cx, Obj};
use crate::flow::spec;

pub(super) fn read(cx: &mut Cx, o: &mut Obj<'_>) -> Option<NamespaceFiles> {
    let mut n = o.obj(cx, "namespaceFiles")?;
    let enabled = n.bool(cx, "enabled").unwrap_or(true);
    let files = NamespaceFiles {
        include: n.strings(cx, "include").unwrap_or_default(),
        exclude: n.strings(cx, "exclude").unwrap_or_default(),
        namespaces: n.strings(cx, "namespaces").unwrap_or_default(),
        if_exists: n
            .enumeration(
                cx,
                "ifExists",
                &["OVERWRITE", "FAIL", "WARN", "IGNORE"],
                |s| match s {
                    "OVERWRITE" => Some(IfExists::Overwrite),
                    "FAIL" => Some(IfExists::Fail),
                    "WARN" => Some(IfExists::Warn),
                    "IGNORE" => Some(IfExists::Ignore),
                    _ => None,
                },
            )
            .unwrap_or_default(),
        folder_per_namespace: n.bool(cx, "folderPerNamespace").unwrap_or(false),
    };
    n.finish_described(cx, &spec::NAMESPACE_FILES);
    enabled.then_some(files)
}
