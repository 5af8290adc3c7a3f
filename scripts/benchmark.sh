#!/usr/bin/env bash
# Regenerates a pallet's weights.rs from FRAME benchmarks run on this machine.
#
#   scripts/benchmark.sh marketplace
#   scripts/benchmark.sh protocol_parameters runtime/src/parameters/weights.rs
#   scripts/benchmark.sh balances runtime/src/configs/balances_weights.rs
#
# The second argument is where the weights go, for a pallet that is not pallets/<name>. Our
# pallets declare their own `WeightInfo` trait, written through scripts/weight-template.hbs; a
# polkadot-sdk pallet's weights implement that pallet's trait, written through the benchmark
# command's own template (a pallet that is neither ours nor protocol_parameters).
#
# Builds a separate node with the runtime's benchmarking code (in its own target directory, so
# the everyday build is not rebuilt), runs every benchmark of pallet-<name> against the dev
# chain's genesis, and writes pallets/<name>/src/weights.rs through scripts/weight-template.hbs.
set -euo pipefail
cd "$(dirname "$0")/.."
pallet="${1:?usage: scripts/benchmark.sh <pallet name, e.g. marketplace> [weights file]}"
output="${2:-pallets/$pallet/src/weights.rs}"
bash scripts/setup.sh
source scripts/env.sh
if [[ -d "pallets/$pallet" || "$pallet" == protocol_parameters ]]; then
	template=(--template scripts/weight-template.hbs)
else
	template=(--header scripts/weight-header.txt)
fi
bench_target="${COMMONS_BENCH_TARGET_DIR:-$HOME/.cache/commons/target-bench}"
CARGO_TARGET_DIR="$bench_target" cargo build --locked --release -p commons-node --features runtime-benchmarks
"$bench_target/release/commons-node" benchmark pallet \
	--chain dev \
	--pallet "pallet_$pallet" \
	--extrinsic '*' \
	--steps 50 \
	--repeat 20 \
	"${template[@]}" \
	--output "$output"
