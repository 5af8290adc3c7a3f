//! The chain specs committed in `chain-specs/` hold exactly the genesis of the runtime's presets,
//! and a runtime of the version this build is. When this fails, run `scripts/chain-specs.sh` and
//! commit the result.
//!
//! The runtime's code itself is not compared byte for byte: cargo hashes the absolute path of a
//! crate built from a path into its symbol names, so the same runtime built in two clones differs
//! in layout. Its embedded version (name, spec and transaction version) is compared instead.

use std::{path::PathBuf, process::Command};

use serde_json::Value;
use sp_core::bytes::from_hex;

use commons_e2e::node_binary;

/// The raw storage key of the runtime code, `:code`.
const CODE_KEY: &str = "0x3a636f6465";

fn committed_spec(file: &str) -> Value {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../chain-specs").join(file);
	let text = std::fs::read_to_string(&path)
		.unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
	serde_json::from_str(&text)
		.unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

fn exported_spec(chain: &str, raw: bool) -> Value {
	let mut command = Command::new(node_binary());
	command.args(["export-chain-spec", "--chain", chain]);
	if raw {
		command.arg("--raw");
	}
	let output = command.output().expect("commons-node runs");
	assert!(output.status.success(), "export-chain-spec --chain {chain} failed: {output:?}");
	serde_json::from_slice(&output.stdout).expect("the node exports JSON")
}

/// Takes the runtime code out of a plain or raw spec and returns it.
fn take_code(spec: &mut Value) -> Vec<u8> {
	let genesis = &mut spec["genesis"];
	let code = match genesis.get_mut("raw") {
		Some(raw) => raw["top"].as_object_mut().and_then(|top| top.remove(CODE_KEY)),
		None => genesis["runtimeGenesis"].as_object_mut().and_then(|g| g.remove("code")),
	};
	let code = code.expect("the spec carries the runtime code");
	from_hex(code.as_str().expect("the code is a hex string")).expect("the code is valid hex")
}

/// The version a runtime's code was built as, read from the wasm without running it.
fn embedded_version(code: &[u8]) -> sp_version::RuntimeVersion {
	let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(code)
		.expect("the code is a (compressed) wasm blob");
	sc_executor::read_embedded_version(&blob)
		.expect("the version section is readable")
		.expect("the runtime embeds its version")
}

/// The first place two JSON documents differ, for a readable failure.
fn first_difference(path: &str, committed: &Value, exported: &Value) -> Option<String> {
	match (committed, exported) {
		(Value::Object(a), Value::Object(b)) => {
			for key in a.keys().chain(b.keys()) {
				let here = format!("{path}.{key}");
				match (a.get(key), b.get(key)) {
					(Some(x), Some(y)) => {
						if let Some(difference) = first_difference(&here, x, y) {
							return Some(difference);
						}
					}
					_ => return Some(format!("{here} is only on one side")),
				}
			}
			None
		}
		_ if committed == exported => None,
		_ => Some(format!("{path} differs")),
	}
}

#[test]
fn committed_chain_specs_match_the_runtime_presets() {
	let runtime = commons_runtime::VERSION;
	for (chain, raw, file) in [
		("dev", false, "dev.json"),
		("dev", true, "dev-raw.json"),
		("local", false, "local.json"),
		("local", true, "local-raw.json"),
		("staging", false, "staging.json"),
		("staging", true, "staging-raw.json"),
	] {
		let mut committed = committed_spec(file);
		let mut exported = exported_spec(chain, raw);

		let committed_version = embedded_version(&take_code(&mut committed));
		take_code(&mut exported);
		assert_eq!(
			(
				&committed_version.spec_name,
				committed_version.spec_version,
				committed_version.transaction_version
			),
			(&runtime.spec_name, runtime.spec_version, runtime.transaction_version),
			"chain-specs/{file} carries another runtime version; regenerate with \
			 scripts/chain-specs.sh"
		);

		if let Some(difference) = first_difference("spec", &committed, &exported) {
			panic!(
				"chain-specs/{file} has drifted from the runtime's presets ({difference}); \
				 regenerate with scripts/chain-specs.sh"
			);
		}
	}
}

#[test]
fn only_development_chains_take_simulated_enclaves_and_only_dev_ones_give_them_data() {
	for (file, chain_type, simulated, confidential, sudo) in [
		("dev.json", "Development", true, true, true),
		("local.json", "Local", true, false, true),
		("staging.json", "Live", false, false, false),
	] {
		let spec = committed_spec(file);
		assert_eq!(spec["chainType"], chain_type, "{file}");
		let genesis = &spec["genesis"]["runtimeGenesis"]["patch"];
		let attestation = &genesis["attestation"];
		assert_eq!(attestation["allowSimulated"], simulated, "{file}");
		assert_eq!(attestation["allowSimulatedConfidential"], confidential, "{file}");
		assert_eq!(genesis["sudo"]["key"].is_string(), sudo, "{file}: sudo key");
	}
}
