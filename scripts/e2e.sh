#!/usr/bin/env bash
# Runs the end-to-end suites (tests/tests/*.rs) side by side, each test binary in a process of its
# own, at most COMMONS_E2E_JOBS (3) at once, the longest first.
#
#   scripts/e2e.sh                  every suite
#   scripts/e2e.sh market proxy     these suites
#
# The suites spend most of their time waiting for 6-second blocks, so running them one after the
# other, as `cargo test` does, leaves the machine idle: side by side they take about as long as
# the longest. More than three at once on two cores makes nodes slow to start. Each suite's output
# is kept in a log and printed when it ends; the script fails if any suite fails.
#
# Expects the node and the tests built in the profile of scripts/env.sh (scripts/test.sh does it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
jobs="${COMMONS_E2E_JOBS:-3}"

# The suites' test binaries, by name, as cargo built them.
declare -A executable=()
while read -r name path; do
	executable[$name]=$path
done < <(
	cargo test --locked --profile "$COMMONS_PROFILE" --workspace --exclude commons-dcap \
		--tests --no-run --message-format=json |
		python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    target = message.get("target", {})
    if (message.get("reason") == "compiler-artifact" and message.get("executable")
            and target.get("kind") == ["test"] and "/tests/tests/" in target.get("src_path", "")):
        print(target["name"], message["executable"])
'
)

# Longest first (times in docs/testing.md), so that the short suites fill in at the end; a suite
# not listed here runs first, its time unknown.
longest_first=(governance market key_release flood local_network container_apps proxy dev_chain chain_specs)
if (($# > 0)); then
	wanted=("$@")
else
	wanted=()
	for name in "${!executable[@]}"; do
		[[ " ${longest_first[*]} " == *" $name "* ]] || wanted+=("$name")
	done
	for name in "${longest_first[@]}"; do
		[[ -z "${executable[$name]:-}" ]] || wanted+=("$name")
	done
fi
for name in "${wanted[@]}"; do
	[[ -n "${executable[$name]:-}" ]] || { echo "e2e: no suite named $name" >&2; exit 1; }
done

logs=$(mktemp -d "${TMPDIR:-/tmp}/commons-e2e-logs.XXXXXX")
declare -A suite_of=() started_at=()
failed=()
slot=0

# Waits for one running suite to end and reports it.
finish_one() {
	local pid status=0
	wait -n -p pid || status=$?
	local name=${suite_of[$pid]}
	unset "suite_of[$pid]"
	cat "$logs/$name.log"
	if ((status == 0)); then
		echo "e2e: $name passed in $((SECONDS - started_at[$name])) s"
	else
		echo "e2e: $name FAILED (exit $status) in $((SECONDS - started_at[$name])) s"
		failed+=("$name")
	fi
}

echo "e2e: running ${wanted[*]}, $jobs at a time; logs in $logs"
for name in "${wanted[@]}"; do
	((${#suite_of[@]} < jobs)) || finish_one
	# Each suite hands out ports from its own block (tests/src/lib.rs, free_port).
	(cd tests && COMMONS_E2E_PORT_BLOCK=$slot exec "${executable[$name]}") >"$logs/$name.log" 2>&1 &
	suite_of[$!]=$name
	started_at[$name]=$SECONDS
	slot=$((slot + 1))
done
while ((${#suite_of[@]} > 0)); do
	finish_one
done

if ((${#failed[@]} > 0)); then
	echo "e2e: failed: ${failed[*]}" >&2
	exit 1
fi
echo "e2e: all ${#wanted[@]} suites passed in $SECONDS s"
