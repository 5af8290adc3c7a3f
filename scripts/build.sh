#!/usr/bin/env bash
# Builds commons-node (with the runtime's wasm) into the shared target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
# The whole workspace, not just the node: the same feature set as the tests build, so building
# for tests and for running never recompiles shared dependencies twice.
cargo build --locked --profile "$COMMONS_PROFILE" --workspace "$@"
