#!/usr/bin/env bash
# Runs every test: the runtime's and the pallets' unit tests, and the end-to-end tests that start
# real commons-node processes on loopback. Sets up a fresh machine first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
# Sets the machine up and builds the node: the end-to-end tests start the binary of this profile.
bash scripts/build.sh
source scripts/env.sh
cargo test --locked --profile "$COMMONS_PROFILE" --workspace "$@"
