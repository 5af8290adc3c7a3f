//! Typed reads of the chain's state: one method of [`Chain`] per thing the client reads
//! (`chain.task(id)`, `chain.deal(id)`, `chain.enclave(worker)`, …), each built on
//! [`Chain::storage`] with the runtime's own storage keys and types. Nothing outside this module
//! computes a storage key.
//!
//! Each reads the best block, or the block its [`Chain`] was set to read with [`Chain::at`].

use commons_primitives::X25519PublicKey;
use commons_runtime::{
	parameters::ParameterValues, AccountId, Balance, BlockNumber, Hash, Nonce, Runtime,
	RuntimeEvent,
};
use frame_support::traits::PalletInfoAccess;
use pallet_attestation::Enclave;
use pallet_contribution::{Task, TaskId};
use pallet_marketplace::{
	App, AppId, Category, CategoryId, Dataset, DatasetId, Deal, DealId, Membership, OrderHash,
	WorkerpoolId,
};

use crate::{Chain, ClientError};

/// The events of one block, as the runtime records them.
pub type EventRecords = Vec<frame_system::EventRecord<RuntimeEvent, Hash>>;

impl Chain {
	/// The protocol's parameters now: what governance set, or the defaults.
	pub async fn protocol_parameters(&self) -> Result<ParameterValues, ClientError> {
		let key = commons_runtime::parameters::Values::<Runtime>::hashed_key();
		Ok(self.storage(&key, self.at).await?.unwrap_or_default())
	}

	/// The task `id`, if it is on chain (opened, and not yet pruned).
	pub async fn task(&self, id: TaskId) -> Result<Option<Task<Runtime>>, ClientError> {
		self.storage(&pallet_contribution::Tasks::<Runtime>::hashed_key_for(id), self.at)
			.await
	}

	/// The deal `id`, while it has unsettled tasks.
	pub async fn deal(&self, id: DealId) -> Result<Option<Deal<Runtime>>, ClientError> {
		self.storage(&pallet_marketplace::Deals::<Runtime>::hashed_key_for(id), self.at)
			.await
	}

	/// The registered app `id`.
	pub async fn app(&self, id: AppId) -> Result<Option<App<Runtime>>, ClientError> {
		self.storage(&pallet_marketplace::Apps::<Runtime>::hashed_key_for(id), self.at)
			.await
	}

	/// The registered dataset `id`.
	pub async fn dataset(&self, id: DatasetId) -> Result<Option<Dataset<Runtime>>, ClientError> {
		self.storage(&pallet_marketplace::Datasets::<Runtime>::hashed_key_for(id), self.at)
			.await
	}

	/// The task category `id`.
	pub async fn category(&self, id: CategoryId) -> Result<Option<Category<Runtime>>, ClientError> {
		self.storage(&pallet_marketplace::Categories::<Runtime>::hashed_key_for(id), self.at)
			.await
	}

	/// The workerpool `worker` is a member of, if any.
	pub async fn workerpool_of(
		&self,
		worker: &AccountId,
	) -> Result<Option<WorkerpoolId>, ClientError> {
		self.storage(&pallet_marketplace::WorkerPool::<Runtime>::hashed_key_for(worker), self.at)
			.await
	}

	/// `worker`'s membership of `workerpool` (its endpoint, capabilities and last heartbeat), if
	/// it is a member.
	pub async fn pool_member(
		&self,
		workerpool: WorkerpoolId,
		worker: &AccountId,
	) -> Result<Option<Membership<Runtime>>, ClientError> {
		let key = pallet_marketplace::PoolMembers::<Runtime>::hashed_key_for(workerpool, worker);
		self.storage(&key, self.at).await
	}

	/// The enclave registered for `worker`, expired or not.
	pub async fn enclave(&self, worker: &AccountId) -> Result<Option<Enclave>, ClientError> {
		self.storage(&pallet_attestation::Enclaves::<Runtime>::hashed_key_for(worker), self.at)
			.await
	}

	/// The X25519 key `account` has the results of its confidential tasks sealed to, as their
	/// beneficiary, if it set one.
	pub async fn result_encryption_key(
		&self,
		account: &AccountId,
	) -> Result<Option<X25519PublicKey>, ClientError> {
		let key = pallet_marketplace::ResultEncryptionKeys::<Runtime>::hashed_key_for(account);
		self.storage(&key, self.at).await
	}

	/// The owner of the presigned order whose hash is `order`, while the chain holds it
	/// presigned.
	pub async fn presigned(&self, order: OrderHash) -> Result<Option<AccountId>, ClientError> {
		self.storage(&pallet_marketplace::Presigned::<Runtime>::hashed_key_for(order), self.at)
			.await
	}

	/// Whether the chain's genesis lets simulated enclaves handle encrypted datasets (only
	/// development chains should).
	pub async fn simulated_confidential_allowed(&self) -> Result<bool, ClientError> {
		let key = pallet_attestation::SimulatedConfidentialAllowed::<Runtime>::hashed_key();
		Ok(self.storage::<bool>(&key, self.at).await?.unwrap_or_default())
	}

	/// The chain's time: the best block's timestamp, in milliseconds since the Unix epoch (0
	/// before the first block sets it).
	pub async fn now(&self) -> Result<u64, ClientError> {
		let key = pallet_timestamp::Now::<Runtime>::hashed_key();
		Ok(self.storage::<u64>(&key, self.at).await?.unwrap_or_default())
	}

	/// The free balance of `account` at the best block.
	pub async fn free_balance(&self, account: &AccountId) -> Result<Balance, ClientError> {
		let key = frame_system::Account::<Runtime>::hashed_key_for(account);
		let info: Option<frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>> =
			self.storage(&key, self.at).await?;
		Ok(info.map(|info| info.data.free).unwrap_or_default())
	}

	/// The events recorded in block `at`.
	pub async fn events(&self, at: Hash) -> Result<EventRecords, ClientError> {
		// `System::Events` is private to frame-system; its key is the standard one for a value.
		let pallet = <commons_runtime::System as PalletInfoAccess>::name();
		let key = frame_support::storage::storage_prefix(pallet.as_bytes(), b"Events");
		Ok(self.storage::<EventRecords>(&key, Some(at)).await?.unwrap_or_default())
	}

	/// The events of block `number` of the best chain, without their phases.
	pub async fn block_events(
		&self,
		number: BlockNumber,
	) -> Result<Vec<RuntimeEvent>, ClientError> {
		let hash = self.block_hash(number).await?;
		Ok(self.events(hash).await?.into_iter().map(|record| record.event).collect())
	}
}
