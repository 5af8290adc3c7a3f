//! The chain specs committed in `chain-specs/` are exactly what this build's node exports from
//! the runtime's presets. When this fails, run `scripts/chain-specs.sh` and commit the result.

use std::{path::PathBuf, process::Command};

use commons_e2e::node_binary;
use serde_json::Value;

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
	for (chain, raw, file) in [
		("dev", false, "dev.json"),
		("dev", true, "dev-raw.json"),
		("local", false, "local.json"),
		("local", true, "local-raw.json"),
	] {
		let committed = committed_spec(file);
		let exported = exported_spec(chain, raw);
		if let Some(difference) = first_difference("spec", &committed, &exported) {
			panic!(
				"chain-specs/{file} has drifted from the runtime ({difference}); \
				 regenerate with scripts/chain-specs.sh"
			);
		}
	}
}
