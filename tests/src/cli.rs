//! The `commons` command line, run as a provider or a requester would: [`cli()`] and [`commons`],
//! and [`RunRequest`], the arguments of `commons run` by name.

use std::{
	path::{Path, PathBuf},
	process::Stdio,
};

use pallet_marketplace::{AppId, CategoryId, DatasetId, Measurement, Tag};
use sp_keyring::Sr25519Keyring;

use crate::{built_binary, TestNode};

/// The `commons` command line of this build (or `$COMMONS_CLI`).
pub fn cli_binary() -> PathBuf {
	built_binary("commons", "COMMONS_CLI")
}

/// The secret URI of a dev key: `//Alice`, `//Ferdie//stash`.
pub fn suri(key: Sr25519Keyring) -> String {
	format!("//{key}").replace("Stash", "//stash")
}

/// Runs `commons --rpc <node> --key <key> <args>`: its standard output when it succeeds, its
/// standard error when it fails. Its standard error is also printed, as the test's.
pub async fn cli<S: AsRef<std::ffi::OsStr>>(
	node: &TestNode,
	key: &str,
	args: &[S],
) -> Result<String, String> {
	let output = tokio::process::Command::new(cli_binary())
		.arg("--rpc")
		.arg(node.rpc_url())
		.args(["--key", key])
		.args(args)
		.stdin(Stdio::null())
		.output()
		.await
		.expect("commons runs");
	let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
	let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
	// What it reported on the way (deal, task progress, timings) shows with the test's output.
	for line in stderr.lines() {
		eprintln!("commons: {line}");
	}
	if output.status.success() {
		Ok(stdout)
	} else {
		Err(stderr)
	}
}

/// Runs the command line as the dev key `key` and returns its output, failing the test on an
/// error.
pub async fn commons<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
	node: &TestNode,
	key: Sr25519Keyring,
	args: &[S],
) -> String {
	cli(node, &suri(key), args)
		.await
		.unwrap_or_else(|error| panic!("commons {args:?} as {key} failed: {error}"))
}

/// What `commons --json <args>` prints as the dev key `key`, parsed as a script would, failing
/// the test on an error or on output that is not JSON.
pub async fn commons_json(
	node: &TestNode,
	key: Sr25519Keyring,
	args: &[&str],
) -> serde_json::Value {
	let output = commons(node, key, &[&["--json"], args].concat()).await;
	serde_json::from_str(&output)
		.unwrap_or_else(|error| panic!("{args:?} printed {output:?}: {error}"))
}

/// The id in what a registration printed: `app 3` for `kind` `app` is 3.
pub fn created_id(output: &str, kind: &str) -> u32 {
	output
		.trim()
		.strip_prefix(kind)
		.and_then(|rest| rest.strip_prefix(' '))
		.and_then(|id| id.parse().ok())
		.unwrap_or_else(|| panic!("expected `{kind} <id>`, got {output:?}"))
}

/// What a requester asks `commons run` for, by name: built with [`RunRequest::new`] and the
/// options that differ from the command's defaults (category 0, trust 1, one task, no tag, no
/// dataset, no params), then turned into the command's [`args`](Self::args).
#[derive(Clone, Debug)]
pub struct RunRequest {
	app: AppId,
	dataset: Option<DatasetId>,
	category: CategoryId,
	trust: u32,
	volume: u32,
	params: Option<String>,
	tag: Tag,
	max_price: String,
	output: PathBuf,
	timeout_secs: Option<u64>,
	result_key_file: Option<PathBuf>,
}

impl RunRequest {
	/// A request to run `app` for at most `max_price` per task (in CMN, `1.5`, or in units,
	/// `1500u`), its result written to `output`.
	pub fn new(app: AppId, max_price: &str, output: &Path) -> Self {
		Self {
			app,
			dataset: None,
			category: 0,
			trust: 1,
			volume: 1,
			params: None,
			tag: 0,
			max_price: max_price.into(),
			output: output.to_owned(),
			timeout_secs: None,
			result_key_file: None,
		}
	}

	/// Runs `app` instead.
	pub fn app(mut self, app: AppId) -> Self {
		self.app = app;
		self
	}

	/// Gives the app `dataset`.
	pub fn dataset(mut self, dataset: DatasetId) -> Self {
		self.dataset = Some(dataset);
		self
	}

	/// Asks for tasks of `category`.
	pub fn category(mut self, category: CategoryId) -> Self {
		self.category = category;
		self
	}

	/// Asks for `trust`: more than 1 asks for agreeing workers.
	pub fn trust(mut self, trust: u32) -> Self {
		self.trust = trust;
		self
	}

	/// Asks for `volume` tasks.
	pub fn volume(mut self, volume: u32) -> Self {
		self.volume = volume;
		self
	}

	/// Gives the app `params` as its arguments.
	pub fn params(mut self, params: &str) -> Self {
		self.params = Some(params.into());
		self
	}

	/// Asks for workers with the tags `tag` (TEE, and which TEE).
	pub fn tag(mut self, tag: Tag) -> Self {
		self.tag = tag;
		self
	}

	/// Waits at most `seconds` for the result.
	pub fn timeout_secs(mut self, seconds: u64) -> Self {
		self.timeout_secs = Some(seconds);
		self
	}

	/// Opens a result sealed to the beneficiary with the result key in `path` (written by
	/// `commons result-key`).
	pub fn result_key_file(mut self, path: &Path) -> Self {
		self.result_key_file = Some(path.to_owned());
		self
	}

	/// The `commons run` command line: `run --app ...`.
	pub fn args(&self) -> Vec<String> {
		let mut args: Vec<String> = vec![
			"run".into(),
			"--app".into(),
			self.app.to_string(),
			"--category".into(),
			self.category.to_string(),
			"--trust".into(),
			self.trust.to_string(),
			"--volume".into(),
			self.volume.to_string(),
			"--tag".into(),
			self.tag.to_string(),
			"--max-price".into(),
			self.max_price.clone(),
			"--output".into(),
			self.output.display().to_string(),
		];
		if let Some(dataset) = self.dataset {
			args.extend(["--dataset".into(), dataset.to_string()]);
		}
		if let Some(params) = &self.params {
			args.extend(["--params".into(), params.clone()]);
		}
		if let Some(seconds) = self.timeout_secs {
			args.extend(["--timeout".into(), seconds.to_string()]);
		}
		if let Some(path) = &self.result_key_file {
			args.extend(["--result-key-file".into(), path.display().to_string()]);
		}
		args
	}
}

/// `measurement` as `commons create-app --measurement` and `commons key-service
/// --allow-measurement` take it.
pub fn measurement_arg(measurement: Measurement) -> String {
	let hex = |bytes: &[u8]| sp_core::hexdisplay::HexDisplay::from(&bytes).to_string();
	match measurement {
		Measurement::SgxMrEnclave(bytes) => format!("sgx:0x{}", hex(&bytes)),
		Measurement::SgxSigner { mr_signer, isv_prod_id, min_isv_svn } => {
			format!("sgx-signer:0x{},{isv_prod_id},{min_isv_svn}", hex(&mr_signer))
		}
		Measurement::Tdx(bytes) => format!("tdx:0x{}", hex(&bytes)),
	}
}
