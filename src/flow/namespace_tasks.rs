//! The typed model of Kestra's namespace file tasks (`io.kestra.plugin.core.namespace.*`):
//! UploadFiles, DownloadFiles and DeleteFiles, done in process on the local namespace files
//! directory (`exec::core::namespace`). Text properties stay as written; they are rendered when
//! the task runs.

use std::collections::BTreeMap;

/// `conflict` of UploadFiles (Kestra's `Namespace.Conflicts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conflict {
    #[default]
    Overwrite,
    Error,
    Skip,
}

impl Conflict {
    pub const NAMES: [&'static str; 3] = ["OVERWRITE", "ERROR", "SKIP"];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "OVERWRITE" => Self::Overwrite,
            "ERROR" => Self::Error,
            "SKIP" => Self::Skip,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// UploadFiles' `filesMap`: a map written in the flow, or one expression that renders to a
/// JSON object (Kestra takes both).
#[derive(Debug, Clone, PartialEq)]
pub enum FilesMap {
    Map(BTreeMap<String, String>),
    Expression(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum NamespaceTask {
    /// `UploadFiles`: files of the working directory matching `files`, and the files named by
    /// URI in `filesMap` (target path → URI), written under `destination` of `namespace`.
    Upload {
        namespace: Option<String>,
        files: Vec<String>,
        files_map: Option<FilesMap>,
        destination: String,
        conflict: Conflict,
    },
    /// `DownloadFiles`: the namespace's files matching `files`, stored as files of the
    /// execution; output `files` (path → `kestra://` URI).
    Download {
        namespace: String,
        files: Vec<String>,
        destination: String,
    },
    /// `DeleteFiles`: the namespace's files matching `files` removed (and the folders left
    /// empty with `deleteParentFolder`).
    Delete {
        namespace: String,
        files: Vec<String>,
        delete_parent_folder: bool,
    },
}

impl NamespaceTask {
    /// What `plan` shows.
    pub fn describe(&self) -> String {
        match self {
            NamespaceTask::Upload {
                namespace,
                files,
                files_map,
                destination,
                conflict,
            } => {
                let mut what = Vec::new();
                if !files.is_empty() {
                    what.push(format!(
                        "working directory files matching {}",
                        files.join(", ")
                    ));
                }
                match files_map {
                    Some(FilesMap::Map(m)) => what.push(format!("{} file(s) by URI", m.len())),
                    Some(FilesMap::Expression(e)) => what.push(format!("the files of {e:?}")),
                    None => {}
                }
                format!(
                    "upload {} to {destination} of namespace {} (conflict {})",
                    what.join(" and "),
                    namespace.as_deref().unwrap_or("of the flow"),
                    conflict.name()
                )
            }
            NamespaceTask::Download {
                namespace, files, ..
            } => format!(
                "download the files of namespace {namespace} matching {} into output `files`",
                files.join(", ")
            ),
            NamespaceTask::Delete {
                namespace,
                files,
                delete_parent_folder,
            } => format!(
                "delete the files of namespace {namespace} matching {}{}",
                files.join(", "),
                if *delete_parent_folder {
                    ", and the folders left empty"
                } else {
                    ""
                }
            ),
        }
    }

    /// Every text that holds templates, by property.
    pub fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut out: Vec<(&'static str, &str)> = Vec::new();
        match self {
            NamespaceTask::Upload {
                namespace,
                files,
                files_map,
                destination,
                ..
            } => {
                out.extend(namespace.iter().map(|n| ("namespace", n.as_str())));
                out.extend(files.iter().map(|f| ("files", f.as_str())));
                match files_map {
                    Some(FilesMap::Map(m)) => {
                        for (k, v) in m {
                            out.push(("filesMap", k));
                            out.push(("filesMap", v));
                        }
                    }
                    Some(FilesMap::Expression(e)) => out.push(("filesMap", e)),
                    None => {}
                }
                out.push(("destination", destination));
            }
            NamespaceTask::Download {
                namespace,
                files,
                destination,
            } => {
                out.push(("namespace", namespace));
                out.extend(files.iter().map(|f| ("files", f.as_str())));
                out.push(("destination", destination));
            }
            NamespaceTask::Delete {
                namespace, files, ..
            } => {
                out.push(("namespace", namespace));
                out.extend(files.iter().map(|f| ("files", f.as_str())));
            }
        }
        out
    }
}
