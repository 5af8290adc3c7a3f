//! The `commons` command line where neither a node nor a key is needed: it must not ask for one.

use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

#[test]
fn encrypting_a_dataset_needs_no_key_and_no_node() {
	let dir = tempfile::tempdir().expect("a temporary directory");
	let input = dir.path().join("points.csv");
	std::fs::write(&input, b"x,y\n0.12,0.80\n").expect("the input is written");
	let (output, key_file) = (dir.path().join("points.enc"), dir.path().join("points.key"));

	// No key anywhere (no option, no variable, no configuration file, no terminal), and no node
	// at the address.
	let run = Command::new(env!("CARGO_BIN_EXE_commons"))
		.args(["--rpc", "http://127.0.0.1:9", "encrypt-dataset", "--input"])
		.arg(&input)
		.arg("--output")
		.arg(&output)
		.arg("--key-file")
		.arg(&key_file)
		.env_remove("COMMONS_KEY")
		.env_remove("COMMONS_CONFIG")
		.env("XDG_CONFIG_HOME", dir.path())
		.stdin(Stdio::null())
		.output()
		.expect("commons runs");
	let stderr = String::from_utf8_lossy(&run.stderr);
	assert!(run.status.success(), "encrypt-dataset failed: {stderr}");

	// It printed the sha256 of the encrypted file it wrote, the checksum to register.
	let encrypted = std::fs::read(&output).expect("the encrypted dataset is written");
	assert_ne!(encrypted, b"x,y\n0.12,0.80\n");
	let printed = String::from_utf8_lossy(&run.stdout).trim().to_owned();
	assert_eq!(printed, format!("0x{}", hex(&Sha256::digest(&encrypted))));
	assert!(key_file.exists(), "the dataset's key is written");
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
