# What scripts/demo.sh and scripts/container-demo.sh share, sourced with the demo's name: the
# build's environment, the dev chain's RPC and base path, the demo's work directory
# ($COMMONS_DEV_BASE_PATH/<name>) and state file (the ids it created, beside the chain's database,
# used only while the chain holds them: see `holds`), and three helpers.
source scripts/env.sh
bin="$COMMONS_BIN"
rpc="${COMMONS_RPC:-http://127.0.0.1:9944}"
base_path="${COMMONS_DEV_BASE_PATH:-$HOME/.local/share/commons/dev}"
work="$base_path/$1"
state="$base_path/chains/commons_dev/$1.env"
mkdir -p "$work" "$(dirname "$state")"
# `commons` on the dev chain.
commons() { "$bin/commons" --rpc "$rpc" "$@"; }
# The value of `field` in the JSON object a `commons --json` command printed.
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# Whether the chain holds what a state file names: `app ID NAME` or `workerpool ID DESCRIPTION`.
# A state file may outlive its chain (`commons-node purge-chain` removes only the database) or
# name ids that another demo took on a new chain.
holds() {
	local key=name
	[[ "$1" == workerpool ]] && key=description
	[[ -n "$2" && "$(commons --json "$1" "$2" 2>/dev/null | field "$key" 2>/dev/null)" == "$3" ]]
}
