//! Where the command line and the compute node get the secret key they sign with, as
//! polkadot-sdk's own tools do (`--suri`): never a default account.
//!
//! `--key` takes a secret URI (a mnemonic, a `0x` seed, with derivations, or a development
//! derivation such as `//Alice`) or the path of a file holding one; without `--key`, the
//! environment variable `COMMONS_KEY` holds the URI. A secret written on the command line is
//! visible to every user of the machine (`ps`), so a secret other than a development
//! derivation gets a warning there; a key file readable by other users is refused, as ssh
//! refuses a private key anyone can read.
//!
//! A key file may also be an account exported from Polkadot-JS (its JSON, sealed with a
//! password): the password comes from `COMMONS_KEY_PASSWORD` or, on a terminal, a prompt. With
//! neither `--key` nor `COMMONS_KEY`, a terminal is asked for the URI or the file, unechoed.

mod polkadot_js;
mod scrypt;

use std::{io::IsTerminal, path::Path};

use sp_core::{sr25519, Pair};

/// The environment variable holding the signing key's secret URI when `--key` is not given.
pub const KEY_VARIABLE: &str = "COMMONS_KEY";
/// The environment variable holding the password of a key file exported from Polkadot-JS.
pub const PASSWORD_VARIABLE: &str = "COMMONS_KEY_PASSWORD";

/// The key given by `--key` (`argument`) or else by [`KEY_VARIABLE`] or else typed on the
/// terminal; an error saying how to give one if none is. `warn` receives the warning about a
/// secret on the command line.
pub fn signing_key(argument: Option<&str>, warn: impl Fn(&str)) -> Result<sr25519::Pair, String> {
	signing_key_asking(argument, warn, ask_on_terminal)
}

/// The answer to `question` typed on the terminal without echo; `None` without a terminal (a
/// service, a pipe), where nobody could answer.
fn ask_on_terminal(question: &str) -> Option<String> {
	if !std::io::stdin().is_terminal() {
		return None;
	}
	rpassword::prompt_password(question).ok()
}

/// [`signing_key`], asking `ask` for what the command line and the environment do not give.
fn signing_key_asking(
	argument: Option<&str>,
	warn: impl Fn(&str),
	ask: impl Fn(&str) -> Option<String>,
) -> Result<sr25519::Pair, String> {
	let (uri, source) = match argument {
		Some(argument) if names_a_file(argument) => return key_from_file(Path::new(argument), ask),
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
			Err(_) => match ask("secret key URI or key file (not echoed): ") {
				Some(answer) if names_a_file(answer.trim()) => {
					return key_from_file(Path::new(answer.trim()), ask)
				}
				Some(uri) => (uri, "the secret typed".to_owned()),
				None => {
					return Err(format!(
						"no key: give --key with a secret URI or the path of a file holding one, \
						 or set {KEY_VARIABLE} (on a development chain, for example --key //Alice)"
					))
				}
			},
		},
	};
	sr25519::Pair::from_string(uri.trim(), None)
		.map_err(|error| format!("{source} is not a secret key URI: {error:?}"))
}

/// The key in the file at `path`: a secret URI, or a Polkadot-JS export opened with the password
/// from [`PASSWORD_VARIABLE`] or else asked of `ask`.
fn key_from_file(
	path: &Path,
	ask: impl Fn(&str) -> Option<String>,
) -> Result<sr25519::Pair, String> {
	let contents = read_key_file(path)?;
	let source = format!("the key file {}", path.display());
	if !polkadot_js::is_json_export(&contents) {
		return sr25519::Pair::from_string(contents.trim(), None)
			.map_err(|error| format!("{source} is not a secret key URI: {error:?}"));
	}
	let password = match std::env::var(PASSWORD_VARIABLE) {
		Ok(password) => password,
		Err(_) => {
			ask(&format!("password of {} (not echoed): ", path.display())).ok_or_else(|| {
				format!(
					"{source} is a Polkadot-JS export sealed with a password: set \
					 {PASSWORD_VARIABLE}, or run on a terminal to be asked for it"
				)
			})?
		}
	};
	polkadot_js::open_json_export(&contents, &password)
		.map_err(|error| format!("{source}: {error}"))
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
	use sp_core::crypto::Ss58Codec;
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
	fn without_a_key_the_environment_or_the_terminal_is_asked_and_otherwise_nothing_is_assumed() {
		// The only test of this crate that touches the variables.
		std::env::remove_var(KEY_VARIABLE);
		std::env::remove_var(PASSWORD_VARIABLE);
		let nobody = |_: &str| None;
		let error = signing_key_asking(None, |_| {}, nobody).err().unwrap();
		assert!(error.starts_with("no key"), "{error}");
		let bob = sr25519::Pair::from_string("//Bob", None).unwrap();
		let typed = signing_key_asking(None, |_| {}, |_: &str| Some("//Bob\n".into())).unwrap();
		assert_eq!(public(&typed), public(&bob));
		std::env::set_var(KEY_VARIABLE, "//Bob");
		assert_eq!(public(&signing_key_asking(None, |_| {}, nobody).unwrap()), public(&bob));
		std::env::remove_var(KEY_VARIABLE);

		// A Polkadot-JS export: its password typed, or from the environment, or refused.
		let dir = tempfile::tempdir().unwrap();
		let file = dir.path().join("export.json");
		std::fs::write(&file, polkadot_js::tests::EXPORT).unwrap();
		std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
		let path = file.to_str().unwrap();
		let asked = std::cell::Cell::new(0);
		let typing = |password: &'static str| {
			let asked = &asked;
			move |question: &str| {
				assert!(question.starts_with("password of"), "{question}");
				asked.set(asked.get() + 1);
				Some(password.to_owned())
			}
		};
		let pair = signing_key_asking(Some(path), |_| {}, typing("111")).unwrap();
		assert_eq!(pair.public().to_ss58check(), polkadot_js::tests::ADDRESS);
		let error = signing_key_asking(Some(path), |_| {}, typing("112")).err().unwrap();
		assert!(error.contains("wrong password"), "{error}");
		let error = signing_key_asking(Some(path), |_| {}, nobody).err().unwrap();
		assert!(error.contains(PASSWORD_VARIABLE), "{error}");
		std::env::set_var(PASSWORD_VARIABLE, "111");
		let pair = signing_key_asking(Some(path), |_| {}, nobody).unwrap();
		assert_eq!(pair.public().to_ss58check(), polkadot_js::tests::ADDRESS);
		std::env::remove_var(PASSWORD_VARIABLE);
		assert_eq!(asked.get(), 2, "the terminal is asked only without the variable");
		// The file may also be typed when no key is given.
		let typed_file = |question: &str| {
			Some(if question.starts_with("secret") { path.to_owned() } else { "111".into() })
		};
		let pair = signing_key_asking(None, |_| {}, typed_file).unwrap();
		assert_eq!(pair.public().to_ss58check(), polkadot_js::tests::ADDRESS);
	}
}
