//! Where the command line and the compute node get the secret key they sign with, as
//! polkadot-sdk's own tools do (`--suri`): never a default account.
//!
//! `--key` takes a secret URI (a mnemonic, a `0x` seed, with derivations, or a development
//! derivation such as `//Alice`) or the path of a file holding one; without `--key`, the
//! environment variable `COMMONS_KEY` holds the URI. A secret written on the command line is
//! visible to every user of the machine (`ps`), so a secret other than a development
//! derivation gets a warning there; a key file readable by other users is refused, as ssh
//! refuses a private key anyone can read.

use std::path::Path;

use sp_core::{sr25519, Pair};

/// The environment variable holding the signing key's secret URI when `--key` is not given.
pub const KEY_VARIABLE: &str = "COMMONS_KEY";

/// The key given by `--key` (`argument`) or else by [`KEY_VARIABLE`]; an error saying how to
/// give one if neither is. `warn` receives the warning about a secret on the command line.
pub fn signing_key(argument: Option<&str>, warn: impl Fn(&str)) -> Result<sr25519::Pair, String> {
	let (uri, source) = match argument {
		Some(argument) if names_a_file(argument) => {
			(read_key_file(Path::new(argument))?, format!("the key file {argument}"))
		}
		Some(uri) => {
			if !uri.starts_with("//") {
				warn(&format!(
					"warning: a secret key on the command line is visible to other users of this \
					 machine; put it in a file only you can read and pass its path to --key, or \
					 set {KEY_VARIABLE}"
				));
			}
			(uri.to_owned(), "--key".to_owned())
		}
		None => match std::env::var(KEY_VARIABLE) {
			Ok(uri) => (uri, KEY_VARIABLE.to_owned()),
			Err(_) => {
				return Err(format!(
					"no key: give --key with a secret URI or the path of a file holding one, or \
					 set {KEY_VARIABLE} (on a development chain, for example --key //Alice)"
				))
			}
		},
	};
	sr25519::Pair::from_string(uri.trim(), None)
		.map_err(|error| format!("{source} is not a secret key URI: {error:?}"))
}

/// Whether `--key`'s value is a file's path rather than a URI: an existing file, or something
/// shaped like a path (a `/` in it, no spaces, and not a derivation `//…` or a `0x` seed), so
/// that a mistyped path is reported as a missing file, not as a bad secret.
fn names_a_file(argument: &str) -> bool {
	Path::new(argument).is_file()
		|| (argument.contains('/')
			&& !argument.contains(char::is_whitespace)
			&& !argument.starts_with("//")
			&& !argument.starts_with("0x"))
}

/// The secret URI in the file at `path`, refused if users other than its owner may read it.
fn read_key_file(path: &Path) -> Result<String, String> {
	use std::os::unix::fs::PermissionsExt;
	let metadata = std::fs::metadata(path)
		.map_err(|error| format!("cannot read the key file {}: {error}", path.display()))?;
	let mode = metadata.permissions().mode();
	if mode & 0o077 != 0 {
		return Err(format!(
			"the key file {} may be read by other users (mode {:o}): `chmod 600` it",
			path.display(),
			mode & 0o777
		));
	}
	std::fs::read_to_string(path)
		.map_err(|error| format!("cannot read the key file {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{cell::RefCell, os::unix::fs::PermissionsExt};

	fn public(pair: &sr25519::Pair) -> sr25519::Public {
		pair.public()
	}

	#[test]
	fn a_key_comes_from_the_argument_a_file_or_the_environment_never_by_default() {
		let alice = sr25519::Pair::from_string("//Alice", None).unwrap();
		let warnings = RefCell::new(Vec::new());
		let warn = |message: &str| warnings.borrow_mut().push(message.to_owned());

		assert_eq!(public(&signing_key(Some("//Alice"), warn).unwrap()), public(&alice));
		assert!(warnings.borrow().is_empty(), "a development key is no secret");

		let dir = tempfile::tempdir().unwrap();
		let file = dir.path().join("alice.suri");
		std::fs::write(&file, "//Alice\n").unwrap();
		std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
		let from_file = signing_key(Some(file.to_str().unwrap()), warn).unwrap();
		assert_eq!(public(&from_file), public(&alice));

		std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
		let error = signing_key(Some(file.to_str().unwrap()), warn).err().unwrap();
		assert!(error.contains("chmod 600"), "{error}");

		let phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
		signing_key(Some(phrase), warn).unwrap();
		assert_eq!(warnings.borrow().len(), 1, "a secret phrase on the command line is warned of");

		let error = signing_key(Some("not a key"), warn).err().unwrap();
		assert!(error.starts_with("--key is not a secret key URI"), "{error}");
		let missing = dir.path().join("missing.suri");
		let error = signing_key(Some(missing.to_str().unwrap()), warn).err().unwrap();
		assert!(error.starts_with("cannot read the key file"), "{error}");
	}

	#[test]
	fn without_a_key_the_environment_is_read_and_otherwise_nothing_is_assumed() {
		// The only test of this crate that touches the variable.
		std::env::remove_var(KEY_VARIABLE);
		let error = signing_key(None, |_| {}).err().unwrap();
		assert!(error.starts_with("no key"), "{error}");
		std::env::set_var(KEY_VARIABLE, "//Bob");
		let bob = sr25519::Pair::from_string("//Bob", None).unwrap();
		assert_eq!(public(&signing_key(None, |_| {}).unwrap()), public(&bob));
		std::env::remove_var(KEY_VARIABLE);
	}
}
