# Sourced by the other scripts: where builds go and which profile they use.
#
# One persistent target directory outside the clone, so every clone on this machine (and CI, which
# runs in a fresh clone) reuses the same build. Override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/commons/target}"
# Everything is built in one profile: the node the tests start and the tests themselves. The
# build and test scripts pass it to cargo; override it (e.g. COMMONS_PROFILE=dev) for a quicker,
# slower-running build in its own directory.
export COMMONS_PROFILE="${COMMONS_PROFILE:-release}"
# Where that profile's binaries land: cargo names the dev profile's directory `debug`.
COMMONS_BIN="$CARGO_TARGET_DIR/$COMMONS_PROFILE"
[[ "$COMMONS_PROFILE" != dev ]] || COMMONS_BIN="$CARGO_TARGET_DIR/debug"
export COMMONS_BIN
export COMMONS_NODE="$COMMONS_BIN/commons-node"
