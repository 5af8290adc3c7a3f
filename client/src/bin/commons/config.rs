//! Where `commons` finds its node and its key when the command line does not say: the
//! environment (`COMMONS_RPC`, `COMMONS_KEY`), then a configuration file, then the defaults.
//!
//! The file is TOML, at `$COMMONS_CONFIG`, else `$XDG_CONFIG_HOME/commons/config.toml`, else
//! `~/.config/commons/config.toml`; it is optional unless `COMMONS_CONFIG` names it:
//!
//! ```toml
//! rpc = "http://127.0.0.1:9944"
//! key = "/home/me/.config/commons/requester.key"   # a key file, never a secret itself
//! ```

use std::path::{Path, PathBuf};

use commons_client::keys::KEY_VARIABLE;

/// The variable naming the node's JSON-RPC endpoint when `--rpc` is not given.
pub const RPC_VARIABLE: &str = "COMMONS_RPC";
/// The variable naming the configuration file.
pub const CONFIG_VARIABLE: &str = "COMMONS_CONFIG";
/// The endpoint of a node on this machine with the default ports.
pub const DEFAULT_RPC: &str = "http://127.0.0.1:9944";

/// What the configuration file may set.
#[derive(Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
	/// The node's JSON-RPC endpoint.
	rpc: Option<String>,
	/// The path of a key file (see `--key`).
	key: Option<PathBuf>,
}

impl Config {
	/// The configuration file's settings: none if there is no file where one is looked for,
	/// an error if `COMMONS_CONFIG` names a missing file or the file is not valid.
	pub fn load() -> Result<Self, String> {
		let (path, required) = match std::env::var_os(CONFIG_VARIABLE) {
			Some(path) => (PathBuf::from(path), true),
			None => match default_path() {
				Some(path) => (path, false),
				None => return Ok(Self::default()),
			},
		};
		match std::fs::read_to_string(&path) {
			Ok(text) => Self::parse(&text, &path),
			Err(error) if error.kind() == std::io::ErrorKind::NotFound && !required => {
				Ok(Self::default())
			}
			Err(error) => Err(format!("cannot read the configuration {}: {error}", path.display())),
		}
	}

	fn parse(text: &str, path: &Path) -> Result<Self, String> {
		let config: Self = toml::from_str(text).map_err(|error| {
			format!("the configuration {} is not valid: {error}", path.display())
		})?;
		if let Some(key) = &config.key {
			if !key.is_absolute() {
				return Err(format!(
					"the configuration {}: `key` must be the absolute path of a key file",
					path.display()
				));
			}
		}
		Ok(config)
	}

	/// The endpoint: `--rpc`, else `COMMONS_RPC`, else the file's, else [`DEFAULT_RPC`].
	pub fn rpc(&self, argument: Option<String>) -> String {
		argument
			.or_else(|| std::env::var(RPC_VARIABLE).ok())
			.or_else(|| self.rpc.clone())
			.unwrap_or_else(|| DEFAULT_RPC.into())
	}

	/// What names the key: `--key`, else nothing if `COMMONS_KEY` is set (the key reader takes
	/// it from there), else the file's key file.
	pub fn key(&self, argument: Option<String>) -> Option<String> {
		if argument.is_some() || std::env::var_os(KEY_VARIABLE).is_some() {
			return argument;
		}
		self.key.as_ref().map(|path| path.display().to_string())
	}
}

/// `$XDG_CONFIG_HOME/commons/config.toml`, else `$HOME/.config/commons/config.toml`.
fn default_path() -> Option<PathBuf> {
	let base = std::env::var_os("XDG_CONFIG_HOME")
		.map(PathBuf::from)
		.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
	Some(base.join("commons").join("config.toml"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_file_sets_the_node_and_a_key_file() {
		let path = Path::new("config.toml");
		let config =
			Config::parse("rpc = \"http://node:9944\"\nkey = \"/home/me/requester.key\"\n", path)
				.unwrap();
		assert_eq!(config.rpc.as_deref(), Some("http://node:9944"));
		assert_eq!(config.key.as_deref(), Some(Path::new("/home/me/requester.key")));
		assert_eq!(Config::parse("", path).unwrap(), Config::default());
	}

	#[test]
	fn a_bad_file_is_refused_with_its_path() {
		let path = Path::new("/etc/commons.toml");
		let unknown = Config::parse("rpc = \"http://node:9944\"\nsecret = \"//Alice\"\n", path);
		assert!(unknown.unwrap_err().contains("/etc/commons.toml is not valid"));
		let relative = Config::parse("key = \"requester.key\"\n", path);
		assert!(relative.unwrap_err().contains("absolute path of a key file"));
		assert!(Config::parse("rpc = 9944\n", path).is_err());
	}

	#[test]
	fn the_command_line_wins_then_the_file_then_the_default() {
		// The environment is left as the test runner has it: COMMONS_RPC is not set there.
		assert!(std::env::var_os(RPC_VARIABLE).is_none());
		let config = Config { rpc: Some("http://file:1".into()), key: None };
		assert_eq!(config.rpc(Some("http://flag:2".into())), "http://flag:2");
		assert_eq!(config.rpc(None), "http://file:1");
		assert_eq!(Config::default().rpc(None), DEFAULT_RPC);
	}
}
