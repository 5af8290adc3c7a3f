//! The worker's [`ChainView`] of a real chain: a node's JSON-RPC, and the worker's key to sign
//! its calls with.

use commons_client::{Chain, ClientError, Signer};
use commons_runtime::{AccountId, BlockNumber, Nonce, Runtime, RuntimeCall, RuntimeEvent};
use pallet_contribution::{Task, TaskId, X25519PublicKey};
use pallet_marketplace::{Dataset, DatasetId, Deal, DealId};
use sp_core::Pair;

use crate::worker::{ChainView, ContributionCall};

/// A chain reached through a node's JSON-RPC, on which calls are made by the worker's signer.
pub struct RpcChain {
	chain: Chain,
	signer: Signer,
}

impl RpcChain {
	/// The chain `chain` reaches, with calls made by `signer`.
	pub fn new(chain: Chain, signer: Signer) -> Self {
		Self { chain, signer }
	}
}

impl ChainView for RpcChain {
	async fn best_number(&self) -> Result<BlockNumber, ClientError> {
		self.chain.best_number().await
	}

	async fn events(&self, number: BlockNumber) -> Result<Vec<RuntimeEvent>, ClientError> {
		self.chain.block_events(number).await
	}

	async fn task(&self, id: TaskId) -> Result<Option<Task<Runtime>>, ClientError> {
		self.chain.task(id).await
	}

	async fn deal(&self, id: DealId) -> Result<Option<Deal<Runtime>>, ClientError> {
		self.chain.deal(id).await
	}

	async fn dataset(&self, id: DatasetId) -> Result<Option<Dataset<Runtime>>, ClientError> {
		self.chain.dataset(id).await
	}

	async fn result_encryption_key(
		&self,
		account: &AccountId,
	) -> Result<Option<X25519PublicKey>, ClientError> {
		self.chain.result_encryption_key(account).await
	}

	async fn next_nonce(&self) -> Result<Nonce, ClientError> {
		self.chain.next_nonce(&AccountId::from(self.signer.pair().public())).await
	}

	async fn account_nonce(&self) -> Result<Nonce, ClientError> {
		self.chain.account_nonce(&AccountId::from(self.signer.pair().public())).await
	}

	async fn submit(&self, call: ContributionCall, nonce: Nonce) -> Result<(), ClientError> {
		let call = self.signer.call(RuntimeCall::Contribution(call));
		self.chain.sign_and_submit_at(call, self.signer.pair(), nonce).await?;
		Ok(())
	}
}
