//! Image pulls as the engine CLI reports them on its stderr, for the live status area: a task's
//! `run --pull=missing` (or `always`) pulls through the engine client, which says so in lines
//! before the container starts (Docker: `latest: Pulling from library/busybox`, a line per layer
//! and stage, `Status: Downloaded newer image for busybox:latest`; Podman: `Trying to pull
//! docker.io/library/busybox:latest...`, `Copying blob sha256:…`, `Writing manifest to image
//! destination`). Pure: a line in, what it says about the pull out.

use std::collections::BTreeMap;

/// What one stderr line of the engine client says about a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A pull of this image began.
    Start(String),
    /// A layer reached this stage.
    Layer(String, Stage),
    /// The image is there: the pull ended.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Waiting,
    Downloading,
    Complete,
}

/// A pull under way, as the status area shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pull {
    pub image: String,
    pub layers: BTreeMap<String, Stage>,
    pub done: bool,
}

impl Pull {
    /// Layers complete, and layers known.
    pub fn counts(&self) -> (usize, usize) {
        let done = self
            .layers
            .values()
            .filter(|s| **s == Stage::Complete)
            .count();
        (done, self.layers.len())
    }

    /// Applies `e`; a new `Start` begins the pull afresh (Podman tries each search registry).
    pub fn apply(&mut self, e: Event) {
        match e {
            Event::Start(image) => {
                *self = Pull {
                    image,
                    ..Pull::default()
                }
            }
            Event::Layer(id, stage) => {
                let s = self.layers.entry(id).or_insert(stage);
                *s = (*s).max(stage);
            }
            Event::Done => {
                self.done = true;
                for s in self.layers.values_mut() {
                    *s = Stage::Complete;
                }
            }
        }
    }
}

fn is_layer_id(s: &str) -> bool {
    s.len() >= 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What `line` (one stderr line of the engine client, without its newline) says, if anything.
pub fn parse(line: &str) -> Option<Event> {
    let line = line.trim_end_matches('\r').trim();
    // Docker.
    if let Some(rest) = line.strip_prefix("Unable to find image '") {
        return Some(Event::Start(rest.split('\'').next()?.to_string()));
    }
    if line.starts_with("Status: Downloaded newer image for ")
        || line.starts_with("Status: Image is up to date for ")
    {
        return Some(Event::Done);
    }
    if let Some((id, what)) = line.split_once(": ")
        && is_layer_id(id)
    {
        let stage = match what {
            "Pulling fs layer" | "Waiting" => Stage::Waiting,
            "Downloading" | "Verifying Checksum" | "Download complete" | "Extracting" => {
                Stage::Downloading
            }
            "Pull complete" | "Already exists" => Stage::Complete,
            w if w.starts_with("Downloading ") || w.starts_with("Extracting ") => {
                Stage::Downloading
            }
            _ => return None,
        };
        return Some(Event::Layer(id.to_string(), stage));
    }
    // Podman.
    if let Some(rest) = line.strip_prefix("Trying to pull ") {
        return Some(Event::Start(rest.trim_end_matches("...").to_string()));
    }
    if let Some(rest) = line.strip_prefix("Copying blob ") {
        let mut words = rest.split_whitespace();
        let id = words.next()?.trim_start_matches("sha256:");
        let stage = match words.next() {
            Some("done") | Some("skipped:") => Stage::Complete,
            _ => Stage::Downloading,
        };
        let id: String = id.chars().take(12).collect();
        return Some(Event::Layer(id, stage));
    }
    if line.starts_with("Writing manifest to image destination") {
        return Some(Event::Done);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_client_lines_are_read_as_pull_events() {
        use Event::*;
        use Stage::*;
        let l = |id: &str, s| Some(Layer(id.to_string(), s));
        let cases: &[(&str, Option<Event>)] = &[
            // docker run --pull=missing, stderr not a terminal (docker CLI 28).
            (
                "Unable to find image 'busybox:latest' locally",
                Some(Start("busybox:latest".into())),
            ),
            ("latest: Pulling from library/busybox", None),
            ("9ad63333ebc9: Pulling fs layer", l("9ad63333ebc9", Waiting)),
            ("9ad63333ebc9: Waiting", l("9ad63333ebc9", Waiting)),
            (
                "9ad63333ebc9: Verifying Checksum",
                l("9ad63333ebc9", Downloading),
            ),
            (
                "9ad63333ebc9: Download complete",
                l("9ad63333ebc9", Downloading),
            ),
            ("9ad63333ebc9: Pull complete", l("9ad63333ebc9", Complete)),
            ("0a1b2c3d4e5f: Already exists", l("0a1b2c3d4e5f", Complete)),
            ("Digest: sha256:5b3f1c0d", None),
            (
                "Status: Downloaded newer image for busybox:latest",
                Some(Done),
            ),
            // podman run --pull=missing (podman 4.3), stderr not a terminal.
            (
                "Trying to pull docker.io/library/busybox:latest...",
                Some(Start("docker.io/library/busybox:latest".into())),
            ),
            ("Getting image source signatures", None),
            (
                "Copying blob sha256:9ad63333ebc97e32b987ae66aa3cff81300e4c2e6d2f2395cef8a3ae18b249fe",
                l("9ad63333ebc9", Downloading),
            ),
            (
                "Copying blob 9ad63333ebc9 done",
                l("9ad63333ebc9", Complete),
            ),
            (
                "Copying blob 9ad63333ebc9 skipped: already exists",
                l("9ad63333ebc9", Complete),
            ),
            ("Writing manifest to image destination", Some(Done)),
            // A task's own stderr.
            ("error: something: went wrong", None),
            ("deadbeef: not a stage", None),
            ("", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line), *want, "{line:?}");
        }
    }

    #[test]
    fn a_pull_counts_its_layers_and_ends() {
        let mut p = Pull::default();
        for line in [
            "Unable to find image 'busybox:latest' locally",
            "aaaaaaaaaaaa: Pulling fs layer",
            "bbbbbbbbbbbb: Pulling fs layer",
            "aaaaaaaaaaaa: Download complete",
            "aaaaaaaaaaaa: Pull complete",
            // A late, lesser stage does not undo a layer's progress.
            "aaaaaaaaaaaa: Waiting",
        ] {
            p.apply(parse(line).unwrap());
        }
        assert_eq!(
            (p.image.as_str(), p.counts(), p.done),
            ("busybox:latest", (1, 2), false)
        );
        p.apply(parse("Status: Downloaded newer image for busybox:latest").unwrap());
        assert_eq!((p.counts(), p.done), ((2, 2), true));
    }
}
