#!/usr/bin/env bash
# A task from request to verified result on the dev chain that scripts/dev.sh runs (start it
# first, in another terminal). Builds the example apps, starts two compute nodes (Dave and Eve)
# that join a workerpool scheduled by the dev node (Ferdie's key), registers the monte-carlo app
# (Alice) and the pool (Charlie), publishes their orders, lists the order book and has Bob run a
# task at trust 4, which the two compute nodes must agree on. Prints the result; the compute
# nodes stop with the script.
#
# The ids it created are kept beside the chain's database ($COMMONS_DEV_BASE_PATH/chains/
# commons_dev/demo.env), so running it again on the same chain reuses the app and the pool; on a
# chain that does not hold them (purged since), it registers them again. The compute nodes listen
# from port $COMMONS_DEMO_PORT (default 7301).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/demo-env.sh demo

apps="$CARGO_TARGET_DIR/wasi-apps"
cargo build --release --locked --target wasm32-wasip1 \
	--manifest-path compute/apps/monte-carlo/Cargo.toml --target-dir "$apps"
module="$apps/wasm32-wasip1/release/monte-carlo.wasm"

app="" pool=""
if [[ -f "$state" ]]; then
	source "$state"
fi
if ! holds app "$app" monte-carlo || ! holds workerpool "$pool" demo; then
	if [[ -f "$state" ]]; then
		echo "demo: the chain does not hold the app and pool of an earlier run: registering them"
		# The compute nodes' state (where they stopped following, what they computed) was of the
		# chain that held them.
		rm -rf "$work/Dave" "$work/Eve"
	fi
	app=$(commons --json --key //Alice create-app --name monte-carlo --uri "file://$module" |
		field app)
	ferdie=$(commons --json --key //Ferdie account | field account)
	pool=$(commons --json --key //Charlie create-workerpool --description demo \
		--scheduler "$ferdie" | field workerpool)
	commons --key //Ferdie accept-scheduling --workerpool "$pool"
	commons --key //Alice publish-app-order --app "$app" --price 1 --volume 1000
	commons --key //Charlie publish-workerpool-order --workerpool "$pool" --trust 4 --price 10 \
		--volume 1000
	echo "app=$app pool=$pool" >"$state"
fi

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
port="${COMMONS_DEMO_PORT:-7301}"
for worker in Dave Eve; do
	"$bin/commons-compute" --rpc "$rpc" --key "//$worker" --work-dir "$work/$worker" \
		--workerpool "$pool" --listen "127.0.0.1:$port" >"$work/$worker.log" 2>&1 &
	pids+=($!)
	port=$((port + 1))
done

echo "the order book: the app's orders, and the pools' orders for trust 4, cheapest first:"
commons orders --app "$app"
commons orders --workerpools 0 --min-trust 4

commons --key //Bob run --app "$app" --trust 4 --params "--samples 100000 --seed 7" \
	--max-price 11 --output "$work/result"
echo "result:"
cat "$work/result"/*
