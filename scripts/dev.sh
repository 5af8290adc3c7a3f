#!/usr/bin/env bash
# Sets up a fresh machine if needed, builds the node and starts a development chain.
#
# RPC on 127.0.0.1:9944. The chain's database persists in $COMMONS_DEV_BASE_PATH
# (default ~/.local/share/commons/dev), so a restart continues the same chain; remove that
# directory (or run `commons-node purge-chain --dev --base-path <dir>`) to start afresh.
# The dev node's keystore also holds Ferdie's key as a workerpool scheduler key (type `schd`), so
# a pool whose scheduler is Ferdie is scheduled by this node, as scripts/demo.sh uses. Extra
# arguments go to commons-node.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
source scripts/env.sh
base_path="${COMMONS_DEV_BASE_PATH:-$HOME/.local/share/commons/dev}"
mkdir -p "$base_path"
"$COMMONS_NODE" key insert --dev --base-path "$base_path" \
	--key-type schd --scheme sr25519 --suri //Ferdie
exec "$COMMONS_NODE" --dev --base-path "$base_path" --rpc-port 9944 "$@"
