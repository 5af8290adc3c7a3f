#!/usr/bin/env bash
# Runs the throughput and latency harness (tests/src/bin/throughput) against a chain it starts:
# balance transfers, then trust-1 tasks at deal volumes 1, 10 and 100. Writes the report and its
# plot to docs/performance/<date>-<validators>v.{md,svg}. Arguments go to the harness
# (`--validators 3`, `--tasks 2000`, ...; `--help` lists them); with `--execution-only` it only
# compares the WASI example with native code, into docs/performance/<date>-execution.md. Takes
# the machine for some minutes: run nothing else meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
source scripts/env.sh
validators=1
kind=""
for ((i = 1; i <= $#; i++)); do
	if [[ "${!i}" == --validators ]]; then
		next=$((i + 1))
		validators="${!next}"
	elif [[ "${!i}" == --validators=* ]]; then
		validators="${!i#--validators=}"
	elif [[ "${!i}" == --execution-only ]]; then
		kind="-execution"
	fi
done
mkdir -p docs/performance
output="docs/performance/$(date -u +%Y-%m-%d)-${validators}v"
[[ -z "$kind" ]] || output="docs/performance/$(date -u +%Y-%m-%d)$kind"
COMMONS_NODE="$COMMONS_NODE" "$COMMONS_BIN/commons-throughput" --output "$output" "$@"
if [[ -z "$kind" ]]; then
	echo "throughput: report in $output.md, plot in $output.svg"
else
	echo "throughput: report in $output.md"
fi
