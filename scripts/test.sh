#!/usr/bin/env bash
# Runs every test: the runtime's and the pallets' unit tests, and the end-to-end tests that start
# real commons-node processes on loopback. Sets up a fresh machine first if needed.
#
# Arguments go to the workspace's `cargo test` (`--exclude commons-e2e`, `-- <filter>`); what
# follows `--` also goes to commons-dcap's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# Sets the machine up and builds the node: the end-to-end tests start the binary of this profile.
bash scripts/build.sh
source scripts/env.sh
cargo test --locked --profile "$COMMONS_PROFILE" --workspace --exclude commons-dcap "$@"
# commons-dcap's tests compare its verdicts with dcap-qvl's. dcap-qvl turns on features of crates
# the whole node shares (serde_json's preserve_order, chrono's serde, subtle's const-generics):
# resolved with the workspace's tests they would give those a second build, and everything
# above them a third. Run apart, they build only dcap's own small graph a second time.
test_args=()
for ((i = 1; i <= $#; i++)); do
	if [[ "${!i}" == -- ]]; then
		test_args=("${@:i}")
		break
	fi
done
cargo test --locked --profile "$COMMONS_PROFILE" -p commons-dcap "${test_args[@]}"
