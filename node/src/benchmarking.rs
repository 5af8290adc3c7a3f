//! Transactions and inherent data for `commons-node benchmark overhead` and
//! `benchmark extrinsic`.

use std::{sync::Arc, time::Duration};

use commons_runtime::{
	signing::{self, ChainIdentity, Lifetime},
	AccountId, Balance, BalancesCall, RuntimeCall, SystemCall,
};
use sc_cli::Result;
use sp_api::{Core, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_inherents::{InherentData, InherentDataProvider};
use sp_keyring::Sr25519Keyring;
use sp_runtime::OpaqueExtrinsic;

use crate::service::FullClient;

/// Signs `call` as Alice with `nonce` for the chain `client` follows.
fn signed_by_alice(
	client: &FullClient,
	call: RuntimeCall,
	nonce: u32,
) -> std::result::Result<OpaqueExtrinsic, &'static str> {
	let best_hash = client.info().best_hash;
	let version = client
		.runtime_api()
		.version(best_hash)
		.map_err(|_| "could not read the runtime's version")?;
	let chain = ChainIdentity {
		genesis_hash: client.info().genesis_hash,
		spec_version: version.spec_version,
		transaction_version: version.transaction_version,
	};
	let extrinsic =
		signing::sign(call, &Sr25519Keyring::Alice.pair(), nonce, Lifetime::Immortal, 0, &chain);
	Ok(extrinsic.into())
}

/// Builds `System::remark` transactions with an empty remark: the cheapest signed transaction,
/// which `benchmark overhead` uses to measure the fixed cost of any transaction.
pub struct RemarkBuilder {
	client: Arc<FullClient>,
}

impl RemarkBuilder {
	pub fn new(client: Arc<FullClient>) -> Self {
		Self { client }
	}
}

impl frame_benchmarking_cli::ExtrinsicBuilder for RemarkBuilder {
	fn pallet(&self) -> &str {
		"system"
	}

	fn extrinsic(&self) -> &str {
		"remark"
	}

	fn build(&self, nonce: u32) -> std::result::Result<OpaqueExtrinsic, &'static str> {
		signed_by_alice(&self.client, SystemCall::remark { remark: vec![] }.into(), nonce)
	}
}

/// Builds `Balances::transfer_keep_alive` transactions from Alice to `dest`.
pub struct TransferKeepAliveBuilder {
	client: Arc<FullClient>,
	dest: AccountId,
	value: Balance,
}

impl TransferKeepAliveBuilder {
	pub fn new(client: Arc<FullClient>, dest: AccountId, value: Balance) -> Self {
		Self { client, dest, value }
	}
}

impl frame_benchmarking_cli::ExtrinsicBuilder for TransferKeepAliveBuilder {
	fn pallet(&self) -> &str {
		"balances"
	}

	fn extrinsic(&self) -> &str {
		"transfer_keep_alive"
	}

	fn build(&self, nonce: u32) -> std::result::Result<OpaqueExtrinsic, &'static str> {
		let call =
			BalancesCall::transfer_keep_alive { dest: self.dest.clone().into(), value: self.value };
		signed_by_alice(&self.client, call.into(), nonce)
	}
}

/// The inherent data of a benchmark block: only a timestamp, since Aura's slot is checked on
/// import, not when a block is built.
pub fn inherent_benchmark_data() -> Result<InherentData> {
	let mut inherent_data = InherentData::new();
	let timestamp = sp_timestamp::InherentDataProvider::new(Duration::ZERO.into());
	futures::executor::block_on(timestamp.provide_inherent_data(&mut inherent_data))
		.map_err(|error| format!("creating the timestamp inherent: {error:?}"))?;
	Ok(inherent_data)
}
