#!/usr/bin/env bash
# Builds commons-node (with the runtime's wasm) into the shared target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
echo "build: compiling the workspace (${COMMONS_PROFILE} profile) into $CARGO_TARGET_DIR;" \
	"on a fresh machine this takes 20 to 50 minutes, most of it polkadot-sdk and the runtime's wasm"
# The whole workspace, not just the node, and the same selection as scripts/test.sh's tests, so
# that the tests resolve the same features and reuse this build instead of compiling the
# dependency graph again. commons-dcap is tested on its own (see scripts/test.sh); as a
# dependency of the runtime it is built here all the same.
cargo build --locked --profile "$COMMONS_PROFILE" --workspace --exclude commons-dcap "$@"
# The tools by name: links in ~/.local/bin (a user's own programs, on PATH in most shells' profiles)
# to this build's binaries.
link_dir="${COMMONS_LINK_DIR:-$HOME/.local/bin}"
mkdir -p "$link_dir"
for tool in commons commons-compute commons-node; do
	ln -sf "$COMMONS_BIN/$tool" "$link_dir/$tool"
done
case ":$PATH:" in
*":$link_dir:"*) ;;
*) echo "build: commons, commons-compute and commons-node are linked in $link_dir; add it to PATH" ;;
esac
