#!/usr/bin/env bash
# Fuzzes the runtime's DCAP verifier against dcap-qvl (the `verdicts` target): Intel's sample
# quotes and collateral, one field at a time replaced by the fuzzer's bytes; any disagreement
# in verdict, status or advisories, and any crash, stops the run with the input saved under
# pallets/attestation/dcap/fuzz/artifacts/.
#
#   scripts/fuzz.sh [seconds, default 600]
#
# cargo-fuzz needs nightly rustc flags; on this stable toolchain RUSTC_BOOTSTRAP lets them
# through, and `--sanitizer none` keeps to coverage instrumentation (the verifier is safe Rust).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
bash scripts/setup.sh
source scripts/env.sh
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
cd pallets/attestation/dcap/fuzz
mkdir -p corpus/verdicts
# Seeds: each sample's quote and collateral fields, each under the selector byte that makes the
# target put it back where it came from.
python3 - <<'PY'
import json
samples = ["sgx_quote", "tdx_quote", "tdx_quote_td15ex"]
for sample, name in enumerate(samples):
    quote = open(f"../tests/fixtures/{name}", "rb").read()
    collateral = json.load(open(f"../tests/fixtures/{name}_collateral.json"))
    fields = [
        quote,
        bytes.fromhex(collateral["root_ca_crl"]),
        bytes.fromhex(collateral["pck_crl"]),
        collateral["tcb_info"].encode(),
        collateral["qe_identity"].encode(),
        collateral["tcb_info_issuer_chain"].encode(),
        collateral["qe_identity_issuer_chain"].encode(),
        bytes.fromhex(collateral["tcb_info_signature"]),
    ]
    for field, data in enumerate(fields):
        with open(f"corpus/verdicts/seed-{name}-{field}", "wb") as seed:
            seed.write(bytes([field * 3 + sample]) + data)
PY
export CARGO_TARGET_DIR="${COMMONS_FUZZ_TARGET_DIR:-$HOME/.cache/commons/fuzz-target}"
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O verdicts corpus/verdicts regressions -- \
	-max_total_time="$seconds" -print_final_stats=1
