#!/usr/bin/env bash
# Sets up a fresh machine if needed, builds the node and starts a development chain.
#
# RPC on 127.0.0.1:9944. The chain's database persists in $COMMONS_DEV_BASE_PATH
# (default ~/.local/share/commons/dev), so a restart continues the same chain. A database made
# by an earlier runtime (the dev chain's genesis changed since) is refused with what to do:
# `scripts/dev.sh --fresh` removes it and starts a new chain. The dev node's keystore also holds
# Ferdie's key as a workerpool scheduler key (type `schd`), so a pool whose scheduler is Ferdie is
# scheduled by this node, as scripts/demo.sh uses. Other arguments go to commons-node.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=false
if [[ "${1:-}" == --fresh ]]; then
	fresh=true
	shift
fi
bash scripts/build.sh
source scripts/env.sh
base_path="${COMMONS_DEV_BASE_PATH:-$HOME/.local/share/commons/dev}"
# The dev chain's genesis as this build makes it: it changes with every runtime change.
if ! spec=$("$COMMONS_NODE" export-chain-spec --chain dev --raw); then
	echo "dev: cannot export the dev chain spec (above, what the node said)" >&2
	exit 1
fi
genesis=$(sha256sum <<<"$spec" | cut -d' ' -f1)
stamp="$base_path/dev-genesis.sha256"
if [[ -d "$base_path/chains" && -f "$stamp" && "$(cat "$stamp")" != "$genesis" ]]; then
	if ! $fresh; then
		echo "dev: the chain in $base_path began with an earlier runtime than this build's;" \
			"run scripts/dev.sh --fresh to remove it and start a new dev chain" >&2
		exit 1
	fi
	echo "dev: removing the chain of an earlier runtime in $base_path"
	"$COMMONS_NODE" purge-chain --dev --base-path "$base_path" -y >/dev/null
elif $fresh && [[ -d "$base_path/chains" ]]; then
	"$COMMONS_NODE" purge-chain --dev --base-path "$base_path" -y >/dev/null
fi
mkdir -p "$base_path"
echo "$genesis" >"$stamp"
"$COMMONS_NODE" key insert --dev --base-path "$base_path" \
	--key-type schd --scheme sr25519 --suri //Ferdie
exec "$COMMONS_NODE" --dev --base-path "$base_path" --rpc-port 9944 "$@"
