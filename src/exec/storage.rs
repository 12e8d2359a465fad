//! The local internal storage and the files expressions read: each task's output files are
//! copied to `STATE_DIR/storage/…` under their `kestra://` URI (`plan::storage`), which
//! `{{ outputs.T.outputFiles['name'] }}` gives; an input file whose value is a `kestra://`,
//! `nsfile://` or `file://` URI gets that file's content, and so does Pebble's `read()`. This
//! is read through the executor's expression host (`exec::env_host::EnvHost`): the planner asks
//! it, and reads nothing.
//!
//! Namespace files come from a local directory: namespace `a.b`'s files are under
//! `NAMESPACE_FILES/a.b/` (`--namespace-files DIR`, `$DOCKHAND_NAMESPACE_FILES`, default
//! `_files` next to the flow file). `file://` reads only files under the allowed paths
//! (`$DOCKHAND_ALLOWED_PATHS`, `:`-separated; none by default), as Kestra's
//! `kestra.local-files.allowed-paths`.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};

use crate::exec::result::{StoredFile, TaskResult};
use crate::plan::file_functions as ff;
use crate::plan::storage::{self as names, FileUri};

/// Where files are read from and kept.
#[derive(Debug, Clone)]
pub struct Storage {
    /// `STATE_DIR/storage`.
    pub root: Utf8PathBuf,
    /// The directory of namespace directories.
    pub namespace_files: Utf8PathBuf,
    /// The flow's namespace (`nsfile:///path` and `read('path')`).
    pub namespace: String,
    /// Directories `file://` may read under.
    pub allowed_paths: Vec<Utf8PathBuf>,
    /// The flow's id and the execution's (which `kestra://` files are its own, for the file
    /// functions).
    pub flow: String,
    pub execution: String,
}

impl Storage {
    /// The storage of a flow run with state directory `state_dir`.
    pub fn new(
        state_dir: &Utf8Path,
        namespace_files: Utf8PathBuf,
        namespace: &str,
        allowed_paths: Vec<Utf8PathBuf>,
    ) -> Storage {
        Storage {
            root: state_dir.join("storage"),
            namespace_files,
            namespace: namespace.to_string(),
            allowed_paths,
            flow: String::new(),
            execution: String::new(),
        }
    }

    /// This storage as execution `execution` of flow `flow` sees it.
    pub fn for_execution(self, flow: &str, execution: &str) -> Storage {
        Storage {
            flow: flow.to_string(),
            execution: execution.to_string(),
            ..self
        }
    }

    /// The host path of the file a file function's `path` names (`plan::file_functions`),
    /// checked as Kestra checks it.
    pub fn function_path(
        &self,
        path: &str,
        namespace: Option<&str>,
    ) -> Result<Utf8PathBuf, String> {
        match ff::resolve(path.trim(), namespace, self.caller())? {
            ff::FunctionFile::Storage(u) => names::storage_path(&self.root, &u),
            ff::FunctionFile::Namespace { namespace, path } => {
                self.namespace_file(Some(&namespace), &path)
            }
            ff::FunctionFile::Host(p) => self.path_of(&FileUri::Host(&p)),
        }
    }

    /// `fileURI(path, namespace)`.
    pub fn function_uri(&self, path: &str, namespace: Option<&str>) -> Result<String, String> {
        ff::file_uri(path.trim(), namespace, self.caller())
    }

    /// The size of the file a file function's `path` names; an error naming it when it does
    /// not exist (Kestra's `FileNotFoundException`).
    pub fn function_size(&self, path: &str, namespace: Option<&str>) -> Result<u64, String> {
        let p = self.function_path(path, namespace)?;
        std::fs::metadata(&p)
            .map(|m| m.len())
            .map_err(|e| format!("{path}: {e}"))
    }

    fn caller(&self) -> ff::Caller<'_> {
        ff::Caller {
            namespace: &self.namespace,
            flow: &self.flow,
            execution: &self.execution,
        }
    }

    /// The host path of a namespace file (`path` relative to the namespace's directory).
    pub fn namespace_file(
        &self,
        namespace: Option<&str>,
        path: &str,
    ) -> Result<Utf8PathBuf, String> {
        let ns = namespace.unwrap_or(&self.namespace);
        let rel = names::relative_inside(path.trim_start_matches('/'))?;
        Ok(self.namespace_files.join(ns).join(rel))
    }

    /// The host path a file URI names, checked.
    pub fn path_of(&self, uri: &FileUri<'_>) -> Result<Utf8PathBuf, String> {
        match uri {
            FileUri::Storage(u) => names::storage_path(&self.root, u),
            FileUri::Namespace { namespace, path } => self.namespace_file(*namespace, path),
            FileUri::Host(p) => {
                let real = Utf8Path::new(p)
                    .canonicalize_utf8()
                    .map_err(|e| format!("file://{p}: {e}"))?;
                if self
                    .allowed_paths
                    .iter()
                    .any(|a| a.canonicalize_utf8().is_ok_and(|a| real.starts_with(&a)))
                {
                    Ok(real)
                } else {
                    Err(format!(
                        "file://{p} is not under an allowed path: list the directories tasks may read in $DOCKHAND_ALLOWED_PATHS (`:`-separated), as Kestra's kestra.local-files.allowed-paths"
                    ))
                }
            }
        }
    }

    /// The text of the file a URI (or, without a scheme, a namespace file path) names.
    pub fn read(&self, what: &str) -> Result<String, String> {
        let path = match names::file_uri(what) {
            Some(u) => self.path_of(&u)?,
            None => self.namespace_file(None, what)?,
        };
        let bytes = std::fs::read(&path).map_err(|e| format!("{what} ({path}): {e}"))?;
        String::from_utf8(bytes).map_err(|_| format!("{what}: not UTF-8 text"))
    }

    /// Copies a task's output files (absolute paths under `workdir`) into the storage and lists
    /// them on the result with their URIs.
    pub fn keep(
        &self,
        ids: (&str, &str, &str),
        task: &str,
        attempt: u32,
        workdir: &Utf8Path,
        res: &mut TaskResult,
    ) -> Result<(), String> {
        let (namespace, flow, execution) = ids;
        for f in &res.output_files {
            let Ok(name) = Utf8Path::new(f).strip_prefix(workdir) else {
                continue;
            };
            let uri = names::output_uri(namespace, flow, execution, task, attempt, name.as_str());
            let to = names::storage_path(&self.root, &uri)?;
            if let Some(p) = to.parent() {
                std::fs::create_dir_all(p).map_err(|e| format!("{p}: {e}"))?;
            }
            std::fs::copy(f, &to).map_err(|e| format!("{f} to {to}: {e}"))?;
            res.stored_files.push(StoredFile {
                name: name.to_string(),
                uri,
                path: to.to_string(),
            });
        }
        Ok(())
    }
}

/// Puts a task's output files (name → URI) where the planner finds them for
/// `{{ outputs.T.outputFiles[...] }}`.
pub fn remember(
    outputs: &mut BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    r: &TaskResult,
) {
    if r.stored_files.is_empty() {
        return;
    }
    let files = r
        .stored_files
        .iter()
        .map(|f| (f.name.clone(), serde_json::Value::String(f.uri.clone())))
        .collect();
    outputs.insert(names::files_key(&r.id), files);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_storage_namespace_and_allowed_host_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap();
        let ns_dir = root.join("nsfiles");
        std::fs::create_dir_all(ns_dir.join("company.team/sql")).unwrap();
        std::fs::write(ns_dir.join("company.team/sql/q.sql"), "SELECT 1").unwrap();
        std::fs::create_dir_all(root.join("allowed")).unwrap();
        std::fs::write(root.join("allowed/a.txt"), "allowed").unwrap();
        std::fs::write(root.join("secret.txt"), "no").unwrap();
        let s = Storage::new(
            &root.join("state"),
            ns_dir,
            "company.team",
            vec![root.join("allowed")],
        );
        assert_eq!(s.read("nsfile:///sql/q.sql").unwrap(), "SELECT 1");
        assert_eq!(
            s.read("nsfile://company.team/sql/q.sql").unwrap(),
            "SELECT 1"
        );
        assert_eq!(s.read("sql/q.sql").unwrap(), "SELECT 1");
        assert!(s.read("nsfile:///../secret.txt").is_err());
        assert_eq!(
            s.read(&format!("file://{root}/allowed/a.txt")).unwrap(),
            "allowed"
        );
        let e = s.read(&format!("file://{root}/secret.txt")).unwrap_err();
        assert!(e.contains("not under an allowed path"), "{e}");
        // Out through a link in an allowed directory: refused by its real path.
        std::os::unix::fs::symlink(root.join("secret.txt"), root.join("allowed/link")).unwrap();
        assert!(s.read(&format!("file://{root}/allowed/link")).is_err());

        // An output file kept, then read back by its URI.
        let wd = root.join("work/e1/t");
        std::fs::create_dir_all(wd.join("out")).unwrap();
        std::fs::write(wd.join("out/x.txt"), "x!").unwrap();
        let mut r = TaskResult::new("t", crate::exec::result::State::Success);
        r.output_files = vec![wd.join("out/x.txt").to_string()];
        s.keep(("company.team", "f", "e1"), "t", 1, &wd, &mut r)
            .unwrap();
        assert_eq!(r.stored_files.len(), 1);
        let f = &r.stored_files[0];
        assert_eq!(f.name, "out/x.txt");
        assert_eq!(
            f.uri,
            "kestra:///company/team/f/executions/e1/tasks/t/1/out/x.txt"
        );
        assert_eq!(s.read(&f.uri).unwrap(), "x!");
        let mut outputs = BTreeMap::new();
        remember(&mut outputs, &r);
        assert_eq!(outputs["t.outputFiles"]["out/x.txt"], f.uri.as_str());
    }
}
