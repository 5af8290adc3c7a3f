#!/usr/bin/env bash
# Regenerates the committed chain specs in chain-specs/ from the runtime's genesis presets.
# The test `committed_chain_specs_match_the_runtime_presets` fails until this is re-run after
# any change to the runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
source scripts/env.sh
for chain in dev local staging; do
	"$COMMONS_NODE" export-chain-spec --chain "$chain" --output "chain-specs/$chain.json"
	"$COMMONS_NODE" export-chain-spec --chain "$chain" --raw --output "chain-specs/$chain-raw.json"
done
