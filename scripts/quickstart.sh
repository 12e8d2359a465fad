#!/usr/bin/env bash
# First run on a fresh Debian machine: installs and starts Docker and Podman, builds the local
# test images, builds dockhand, and runs the flow from Kestra's Docker task runner page
# (fixtures/kestra-centos.yaml) on Docker, then on Podman. Safe to run again.
#
# Usage: bash scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Checked first: everything else below is installed by the scripts.
if ! command -v cargo >/dev/null 2>&1; then
    echo "quickstart.sh: cargo not found: install Rust >= 1.85 with rustup (https://rustup.rs);" \
        "Debian 12's own cargo is too old for this crate (edition 2024)" >&2
    exit 1
fi

bash scripts/setup-engines.sh
bash scripts/build-test-images.sh --only busybox   # the language images: scripts/test.sh
cargo build --release --locked

echo "== dockhand plan fixtures/kestra-centos.yaml (the docker command lines it will run)" >&2
./target/release/dockhand plan fixtures/kestra-centos.yaml
echo "== dockhand run fixtures/kestra-centos.yaml --engine docker" >&2
./target/release/dockhand run fixtures/kestra-centos.yaml --engine docker
echo "== dockhand run fixtures/kestra-centos.yaml --engine podman" >&2
./target/release/dockhand run fixtures/kestra-centos.yaml --engine podman
