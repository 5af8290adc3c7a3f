//! [`Chain`]: a node's JSON-RPC endpoint, and the calls the client makes to it. Blocks, storage,
//! runtime API calls and raw submissions are here; the typed storage readers are in
//! `reads.rs`, signing and waiting for a transaction's outcome in `submission.rs`.

use std::time::Duration;

use codec::{Decode, Encode};
use commons_runtime::{
	signing::ChainIdentity, AccountId, BlockNumber, Hash, Nonce, RuntimeCall, UncheckedExtrinsic,
};
use jsonrpsee::{
	core::client::ClientT,
	http_client::{HttpClient, HttpClientBuilder},
};
use serde_json::Value;
use sp_core::bytes::{from_hex, to_hex};

use crate::{rpc_params, ArrayParams, ClientError};

/// The JSON-RPC error code of a transaction the pool had no room for (sc-rpc-api's
/// `POOL_IMMEDIATELY_DROPPED`, "Immediately Dropped").
const POOL_FULL: i32 = 1016;

/// A node's JSON-RPC endpoint, read at its best block or at one block ([`Chain::at`]).
#[derive(Clone)]
pub struct Chain {
	/// A name for error messages (the node's).
	pub name: String,
	rpc: HttpClient,
	/// The URL it was made with.
	pub(crate) url: String,
	/// The block the typed readers read at; the best block if `None`.
	pub(crate) at: Option<Hash>,
}

/// `value` read as a 32-byte hash in hex.
pub(crate) fn parse_hash(value: &Value) -> Result<Hash, ClientError> {
	let bad = |message: String| ClientError::Decode { what: format!("the hash {value}"), message };
	let text = value.as_str().ok_or_else(|| bad("not a string".into()))?;
	let bytes = from_hex(text).map_err(|error| bad(error.to_string()))?;
	(bytes.len() == 32)
		.then(|| Hash::from_slice(&bytes))
		.ok_or_else(|| bad(format!("a hash has 32 bytes, this one {}", bytes.len())))
}

/// `value` read as a block number in hex.
fn parse_number(value: &Value) -> Result<BlockNumber, ClientError> {
	let bad = |message: String| ClientError::Decode {
		what: format!("the block number {value}"),
		message,
	};
	let text = value.as_str().ok_or_else(|| bad("not a string".into()))?;
	BlockNumber::from_str_radix(text.trim_start_matches("0x"), 16)
		.map_err(|error| bad(error.to_string()))
}

impl Chain {
	/// A client of the node serving JSON-RPC over HTTP at `url`, called `name` in errors.
	pub fn new(name: &str, url: &str) -> Result<Self, ClientError> {
		let rpc = HttpClientBuilder::default()
			.request_timeout(Duration::from_secs(10))
			.build(url)
			.map_err(|error| ClientError::Other(format!("bad RPC URL {url}: {error}")))?;
		Ok(Self { name: name.into(), rpc, url: url.into(), at: None })
	}

	/// The same endpoint, whose typed readers (`task`, `deal`, `enclave`, …) read block `hash`
	/// instead of the best block.
	pub fn at(&self, hash: Hash) -> Self {
		Self { at: Some(hash), ..self.clone() }
	}

	/// Whether the node is on this machine (a loopback address or `localhost`): one whose
	/// answers are as trustworthy as the machine itself, since they are not proven.
	pub fn is_local(&self) -> bool {
		let host = self
			.url
			.split_once("://")
			.map_or(self.url.as_str(), |(_, rest)| rest)
			.split(['/', '?'])
			.next()
			.unwrap_or_default();
		// Drop the port: after the closing bracket of an IPv6 literal, or after the last colon.
		let host = match host.strip_prefix('[') {
			Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
			None => host.rsplit_once(':').map_or(host, |(name, _)| name),
		};
		host.eq_ignore_ascii_case("localhost")
			|| host.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
	}

	/// The hash of the node's last finalized block.
	pub async fn finalized_hash(&self) -> Result<Hash, ClientError> {
		let hash: Value = self.rpc("chain_getFinalizedHead", rpc_params![]).await?;
		parse_hash(&hash)
	}

	/// The kind of chain the node runs, as its chain spec says: `Development`, `Local`, `Live`.
	pub async fn chain_type(&self) -> Result<String, ClientError> {
		let kind: Value = self.rpc("system_chainType", rpc_params![]).await?;
		match kind {
			Value::String(name) => Ok(name),
			// Custom chain types are an object `{"Custom": name}`.
			other => Ok(other.to_string()),
		}
	}

	/// Calls `method` with `params` and decodes the result.
	pub async fn rpc<T: serde::de::DeserializeOwned>(
		&self,
		method: &str,
		params: ArrayParams,
	) -> Result<T, ClientError> {
		self.rpc
			.request(method, params)
			.await
			.map_err(|error| self.rpc_error(method, error))
	}

	/// The error of a failed call of `method`.
	fn rpc_error(&self, method: &str, error: jsonrpsee::core::client::Error) -> ClientError {
		ClientError::Rpc {
			node: self.name.clone(),
			method: method.into(),
			message: error.to_string(),
		}
	}

	/// Checks that the node runs the runtime this program was built with. Task ids, result
	/// hashes and seals, the enclave message and the compatibility rules are computed with the
	/// pallets' own functions linked into the program; after a runtime upgrade they may differ
	/// from the chain's, and a worker would vote with the wrong hash or a key service seal for
	/// the wrong task. So a program that acts for an account refuses to start against another
	/// runtime version: rebuild it from the release the chain runs.
	pub async fn ensure_same_runtime(&self) -> Result<(), ClientError> {
		let live = self.runtime_version().await?;
		let native = RuntimeVersionSummary::native();
		if live.spec_name != native.spec_name || live.spec_version != native.spec_version {
			return Err(ClientError::Other(format!(
				"{}: the node runs {live}, but this program was built with {native}; \
				 rebuild it from the chain's release",
				self.name
			)));
		}
		Ok(())
	}

	/// The version of the runtime the node runs now.
	pub async fn runtime_version(&self) -> Result<RuntimeVersionSummary, ClientError> {
		let version: Value = self.rpc("state_getRuntimeVersion", rpc_params![]).await?;
		let bad = |message: String| ClientError::Decode {
			what: format!("the runtime version {version}"),
			message,
		};
		let number = |name: &str| {
			version[name]
				.as_u64()
				.and_then(|value| u32::try_from(value).ok())
				.ok_or_else(|| bad(format!("it has no {name}")))
		};
		Ok(RuntimeVersionSummary {
			spec_name: version["specName"]
				.as_str()
				.ok_or_else(|| bad("it has no specName".into()))?
				.to_owned(),
			spec_version: number("specVersion")?,
			transaction_version: number("transactionVersion")?,
		})
	}

	/// The number of the block with `hash`.
	pub async fn block_number(&self, hash: Hash) -> Result<BlockNumber, ClientError> {
		let header: Value = self.rpc("chain_getHeader", rpc_params![hash]).await?;
		parse_number(&header["number"])
	}

	/// The number of the node's best block.
	pub async fn best_number(&self) -> Result<BlockNumber, ClientError> {
		let header: Value = self.rpc("chain_getHeader", rpc_params![]).await?;
		parse_number(&header["number"])
	}

	/// The number of the node's last finalized block.
	pub async fn finalized_number(&self) -> Result<BlockNumber, ClientError> {
		let hash = self.finalized_hash().await?;
		self.block_number(hash).await
	}

	/// The hash of block `number` on the node's best chain.
	pub async fn block_hash(&self, number: BlockNumber) -> Result<Hash, ClientError> {
		let hash: Value = self.rpc("chain_getBlockHash", rpc_params![number]).await?;
		parse_hash(&hash)
	}

	/// What a transaction for this chain must commit to: genesis and the live runtime's
	/// versions, read from the node (never assumed from the native runtime). A runtime whose
	/// transactions this program encodes differently is [`ClientError::IncompatibleRuntime`]
	/// (see [`RuntimeVersionSummary::signs_like`]).
	pub async fn chain_identity(&self) -> Result<ChainIdentity, ClientError> {
		let genesis_hash = self.block_hash(0).await?;
		let live = self.runtime_version().await?;
		let native = RuntimeVersionSummary::native();
		if !live.signs_like(&native) {
			return Err(ClientError::IncompatibleRuntime {
				node: self.name.clone(),
				live: live.to_string(),
				built: native.to_string(),
			});
		}
		Ok(ChainIdentity {
			genesis_hash,
			spec_version: live.spec_version,
			transaction_version: live.transaction_version,
		})
	}

	/// The next nonce of `account`, counting its transactions in the pool.
	pub async fn next_nonce(&self, account: &AccountId) -> Result<Nonce, ClientError> {
		self.rpc("system_accountNextIndex", rpc_params![account.to_string()]).await
	}

	/// Reads and decodes the storage value at `key` in block `at` (the best block if `None`).
	/// The typed readers (`chain.task(id)`, `chain.deal(id)`, …) are built on it.
	pub async fn storage<T: Decode>(
		&self,
		key: &[u8],
		at: Option<Hash>,
	) -> Result<Option<T>, ClientError> {
		let value: Option<String> =
			self.rpc("state_getStorage", rpc_params![to_hex(key, false), at]).await?;
		let what = || std::any::type_name::<T>().to_owned();
		value
			.map(|hex| {
				let bytes = from_hex(&hex).map_err(|error| ClientError::Decode {
					what: what(),
					message: format!("bad storage hex: {error}"),
				})?;
				T::decode(&mut &bytes[..]).map_err(|error| ClientError::Decode {
					what: what(),
					message: error.to_string(),
				})
			})
			.transpose()
	}

	/// Every storage entry under `prefix` (a map's, or a double map's for one first key) in
	/// the block the typed readers read, a page of keys at a time: each key with the part after
	/// `prefix`, and its value, undecoded.
	pub async fn storage_entries(
		&self,
		prefix: &[u8],
	) -> Result<Vec<(Vec<u8>, Vec<u8>)>, ClientError> {
		const PAGE: u32 = 500;
		let at = match self.at {
			Some(hash) => hash,
			None => self.block_hash(self.best_number().await?).await?,
		};
		let bad = |message: String| ClientError::Decode {
			what: format!("the storage under {}", to_hex(prefix, false)),
			message,
		};
		let prefix_hex = to_hex(prefix, false);
		let mut entries = Vec::new();
		let mut after: Option<String> = None;
		loop {
			let keys: Vec<String> = self
				.rpc("state_getKeysPaged", rpc_params![&prefix_hex, PAGE, &after, at])
				.await?;
			if keys.is_empty() {
				return Ok(entries);
			}
			let changes: Vec<Value> =
				self.rpc("state_queryStorageAt", rpc_params![&keys, at]).await?;
			for change in changes.iter().filter_map(|set| set["changes"].as_array()).flatten() {
				let (Some(key), Some(value)) = (change[0].as_str(), change[1].as_str()) else {
					continue; // removed since the keys were listed: not an entry
				};
				let key = from_hex(key).map_err(|error| bad(error.to_string()))?;
				let value = from_hex(value).map_err(|error| bad(error.to_string()))?;
				let suffix = key.strip_prefix(prefix).ok_or_else(|| bad("a key outside".into()))?;
				entries.push((suffix.to_vec(), value));
			}
			if keys.len() < PAGE as usize {
				return Ok(entries);
			}
			after = keys.last().cloned();
		}
	}

	/// Calls the runtime API function `method` with SCALE-encoded `arguments` at the best block.
	pub async fn runtime_api<R: Decode>(
		&self,
		method: &str,
		arguments: impl Encode,
	) -> Result<R, ClientError> {
		let hex: String = self
			.rpc("state_call", rpc_params![method, to_hex(&arguments.encode(), false)])
			.await?;
		let what = || format!("the answer of {method}");
		let bytes = from_hex(&hex)
			.map_err(|error| ClientError::Decode { what: what(), message: error.to_string() })?;
		R::decode(&mut &bytes[..])
			.map_err(|error| ClientError::Decode { what: what(), message: error.to_string() })
	}

	/// The hash of block `number` of the best chain, and its extrinsics as the node lists them
	/// (SCALE-encoded, in hex).
	async fn block_extrinsics(
		&self,
		number: BlockNumber,
	) -> Result<(Hash, Vec<Value>), ClientError> {
		let hash = self.block_hash(number).await?;
		Ok((hash, self.extrinsics_in(hash).await?))
	}

	/// The extrinsics of block `hash` as the node lists them (SCALE-encoded, in hex).
	async fn extrinsics_in(&self, hash: Hash) -> Result<Vec<Value>, ClientError> {
		let block: Value = self.rpc("chain_getBlock", rpc_params![hash]).await?;
		block["block"]["extrinsics"]
			.as_array()
			.cloned()
			.ok_or_else(|| ClientError::Decode {
				what: format!("block {hash:?}"),
				message: "it has no extrinsics list".into(),
			})
	}

	/// The index of `extrinsic` in block `hash`; an error if the block does not hold it.
	pub async fn extrinsic_index(
		&self,
		hash: Hash,
		extrinsic: &UncheckedExtrinsic,
	) -> Result<u32, ClientError> {
		let wanted = to_hex(&extrinsic.encode(), false);
		let extrinsics = self.extrinsics_in(hash).await?;
		let index = extrinsics.iter().position(|xt| xt.as_str() == Some(&wanted));
		index.map(|index| index as u32).ok_or_else(|| {
			ClientError::Other(format!("block {hash:?} does not hold the transaction"))
		})
	}

	/// The calls of the transactions in block `number`.
	pub async fn block_calls(&self, number: BlockNumber) -> Result<Vec<RuntimeCall>, ClientError> {
		let (_, extrinsics) = self.block_extrinsics(number).await?;
		extrinsics
			.iter()
			.map(|hex| {
				let bad = |message: String| ClientError::Decode {
					what: format!("an extrinsic of block {number}"),
					message,
				};
				let bytes =
					from_hex(hex.as_str().unwrap_or_default()).map_err(|e| bad(e.to_string()))?;
				UncheckedExtrinsic::decode(&mut &bytes[..])
					.map(|extrinsic| extrinsic.function)
					.map_err(|error| bad(error.to_string()))
			})
			.collect()
	}

	/// Submits `extrinsic` to the node's pool and returns its hash. A transaction the pool has
	/// no room for is [`ClientError::PoolFull`]; one it does not take otherwise is
	/// [`ClientError::Refused`], with the pool's reason.
	pub async fn submit(&self, extrinsic: &UncheckedExtrinsic) -> Result<Hash, ClientError> {
		const METHOD: &str = "author_submitExtrinsic";
		let params = rpc_params![to_hex(&extrinsic.encode(), false)];
		let hash: Value = self
			.rpc
			.request(METHOD, params)
			.await
			.map_err(|error| self.submission_error(METHOD, error))?;
		parse_hash(&hash)
	}

	/// The error of a submission by `method`: [`ClientError::PoolFull`] if the pool had no
	/// room for it, [`ClientError::Refused`] with the pool's reason if it refused it otherwise,
	/// else the RPC failure.
	pub(crate) fn submission_error(
		&self,
		method: &str,
		error: jsonrpsee::core::client::Error,
	) -> ClientError {
		match error {
			// The pool is full of transactions that outrank this one ("Immediately Dropped"):
			// it may take it once blocks make room, so this is not a refusal.
			jsonrpsee::core::client::Error::Call(refusal) if refusal.code() == POOL_FULL => {
				ClientError::PoolFull
			}
			// The node answered: its pool refused the transaction, and says why.
			jsonrpsee::core::client::Error::Call(refusal) => {
				let reason = match refusal.data() {
					Some(data) => {
						let detail = serde_json::from_str::<String>(data.get())
							.unwrap_or_else(|_| data.get().to_owned());
						format!("{} ({detail})", refusal.message())
					}
					None => refusal.message().to_owned(),
				};
				ClientError::Refused(reason)
			}
			other => self.rpc_error(method, other),
		}
	}

	/// Finds `extrinsic` in blocks `from..=best` of the best chain: its block hash and index.
	/// Not finding it is an error.
	pub async fn find_extrinsic(
		&self,
		extrinsic: &UncheckedExtrinsic,
		from: BlockNumber,
	) -> Result<(Hash, u32), ClientError> {
		let wanted = to_hex(&extrinsic.encode(), false);
		let best = self.best_number().await?;
		for number in from..=best {
			let (hash, extrinsics) = self.block_extrinsics(number).await?;
			if let Some(index) = extrinsics.iter().position(|xt| xt.as_str() == Some(&wanted)) {
				return Ok((hash, index as u32));
			}
		}
		Err(ClientError::Other(format!("not in blocks {from}..={best}")))
	}
}

/// The parts of a runtime's version a client compares: which chain's runtime, which release,
/// and which encoding of calls and transaction extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeVersionSummary {
	/// The runtime's name (`commons`).
	pub spec_name: String,
	/// Its release: up with every change of behaviour.
	pub spec_version: u32,
	/// Up with every change of call indices, call arguments or transaction extensions.
	pub transaction_version: u32,
}

impl RuntimeVersionSummary {
	/// The runtime this program was built with.
	pub fn native() -> Self {
		let native = &commons_runtime::VERSION;
		Self {
			spec_name: native.spec_name.to_string(),
			spec_version: native.spec_version,
			transaction_version: native.transaction_version,
		}
	}

	/// Whether a transaction this program builds for runtime `built` means the same call on this
	/// runtime: same chain runtime and same transaction version. A higher `spec_version` alone
	/// (an upgrade that kept calls and extensions) still does.
	pub fn signs_like(&self, built: &Self) -> bool {
		self.spec_name == built.spec_name && self.transaction_version == built.transaction_version
	}

	/// What a program built with runtime `built` should tell its user when this, the node's
	/// runtime, is another release: it reads the chain with `built`'s types, which another
	/// release may have changed. `None` for the same release.
	pub fn other_release_warning(&self, built: &Self) -> Option<String> {
		let which = if self.spec_name != built.spec_name {
			"another chain's runtime than"
		} else if self.spec_version > built.spec_version {
			"newer than"
		} else if self.spec_version < built.spec_version {
			"older than"
		} else {
			return None;
		};
		Some(format!(
			"the node runs {self}, {which} the {built} this program was built with: what it \
			 reads is decoded with its own types and may be wrong or fail; use a build of the \
			 chain's release"
		))
	}
}

impl std::fmt::Display for RuntimeVersionSummary {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		write!(
			f,
			"runtime {} {} (transaction version {})",
			self.spec_name, self.spec_version, self.transaction_version
		)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The pool's "Immediately Dropped" (no room) is told apart from its refusals, which no
	/// retry can change.
	#[test]
	fn a_full_pool_is_not_a_refusal() {
		use jsonrpsee::core::client::Error as ClientCallError;
		let chain = Chain::new("node", "http://127.0.0.1:1").unwrap();
		let answer = |code: i32, message: &str, data: &str| {
			let object = jsonrpsee::types::ErrorObject::owned(code, message, Some(data));
			chain.submission_error("author_submitExtrinsic", ClientCallError::Call(object))
		};
		let full = answer(1016, "Immediately Dropped", "The transaction couldn't enter the pool");
		assert!(matches!(full, ClientError::PoolFull), "{full:?}");
		let stale = answer(1010, "Invalid Transaction", "Transaction is outdated");
		assert!(
			matches!(&stale, ClientError::Refused(reason) if reason.contains("outdated")),
			"{stale:?}"
		);
	}

	#[test]
	fn only_a_runtime_with_the_same_calls_is_signed_for() {
		let built = RuntimeVersionSummary::native();
		let upgraded =
			RuntimeVersionSummary { spec_version: built.spec_version + 1, ..built.clone() };
		assert!(upgraded.signs_like(&built), "an upgrade that kept its calls");
		let recoded = RuntimeVersionSummary {
			transaction_version: built.transaction_version + 1,
			..upgraded.clone()
		};
		assert!(!recoded.signs_like(&built), "calls or extensions encoded anew");
		let other = RuntimeVersionSummary { spec_name: "other-chain".into(), ..built.clone() };
		assert!(!other.signs_like(&built), "another chain's runtime");
	}

	#[test]
	fn a_program_says_when_the_node_runs_another_release() {
		let built = RuntimeVersionSummary::native();
		assert_eq!(built.other_release_warning(&built), None);
		let warning = |live: RuntimeVersionSummary| live.other_release_warning(&built).unwrap();
		let newer = RuntimeVersionSummary { spec_version: built.spec_version + 1, ..built.clone() };
		assert!(warning(newer).contains(&format!("newer than the {built}")));
		let older = RuntimeVersionSummary { spec_version: built.spec_version - 1, ..built.clone() };
		assert!(warning(older).contains("older than"));
		let other = RuntimeVersionSummary { spec_name: "other-chain".into(), ..built.clone() };
		assert!(warning(other).contains("another chain's runtime"));
	}

	#[test]
	fn only_loopback_nodes_are_local() {
		let local = |url: &str| Chain::new("node", url).unwrap().is_local();
		assert!(local("http://127.0.0.1:9944"));
		assert!(local("http://localhost:9944/"));
		assert!(local("http://[::1]:9944"));
		assert!(local("http://127.8.9.10"));
		assert!(!local("http://10.0.0.1:9944"));
		assert!(!local("https://rpc.example.org"));
		assert!(!local("http://localhost.example.org:9944"));
		assert!(!local("http://[2001:db8::1]:9944"));
	}
}
