//! Reading the namespace file tasks (`spec::tasks_core`: UploadFiles, DownloadFiles,
//! DeleteFiles) into a [`NamespaceTask`], with Kestra's defaults.

use crate::flow::namespace_tasks::{Conflict, FilesMap, NamespaceTask};
use crate::flow::reader::{self, Cx, Obj};
use crate::flow::spec::tasks_core::{NS_DELETE_TYPE, NS_DOWNLOAD_TYPE, NS_UPLOAD_TYPE};
use crate::flow::yaml::Value;

/// `files`: one text or a list of texts.
fn text_or_list(cx: &mut Cx, o: &mut Obj<'_>, key: &'static str) -> Option<Vec<String>> {
    let n = o.get(cx, key)?;
    let path = o.key_path(key);
    match &n.value {
        Value::Seq(_) => reader::as_strings(cx, n, &path),
        _ => reader::as_string(cx, n, &path).map(|s| vec![s]),
    }
}

pub(super) fn read(cx: &mut Cx, o: &mut Obj<'_>, name: &str) -> Option<NamespaceTask> {
    match name {
        NS_UPLOAD_TYPE => {
            let namespace = o.string(cx, "namespace");
            let files = o.strings(cx, "files");
            let files_map = match o.get(cx, "filesMap") {
                None => None,
                Some(n) => {
                    let path = o.key_path("filesMap");
                    match &n.value {
                        Value::Map(_) => reader::as_string_map(cx, n, &path).map(FilesMap::Map),
                        _ => reader::as_string(cx, n, &path).map(FilesMap::Expression),
                    }
                }
            };
            let destination = o.string(cx, "destination").unwrap_or_else(|| "/".into());
            let conflict = o
                .enumeration(cx, "conflict", &Conflict::NAMES, Conflict::parse)
                .unwrap_or_default();
            if files.is_none() && !o.has("filesMap") {
                // Kestra's "files or filesMap is required", found when the flow is read.
                cx.error(o.pos(), &o.path.clone(), "needs `files` or `filesMap`");
                return None;
            }
            Some(NamespaceTask::Upload {
                namespace,
                files: files.unwrap_or_default(),
                files_map,
                destination,
                conflict,
            })
        }
        NS_DOWNLOAD_TYPE => {
            let namespace = o.need_string(cx, "namespace");
            let files = text_or_list(cx, o, "files");
            if files.is_none() {
                o.need(cx, "files");
            }
            let destination = o.string(cx, "destination").unwrap_or_default();
            Some(NamespaceTask::Download {
                namespace: namespace?,
                files: files?,
                destination,
            })
        }
        NS_DELETE_TYPE => {
            let namespace = o.need_string(cx, "namespace");
            let files = text_or_list(cx, o, "files");
            if files.is_none() {
                o.need(cx, "files");
            }
            let delete_parent_folder = o.bool(cx, "deleteParentFolder").unwrap_or(false);
            Some(NamespaceTask::Delete {
                namespace: namespace?,
                files: files?,
                delete_parent_folder,
            })
        }
        _ => None,
    }
}
