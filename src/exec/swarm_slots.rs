//! A flow's `concurrency` limit on a swarm (`--backend swarm`), held across every dockhand
//! process that drives the same swarm, on whatever machine: slot `k` of a flow is a swarm
//! config of a fixed name (`plan::swarm::slot_name`). The manager keeps config names unique
//! in its raft store, so creating one is an atomic claim that two processes cannot both win;
//! it is removed when the execution ends. A slot carries the execution id and its holder
//! (`HOSTNAME:PID`): a resume of the same execution takes its own slot again, and a slot whose
//! holder was a process on this machine that is gone (`kill -9`) is freed. A slot held by a
//! process killed on another machine cannot be told from a live one: it stays until that
//! execution is resumed (and ends) or the config is removed (`docker config rm`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::plan::command::EngineCommand;
use crate::plan::dialect::Dialect;
use crate::plan::engine_commands::Global;
use crate::plan::swarm as sw;

/// A slot of a flow held on the swarm: removed when dropped.
#[derive(Debug)]
pub struct SwarmSlot {
    program: PathBuf,
    rm: EngineCommand,
    pub name: String,
}

impl Drop for SwarmSlot {
    fn drop(&mut self) {
        let _ = run(&self.program, &self.rm);
    }
}

/// A slot as `list_slots` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub name: String,
    pub execution: String,
    pub holder: String,
}

/// Reads `list_slots` output.
pub fn parse_slots(listed: &str) -> Vec<Held> {
    listed
        .lines()
        .filter_map(|l| {
            let mut p = l.split('\t');
            let name = p.next()?.trim();
            (!name.is_empty()).then(|| Held {
                name: name.to_string(),
                execution: p.next().unwrap_or("").trim().to_string(),
                holder: p.next().unwrap_or("").trim().to_string(),
            })
        })
        .collect()
}

/// What to do with a flow's slots, seen from one execution.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Slots to remove first: this execution's own (a resume takes it again, with itself as
    /// holder) and those of gone processes of this machine.
    pub remove: Vec<String>,
    /// Slot names to try to create, in order.
    pub free: Vec<String>,
}

/// Pure: the slots `0..limit` of the flow, given those held (`held`), this execution's id and
/// host name, and whether a process id of this machine is alive.
pub fn plan(
    names: &[String],
    held: &[Held],
    execution: &str,
    hostname: &str,
    alive: impl Fn(u32) -> bool,
) -> Plan {
    let mut p = Plan::default();
    let mut taken = Vec::new();
    for h in held {
        let gone_here = h
            .holder
            .rsplit_once(':')
            .filter(|(host, _)| *host == hostname)
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
            .is_some_and(|pid| !alive(pid));
        if h.execution == execution || gone_here {
            p.remove.push(h.name.clone());
        } else {
            taken.push(h.name.as_str());
        }
    }
    p.free = names
        .iter()
        .filter(|n| !taken.contains(&n.as_str()))
        .cloned()
        .collect();
    p
}

/// The machine's host name, as the slots' holders name it.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Runs one engine command to its end (stdin from the command), blocking.
fn run(program: &Path, cmd: &EngineCommand) -> std::io::Result<std::process::Output> {
    let mut c = Command::new(program);
    c.args(cmd.argv())
        .stdin(if cmd.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn()?;
    if let (Some(s), Some(mut w)) = (&cmd.stdin, child.stdin.take()) {
        w.write_all(s.expose().as_bytes())?;
    }
    child.wait_with_output()
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The flow's slots on the swarm manager at `host`.
pub struct Slots<'a> {
    pub program: &'a Path,
    pub host: Option<&'a str>,
    pub namespace: &'a str,
    pub flow: &'a str,
    pub execution: &'a str,
    pub limit: u32,
}

impl Slots<'_> {
    /// Takes a free slot (`Ok(None)`: all `limit` are held by other executions).
    pub fn try_take(&self) -> Result<Option<SwarmSlot>, String> {
        let g = Global::new(Dialect::Docker, self.host);
        let call = |cmd: &EngineCommand| {
            run(self.program, cmd)
                .map_err(|e| format!("cannot run {}: {e}", self.program.display()))
        };
        let listed = call(&sw::list_slots(&g, self.namespace, self.flow))?;
        if !listed.status.success() {
            return Err(format!(
                "listing the flow's concurrency slots failed: {}",
                first_line(&listed.stderr)
            ));
        }
        let names: Vec<String> = (0..self.limit)
            .map(|k| sw::slot_name(self.namespace, self.flow, k))
            .collect();
        let me = hostname();
        let held = parse_slots(&String::from_utf8_lossy(&listed.stdout));
        let p = plan(&names, &held, self.execution, &me, pid_alive);
        if !p.remove.is_empty() {
            let _ = call(&sw::object_rm(&g, sw::Object::Config, &p.remove));
        }
        let holder = format!("{me}:{}", std::process::id());
        for name in &p.free {
            let create =
                sw::slot_create(&g, name, self.namespace, self.flow, self.execution, &holder);
            let out = call(&create)?;
            if out.status.success() {
                return Ok(Some(SwarmSlot {
                    program: self.program.to_path_buf(),
                    rm: sw::object_rm(&g, sw::Object::Config, &[name.as_str()]),
                    name: name.clone(),
                }));
            }
            let why = first_line(&out.stderr);
            // Another process claimed it between the listing and now: the next one.
            if !why.to_lowercase().contains("already exists") {
                return Err(format!("claiming concurrency slot {name} failed: {why}"));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(name: &str, execution: &str, holder: &str) -> Held {
        Held {
            name: name.into(),
            execution: execution.into(),
            holder: holder.into(),
        }
    }

    #[test]
    fn listing_lines() {
        assert_eq!(
            parse_slots("dh-slot-a-0\te1\thostA:12\n\ndh-slot-a-1\te2\t\n"),
            [
                held("dh-slot-a-0", "e1", "hostA:12"),
                held("dh-slot-a-1", "e2", "")
            ]
        );
        assert!(parse_slots("").is_empty());
    }

    /// Which slots are free, which are removed first: a table of cases.
    #[test]
    fn slots_free_taken_and_stale() {
        let names: Vec<String> = (0..2).map(|k| format!("s{k}")).collect();
        let alive = |pid: u32| pid == 100;
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        for (listed, want_remove, want_free) in [
            (vec![], s(&[]), s(&["s0", "s1"])),
            // Held by a live process here, or one on another machine (whatever its pid).
            (vec![held("s0", "e1", "me:100")], s(&[]), s(&["s1"])),
            (vec![held("s1", "e1", "other:5")], s(&[]), s(&["s0"])),
            (
                vec![held("s0", "e1", "me:100"), held("s1", "e2", "other:7")],
                s(&[]),
                s(&[]),
            ),
            // A gone process of this machine: its slot is freed.
            (
                vec![held("s0", "e1", "me:555")],
                s(&["s0"]),
                s(&["s0", "s1"]),
            ),
            // This execution's own slot (a resume): taken again.
            (
                vec![held("s1", "mine", "other:9")],
                s(&["s1"]),
                s(&["s0", "s1"]),
            ),
            // A holder that cannot be read is taken as live.
            (vec![held("s0", "e1", "")], s(&[]), s(&["s1"])),
            (vec![held("s0", "e1", "me:x")], s(&[]), s(&["s1"])),
        ] {
            let p = plan(&names, &listed, "mine", "me", alive);
            assert_eq!((p.remove, p.free), (want_remove, want_free), "{listed:?}");
        }
    }

    #[test]
    fn slot_names_are_per_flow_and_valid_config_names() {
        let a = sw::slot_name("dev", "f", 0);
        assert_ne!(a, sw::slot_name("dev", "g", 0));
        assert_ne!(a, sw::slot_name("dev", "f", 1));
        assert!(a.len() <= 64 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
