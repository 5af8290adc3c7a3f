#!/usr/bin/env bash
# An app that is an OCI image, from build to verified result, on the dev chain that
# scripts/dev.sh runs (start it first, in another terminal). Needs Podman and runc
# (scripts/setup.sh installs them).
#
# Builds the monte-carlo example as a static Linux binary and makes it the one file of an image,
# in a Podman API service this script starts on storage of its own; registers the image by its
# digest as an app (Alice); opens a workerpool of container tasks scheduled by the dev node
# (Charlie's, Ferdie's key); starts two compute nodes with that engine (Alice's and Bob's stash
# accounts), which join it announcing `container`; and has Bob run a task at trust 4, which the
# two must agree on. Prints the result; the compute nodes and Podman stop with the script.
#
# The ids it created are kept with the chain's database ($COMMONS_DEV_BASE_PATH/chains/commons_dev/
# container-demo.env), so running it again on the same chain reuses the pool, and the app while
# the image is the same (built from the same binary, it keeps its digest). The compute nodes
# listen from port $COMMONS_CONTAINER_DEMO_PORT (default 7311).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/demo-env.sh container-demo
# Podman wants a run root of at most 50 bytes.
run_root="/tmp/commons-demo-podman-$(id -u)"
podman_here() {
	podman --root "$work/storage" --runroot "$run_root" --runtime runc \
		--cgroup-manager cgroupfs "$@"
}

# The app as a static binary: an image needs nothing else.
triple="$(uname -m)-unknown-linux-gnu"
native="$CARGO_TARGET_DIR/native-apps"
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target "$triple" \
	--manifest-path compute/apps/monte-carlo/Cargo.toml --target-dir "$native"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
socket="$work/podman.sock"
rm -f "$socket"
podman_here system service --time=0 "unix://$socket" 2>"$work/podman.log" &
pids+=($!)
for _ in $(seq 100); do [[ -S "$socket" ]] && break; sleep 0.1; done
[[ -S "$socket" ]] || { echo "container-demo: podman's API did not start ($work/podman.log)" >&2; exit 1; }

# The image: /app, its entry point, and the mount points /in and /out.
rootfs="$work/rootfs"
mkdir -p "$rootfs/in" "$rootfs/out"
cp "$native/$triple/release/monte-carlo" "$rootfs/app"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$work/rootfs.tar" .
# The import dates the image by the archive's time: a fixed one gives the same digest each run.
touch -d @0 "$work/rootfs.tar"
podman_here import --change 'ENTRYPOINT ["/app"]' "$work/rootfs.tar" localhost/commons/monte-carlo:demo >/dev/null
digest=$(podman_here image inspect --format '{{.Digest}}' localhost/commons/monte-carlo:demo)
echo "the image: localhost/commons/monte-carlo@$digest"

# The pool is made once per chain; the app once per image digest.
app="" pool="" registered=""
if [[ -f "$state" ]]; then
	source "$state"
fi
# What the state names but the chain does not hold (purged since) is made again, and the compute
# nodes' state (where they stopped following, what they computed), of the chain that held it, goes.
if [[ -n "$pool" ]] && ! holds workerpool "$pool" containers; then
	pool=""
	rm -rf "$work/Alice" "$work/Bob"
fi
holds app "$app" monte-carlo-image || registered=""
if [[ -z "$pool" ]]; then
	ferdie=$(commons --json --key //Ferdie account | field account)
	pool=$(commons --json --key //Charlie create-workerpool --description containers \
		--scheduler "$ferdie" | field workerpool)
	commons --key //Ferdie accept-scheduling --workerpool "$pool"
	commons --key //Charlie publish-workerpool-order --workerpool "$pool" --trust 4 --price 10 \
		--volume 1000 --tag container
fi
if [[ "$registered" != "$digest" ]]; then
	app=$(commons --json --key //Alice create-app --name monte-carlo-image \
		--image "localhost/commons/monte-carlo@$digest" | field app)
	commons --key //Alice publish-app-order --app "$app" --price 1 --volume 1000
	registered="$digest"
fi
echo "app=$app pool=$pool registered=$registered" >"$state"

port="${COMMONS_CONTAINER_DEMO_PORT:-7311}"
for worker in Alice Bob; do
	"$bin/commons-compute" --rpc "$rpc" --key "//$worker//stash" --work-dir "$work/$worker" \
		--workerpool "$pool" --listen "127.0.0.1:$port" --container-engine "$socket" \
		>"$work/$worker.log" 2>&1 &
	pids+=($!)
	port=$((port + 1))
done

sleep 2
for pid in "${pids[@]:1}"; do
	kill -0 "$pid" 2>/dev/null ||
		{ echo "container-demo: a compute node stopped; see $work/*.log" >&2; exit 1; }
done
commons app "$app"
commons --key //Bob run --app "$app" --trust 4 --params "--samples 100000 --seed 7" \
	--max-price 11 --output "$work/result"
echo "result:"
cat "$work/result"/*
