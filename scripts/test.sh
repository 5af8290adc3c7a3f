#!/usr/bin/env bash
# Runs every test: the runtime's and the pallets' unit tests, and the end-to-end tests that start
# real commons-node processes on loopback. Sets up a fresh machine first if needed.
#
# Without arguments it runs everything: the unit and integration tests through cargo, then the
# end-to-end suites side by side (scripts/e2e.sh). With arguments, they go to one `cargo test` of
# the workspace (`--lib --bins`, `--test market`, `-- <filter>`), which runs what they select one
# binary after another; what follows `--` also goes to commons-dcap's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# Sets the machine up and builds the node: the end-to-end tests start the binary of this profile.
bash scripts/build.sh
source scripts/env.sh
workspace=(--locked --profile "$COMMONS_PROFILE" --workspace --exclude commons-dcap)
if (($# > 0)); then
	cargo test "${workspace[@]}" "$@"
else
	# Every test target but the end-to-end suites (package commons-e2e), by name.
	mapfile -t integration < <(
		cargo metadata --locked --format-version 1 --no-deps | python3 -c '
import json, sys
for package in json.load(sys.stdin)["packages"]:
    if package["name"] not in ("commons-e2e", "commons-dcap"):
        for target in package["targets"]:
            if target["kind"] == ["test"]:
                print("--test", target["name"], sep="\n")
'
	)
	cargo test "${workspace[@]}" --lib --bins "${integration[@]}"
	cargo test "${workspace[@]}" --doc
	bash scripts/e2e.sh
fi
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
