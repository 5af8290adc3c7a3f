//! Typed reads of the chain's state: one method of [`Chain`] per thing the client reads
//! (`chain.task(id)`, `chain.deal(id)`, `chain.enclave(worker)`, …), each built on
//! [`Chain::storage`] with the runtime's own storage keys and types. Nothing outside this module
//! computes a storage key.
//!
//! Each reads the best block, or the block its [`Chain`] was set to read with [`Chain::at`].

use codec::{Decode, Encode};
use commons_primitives::X25519PublicKey;
use commons_runtime::{
	governance::ProxyType, parameters::ParameterValues, AccountId, Balance, BlockNumber, Hash,
	Nonce, Runtime, RuntimeEvent,
};
use frame_support::{
	storage::StoragePrefixedMap, traits::PalletInfoAccess, Blake2_128Concat, Identity,
	ReversibleStorageHasher, StorageHasher, Twox64Concat,
};
use pallet_attestation::Enclave;
use pallet_contribution::{Task, TaskId};
use pallet_marketplace::{
	App, AppId, Category, CategoryId, Dataset, DatasetId, Deal, DealId, Membership, Order,
	OrderHash, Workerpool, WorkerpoolId,
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

	/// The registered workerpool `id`.
	pub async fn workerpool(
		&self,
		id: WorkerpoolId,
	) -> Result<Option<Workerpool<Runtime>>, ClientError> {
		self.storage(&pallet_marketplace::Workerpools::<Runtime>::hashed_key_for(id), self.at)
			.await
	}

	/// Every registered app, by id.
	pub async fn apps(&self) -> Result<Vec<(AppId, App<Runtime>)>, ClientError> {
		let prefix = pallet_marketplace::Apps::<Runtime>::final_prefix();
		self.map_entries::<Twox64Concat, _, _>(&prefix).await
	}

	/// Every registered dataset, by id.
	pub async fn datasets(&self) -> Result<Vec<(DatasetId, Dataset<Runtime>)>, ClientError> {
		let prefix = pallet_marketplace::Datasets::<Runtime>::final_prefix();
		self.map_entries::<Twox64Concat, _, _>(&prefix).await
	}

	/// Every registered workerpool, by id.
	pub async fn workerpools(
		&self,
	) -> Result<Vec<(WorkerpoolId, Workerpool<Runtime>)>, ClientError> {
		let prefix = pallet_marketplace::Workerpools::<Runtime>::final_prefix();
		self.map_entries::<Twox64Concat, _, _>(&prefix).await
	}

	/// Every task category, by id.
	pub async fn categories(&self) -> Result<Vec<(CategoryId, Category<Runtime>)>, ClientError> {
		let prefix = pallet_marketplace::Categories::<Runtime>::final_prefix();
		self.map_entries::<Twox64Concat, _, _>(&prefix).await
	}

	/// Every deal with tasks left to settle, by id.
	pub async fn deals(&self) -> Result<Vec<(DealId, Deal<Runtime>)>, ClientError> {
		let prefix = pallet_marketplace::Deals::<Runtime>::final_prefix();
		self.map_entries::<Identity, _, _>(&prefix).await
	}

	/// Every task on chain (opened, and not yet pruned), by id.
	pub async fn tasks(&self) -> Result<Vec<(TaskId, Task<Runtime>)>, ClientError> {
		let prefix = pallet_contribution::Tasks::<Runtime>::final_prefix();
		self.map_entries::<Identity, _, _>(&prefix).await
	}

	/// The members of `workerpool`, with their memberships.
	pub async fn pool_members(
		&self,
		workerpool: WorkerpoolId,
	) -> Result<Vec<(AccountId, Membership<Runtime>)>, ClientError> {
		let mut prefix = pallet_marketplace::PoolMembers::<Runtime>::final_prefix().to_vec();
		prefix.extend(Twox64Concat::hash(&workerpool.encode()));
		self.map_entries::<Blake2_128Concat, _, _>(&prefix).await
	}

	/// The account that accepted to schedule `workerpool`, if its scheduler did.
	pub async fn scheduler_accepted(
		&self,
		workerpool: WorkerpoolId,
	) -> Result<Option<AccountId>, ClientError> {
		let key = pallet_marketplace::SchedulerAccepted::<Runtime>::hashed_key_for(workerpool);
		self.storage(&key, self.at).await
	}

	/// `worker`'s score in `workerpool` (0 if it has none).
	pub async fn score(
		&self,
		workerpool: WorkerpoolId,
		worker: &AccountId,
	) -> Result<u32, ClientError> {
		let key = pallet_contribution::Scores::<Runtime>::hashed_key_for(workerpool, worker);
		Ok(self.storage(&key, self.at).await?.unwrap_or_default())
	}

	/// The presigned order whose hash is `order`, as published, while the chain holds it.
	pub async fn published_order(
		&self,
		order: OrderHash,
	) -> Result<Option<Order<Runtime>>, ClientError> {
		let key = pallet_marketplace::PublishedOrders::<Runtime>::hashed_key_for(order);
		self.storage(&key, self.at).await
	}

	/// The entries of the map (or of one first key of a double map) under `prefix` whose last
	/// key is hashed with `H`, a hasher that keeps the key: decoded keys and values, in the
	/// keys' order.
	async fn map_entries<H: ReversibleStorageHasher, K: Decode + Ord, V: Decode>(
		&self,
		prefix: &[u8],
	) -> Result<Vec<(K, V)>, ClientError> {
		let bad = |message: String| ClientError::Decode {
			what: format!("an entry of {}", std::any::type_name::<V>()),
			message,
		};
		let mut entries = self
			.storage_entries(prefix)
			.await?
			.into_iter()
			.map(|(key, value)| {
				let id = K::decode(&mut H::reverse(&key)).map_err(|e| bad(e.to_string()))?;
				let value = V::decode(&mut &value[..]).map_err(|e| bad(e.to_string()))?;
				Ok((id, value))
			})
			.collect::<Result<Vec<_>, ClientError>>()?;
		// Storage lists them in the order of their keys' hashes; people look for them by key.
		entries.sort_by(|(a, _), (b, _)| a.cmp(b));
		Ok(entries)
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

	/// The proxies `real` added: who may act for it, as what, after how many blocks of notice.
	pub async fn proxies(
		&self,
		real: &AccountId,
	) -> Result<Vec<pallet_proxy::ProxyDefinition<AccountId, ProxyType, BlockNumber>>, ClientError>
	{
		let key = pallet_proxy::Proxies::<Runtime>::hashed_key_for(real);
		let entry: Option<(Vec<_>, Balance)> = self.storage(&key, self.at).await?;
		Ok(entry.map(|(proxies, _deposit)| proxies).unwrap_or_default())
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

	/// The nonce of `account` at the best block: how many of its transactions are on chain.
	pub async fn account_nonce(&self, account: &AccountId) -> Result<Nonce, ClientError> {
		let key = frame_system::Account::<Runtime>::hashed_key_for(account);
		let info: Option<frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>> =
			self.storage(&key, self.at).await?;
		Ok(info.map(|info| info.nonce).unwrap_or_default())
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
