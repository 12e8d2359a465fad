#!/usr/bin/env bash
# The whole test suite, as CI runs it: sets up Docker and Podman (scripts/setup-engines.sh),
# builds the local test images (scripts/build-test-images.sh), then runs every test with
# DOCKHAND_E2E=1, so end-to-end tests fail loudly instead of skipping when an engine is missing.
#
# Usage: bash scripts/test.sh [extra cargo test arguments, e.g. a test name filter]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-engines.sh
bash scripts/build-test-images.sh

export DOCKHAND_E2E=1
# End-to-end tests mostly wait on containers: more threads than cores keeps both cores busy.
# --no-fail-fast: every failing test binary is reported in one run, not only the first.
cargo test --locked --all-targets --no-fail-fast -- --test-threads 6 "$@"
