//! # Commons client
//!
//! Reads a node's chain and submits transactions over JSON-RPC, with the runtime's own types:
//! nothing is encoded by hand. Used by the compute node, the command line and the end-to-end
//! tests. [`fetch`] reads what the registry and the workers point at; [`digest`] is how a
//! task's output is digested, by the workers that vote and by the requester who checks it.

pub mod confidential;
pub mod digest;
pub mod fetch;
pub mod key_service;
pub mod market;
mod outcome;

pub use outcome::describe;

use std::time::Duration;

use codec::{Decode, Encode};
use commons_runtime::{
	signing::{sign, ChainIdentity, Lifetime},
	AccountId, Balance, BlockNumber, Hash, Nonce, RuntimeCall, RuntimeEvent, UncheckedExtrinsic,
};
use frame_support::traits::PalletInfoAccess;
use jsonrpsee::{
	core::client::ClientT,
	http_client::{HttpClient, HttpClientBuilder},
};
pub use jsonrpsee::{core::params::ArrayParams, rpc_params};
use serde_json::Value;
use sp_core::{
	bytes::{from_hex, to_hex},
	sr25519,
};

/// The next block a chain follower reads events from, kept in a file across restarts so that a
/// restarted follower catches up on what it missed.
pub struct Cursor(std::path::PathBuf);

impl Cursor {
	/// The cursor kept in the file at `path`.
	pub fn new(path: std::path::PathBuf) -> Self {
		Self(path)
	}

	/// The block to read next, if one was saved.
	pub fn load(&self) -> Option<BlockNumber> {
		std::fs::read_to_string(&self.0).ok()?.trim().parse().ok()
	}

	/// Saves `next` as the block to read next.
	pub fn save(&self, next: BlockNumber) -> Result<(), String> {
		std::fs::write(&self.0, next.to_string())
			.map_err(|error| format!("cannot save the cursor {}: {error}", self.0.display()))
	}
}

/// A node's JSON-RPC endpoint.
#[derive(Clone)]
pub struct Chain {
	/// A name for error messages (the node's).
	pub name: String,
	rpc: HttpClient,
}

/// The events of one block, as the runtime records them.
pub type EventRecords = Vec<frame_system::EventRecord<RuntimeEvent, Hash>>;

fn parse_hash(value: &Value) -> Result<Hash, String> {
	let text = value.as_str().ok_or_else(|| format!("expected a hash, got {value}"))?;
	let bytes = from_hex(text).map_err(|error| format!("bad hash {text}: {error}"))?;
	(bytes.len() == 32)
		.then(|| Hash::from_slice(&bytes))
		.ok_or_else(|| format!("a hash has 32 bytes, {text} has {}", bytes.len()))
}

fn parse_number(value: &Value) -> Result<BlockNumber, String> {
	let text = value.as_str().ok_or_else(|| format!("expected a hex number, got {value}"))?;
	BlockNumber::from_str_radix(text.trim_start_matches("0x"), 16)
		.map_err(|error| format!("bad block number {text}: {error}"))
}

impl Chain {
	/// A client of the node serving JSON-RPC over HTTP at `url`, called `name` in errors.
	pub fn new(name: &str, url: &str) -> Result<Self, String> {
		let rpc = HttpClientBuilder::default()
			.request_timeout(Duration::from_secs(10))
			.build(url)
			.map_err(|error| format!("bad RPC URL {url}: {error}"))?;
		Ok(Self { name: name.into(), rpc })
	}

	/// Calls `method` with `params` and decodes the result.
	pub async fn rpc<T: serde::de::DeserializeOwned>(
		&self,
		method: &str,
		params: ArrayParams,
	) -> Result<T, String> {
		self.rpc
			.request(method, params)
			.await
			.map_err(|error| format!("{}: {method} failed: {error}", self.name))
	}

	/// The number of the block with `hash`.
	pub async fn block_number(&self, hash: Hash) -> Result<BlockNumber, String> {
		let header: Value = self.rpc("chain_getHeader", rpc_params![hash]).await?;
		parse_number(&header["number"])
	}

	/// The number of the node's best block.
	pub async fn best_number(&self) -> Result<BlockNumber, String> {
		let header: Value = self.rpc("chain_getHeader", rpc_params![]).await?;
		parse_number(&header["number"])
	}

	/// The number of the node's last finalized block.
	pub async fn finalized_number(&self) -> Result<BlockNumber, String> {
		let hash: Hash = self.rpc("chain_getFinalizedHead", rpc_params![]).await?;
		self.block_number(hash).await
	}

	/// The hash of block `number` on the node's best chain.
	pub async fn block_hash(&self, number: BlockNumber) -> Result<Hash, String> {
		let hash: Value = self.rpc("chain_getBlockHash", rpc_params![number]).await?;
		parse_hash(&hash)
	}

	/// What a transaction for this chain must commit to: genesis and the live runtime's
	/// versions, read from the node (never assumed from the native runtime).
	pub async fn chain_identity(&self) -> Result<ChainIdentity, String> {
		let genesis_hash = self.block_hash(0).await?;
		let version: Value = self.rpc("state_getRuntimeVersion", rpc_params![]).await?;
		let field = |name: &str| {
			version[name]
				.as_u64()
				.and_then(|value| u32::try_from(value).ok())
				.ok_or_else(|| format!("runtime version has no {name}: {version}"))
		};
		Ok(ChainIdentity {
			genesis_hash,
			spec_version: field("specVersion")?,
			transaction_version: field("transactionVersion")?,
		})
	}

	/// The next nonce of `account`, counting its transactions in the pool.
	pub async fn next_nonce(&self, account: &AccountId) -> Result<Nonce, String> {
		self.rpc("system_accountNextIndex", rpc_params![account.to_string()]).await
	}

	/// Reads and decodes the storage value at `key` in block `at` (the best block if `None`).
	pub async fn storage<T: Decode>(
		&self,
		key: &[u8],
		at: Option<Hash>,
	) -> Result<Option<T>, String> {
		let value: Option<String> =
			self.rpc("state_getStorage", rpc_params![to_hex(key, false), at]).await?;
		value
			.map(|hex| {
				let bytes = from_hex(&hex).map_err(|error| format!("bad storage hex: {error}"))?;
				T::decode(&mut &bytes[..]).map_err(|error| format!("undecodable storage: {error}"))
			})
			.transpose()
	}

	/// The free balance of `account` at the best block.
	pub async fn free_balance(&self, account: &AccountId) -> Result<Balance, String> {
		let key = frame_system::Account::<commons_runtime::Runtime>::hashed_key_for(account);
		let info: Option<frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>> =
			self.storage(&key, None).await?;
		Ok(info.map(|info| info.data.free).unwrap_or_default())
	}

	/// The events recorded in block `at`.
	pub async fn events(&self, at: Hash) -> Result<EventRecords, String> {
		// `System::Events` is private to frame-system; its key is the standard one for a value.
		let pallet = <commons_runtime::System as PalletInfoAccess>::name();
		let key = frame_support::storage::storage_prefix(pallet.as_bytes(), b"Events");
		Ok(self.storage::<EventRecords>(&key, Some(at)).await?.unwrap_or_default())
	}

	/// Submits `extrinsic` to the node's pool and returns its hash.
	pub async fn submit(&self, extrinsic: &UncheckedExtrinsic) -> Result<Hash, String> {
		let hash: Value = self
			.rpc("author_submitExtrinsic", rpc_params![to_hex(&extrinsic.encode(), false)])
			.await?;
		parse_hash(&hash)
	}

	/// Finds `extrinsic` in blocks `from..=best` of the best chain: its block hash and index.
	pub async fn find_extrinsic(
		&self,
		extrinsic: &UncheckedExtrinsic,
		from: BlockNumber,
	) -> Result<(Hash, u32), String> {
		let wanted = to_hex(&extrinsic.encode(), false);
		let best = self.best_number().await?;
		for number in from..=best {
			let hash = self.block_hash(number).await?;
			let block: Value = self.rpc("chain_getBlock", rpc_params![hash]).await?;
			let extrinsics = block["block"]["extrinsics"]
				.as_array()
				.ok_or_else(|| format!("block {number} has no extrinsics list"))?;
			if let Some(index) = extrinsics.iter().position(|xt| xt.as_str() == Some(&wanted)) {
				return Ok((hash, index as u32));
			}
		}
		Err(format!("not in blocks {from}..={best}"))
	}

	/// Signs `call` with `signer`'s key (immortal, at its next nonce, no tip) and submits it;
	/// returns the extrinsic.
	pub async fn sign_and_submit(
		&self,
		call: RuntimeCall,
		signer: &sr25519::Pair,
	) -> Result<UncheckedExtrinsic, String> {
		use sp_core::Pair;
		let chain = self.chain_identity().await?;
		let account = AccountId::from(signer.public());
		let nonce = self.next_nonce(&account).await?;
		let extrinsic = sign(call, signer, nonce, Lifetime::Immortal, 0, &chain);
		self.submit(&extrinsic).await?;
		Ok(extrinsic)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_cursor_remembers_the_next_block_and_starts_empty() {
		let dir = tempfile::tempdir().unwrap();
		let cursor = Cursor::new(dir.path().join("cursor"));
		assert_eq!(cursor.load(), None);
		cursor.save(42).unwrap();
		assert_eq!(Cursor::new(dir.path().join("cursor")).load(), Some(42));
		let unwritable = Cursor::new(dir.path().join("missing").join("cursor"));
		assert!(unwritable.save(1).is_err());
	}
}
