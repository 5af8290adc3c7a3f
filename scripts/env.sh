# Sourced by the other scripts: where builds go and which profile they use.
#
# One persistent target directory outside the clone, so every clone on this machine (and CI, which
# runs in a fresh clone) reuses the same build. Override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/commons/target}"
# Everything is built in one profile: the node the tests start and the tests themselves.
export COMMONS_PROFILE=release
export COMMONS_NODE="$CARGO_TARGET_DIR/$COMMONS_PROFILE/commons-node"
