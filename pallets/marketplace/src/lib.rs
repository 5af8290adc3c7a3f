//! # Marketplace pallet
//!
//! What is for sale on Commons, at which price, and the deals made when a request meets offers.
//!
//! ## Overview
//!
//! - **Registries.** Apps (a WASM module: URI and sha256, and the TEE measurements its trusted
//!   build may run under), datasets (URI and sha256, maybe encrypted) and workerpools (an owner, a
//!   scheduler key and a policy: what share of the price a worker stakes and what share of the
//!   workers' reward the pool owner keeps). Owners can hand them over; a pool owner can change the
//!   policy and the scheduler key, open or close the pool, and allow or remove workers. A
//!   scheduler schedules a pool only after it accepted to ([`Pallet::accept_scheduling`]).
//!   Owners remove what no live deal uses any more ([`Pallet::remove_app`],
//!   [`Pallet::remove_dataset`], [`Pallet::remove_workerpool`]).
//! - **Workers** join one workerpool at a time with the HTTP endpoint their scheduler pushes tasks
//!   to and the features they can serve, prove they are alive with heartbeats, and leave.
//! - **Categories**, managed by governance, say how long a task may take (the reference time T).
//! - **Result keys.** An account registers the X25519 key the results of its confidential tasks
//!   are sealed to, as their beneficiary ([`Pallet::set_result_encryption_key`]); a deal buying
//!   an encrypted dataset is made only for a beneficiary that has one.
//! - **Orders** are signed off-chain (see [`orders`]) and brought on-chain only to be matched:
//!   an app order, optionally a dataset order, a workerpool order and a request order.
//!   [`Pallet::match_orders`] checks every rule of the reference protocol, each failing with its
//!   own error, and makes a deal.
//! - **The order book** ([`book`]): an order its owner presigns is kept on chain and listed in
//!   its market (an app's, a dataset's, a category's workerpool orders or requests) by price, so
//!   that [`runtime_api::MarketplaceApi::order_book`] answers "the cheapest offers for this app"
//!   in one call. Where iExec runs its order book as an off-chain server, Commons' is the chain.
//!
//! ## Design
//!
//! The rules follow iExec's PoCo (`matchOrders`), with Commons' changes:
//!
//! - Orders are SCALE-encoded and signed with the chain's `MultiSignature` over a payload that
//!   names the chain's genesis and the order's kind; an owner may instead presign an order's hash
//!   on-chain. Cancelling marks an order fully consumed.
//! - Every order carries an expiry block at most [`Config::MaxOrderLifetime`] ahead when it is
//!   matched, presigned or cancelled; an expired order cannot be matched, and its records are
//!   removed.
//! - The request order names its payer: the requester, or a sponsor who signs the same request.
//!   Nobody can therefore make the requester pay for a match that a sponsor meant to pay for.
//! - A deal's volume is the least remaining volume of its orders, and at most
//!   [`Config::MaxDealVolume`]: what a deal's expiry costs the chain is bounded, and a larger
//!   request is matched again for the rest. Its price per task is each order's asking price (the
//!   request's prices are caps); a price is either zero or at least the existential deposit, so
//!   that its payee can always receive it. The payer's
//!   `(app + dataset + workerpool price) × volume` and the pool owner's stake of
//!   [`Config::PoolOwnerStakeRatio`] of the pool price per task are locked in the escrow pallet.
//! - A deal snapshots everything its tasks need (owners, prices, trust ≥ 1, category, tag, the
//!   pool's policy, payer, beneficiary, params), so later registry changes do not touch it.
//! - Ids: `deal = blake2_256(request hash ‖ request consumed before)`; tasks are numbered from the
//!   request's consumed volume, so a request matched in several deals numbers its tasks once.
//! - A deal's lifecycle spans two pallets: it is made and stored here, and
//!   [`Config::OnDealCreated`] hands it to the pallet that runs its tasks (the contribution
//!   pallet queues its expiry). That pallet reports back through [`DealTasks`], which this
//!   pallet implements: each settled task counts the deal down ([`DealTasks::settle_tasks`]) and
//!   the deal is removed with its last; a worker that leaves a task unanswered is expelled from
//!   its pool ([`DealTasks::expel_silent_member`]).
//!
//! Every check runs before any state changes, so a refused match changes nothing.
//!
//! State is paid for and reclaimed ([`deposits`], [`pruning`]): every registration, allowed
//! worker and presignature holds a deposit ([`Config::DepositPerItem`] and
//! [`Config::DepositPerByte`]) returned to whoever paid it when it goes; apps, datasets and pools
//! are removed only when no live deal uses them ([`DealsUsing`]); an expired order's records are
//! removed in idle time, since it can never be matched again.
//!
//! ## Terms
//!
//! - *Volume*: how many tasks an order may be matched for, in all of its deals.
//! - *Consumed*: how many it has been matched for (or all of them, once cancelled).
//! - *Tag*: a bit set of features ([`types::tag`]); a pool must offer every bit the app, dataset
//!   (TEE framework bits aside) and request ask for.
//!   An encrypted dataset is sold only into deals whose tag asks for a TEE, since only enclaves
//!   ever receive its key.
//! - *Trust*: how sure the result must be; the contribution pallet's vote needs more than
//!   `1 - 1/trust` credibility.
//!
//! ## Assumptions
//!
//! - **Block 0's hash is the genesis hash**, kept by frame-system for ever: order and
//!   sponsorship payloads bind it, so orders signed for another chain are refused.
//! - **Categories are never removed**, only added or changed by governance: a deal's category is
//!   read again when its tasks are opened.
//! - **Every deal's tasks are reported settled, once each.** The pallet given as
//!   [`Config::OnDealCreated`] calls [`DealTasks::settle_tasks`] for each task it pays out or
//!   refunds; a deal, its held payment and its listings' use counts stay until it has.
//! - **Order signatures name their signer.** [`Config::OrderSignature`] verifies against the
//!   chain's account ids, so an order's owner is the account that registered what it sells.
//!
//! ## Usage
//!
//! A runtime gives the pallet a currency, the escrow, a signature type, a governance origin and
//! its bounds, and names the pallet that runs the deals' tasks (the Commons runtime,
//! `runtime/src/configs/mod.rs`):
//!
//! ```ignore
//! impl pallet_marketplace::Config for Runtime {
//! 	type Currency = Balances;
//! 	type Escrow = Escrow;
//! 	type OrderSignature = Signature; // sp_runtime::MultiSignature
//! 	type GovernanceOrigin = EnsureRoot<AccountId>;
//! 	type PoolOwnerStakeRatio = PoolOwnerStakeRatio; // 30 %
//! 	type OnDealCreated = Contribution; // which reports back through `DealTasks`
//! 	// ... bounds, deposits, `MaxOrderLifetime`, weights
//! }
//!
//! impl pallet_contribution::Config for Runtime {
//! 	type Market = Marketplace;
//! 	// ...
//! }
//! ```
//!
//! Its genesis ([`GenesisConfig`]) lists the categories the chain starts with. Clients reach
//! order hashes, signing payloads and remaining volumes through
//! [`runtime_api::MarketplaceApi`], so they never re-implement the encodings.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
pub mod book;
pub mod compatibility;
pub mod deposits;
mod invariants;
mod matching;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod orders;
pub mod pruning;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use compatibility::check_compatibility;
pub use types::*;
pub use weights::WeightInfo;

use frame_support::traits::fungible::Inspect;

/// The amount type of the currency deals are paid in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{boxed::Box, vec::Vec};
	use commons_primitives::{is_small_order_x25519, X25519PublicKey};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use pallet_escrow::Escrow;
	use sp_runtime::{
		traits::{IdentifyAccount, Verify},
		Percent,
	};

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency prices are paid in.
		type Currency: Inspect<Self::AccountId>;

		/// Where payments and stakes are locked.
		type Escrow: Escrow<Self::AccountId, Balance = BalanceOf<Self>>;

		/// The signature orders are signed with.
		type OrderSignature: Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>>
			+ Parameter
			+ MaxEncodedLen;

		/// Who manages categories.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The share of the workerpool price a pool owner stakes per task (30 % in the reference).
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type PoolOwnerStakeRatio: Get<Percent>;

		/// The longest name of an app, dataset or category.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;

		/// The longest URI of a module, dataset or worker endpoint.
		#[pallet::constant]
		type MaxUriLength: Get<u32>;

		/// The longest workerpool description.
		#[pallet::constant]
		type MaxDescriptionLength: Get<u32>;

		/// The longest request params.
		#[pallet::constant]
		type MaxParamsLength: Get<u32>;

		/// The most TEE measurements an app may list.
		#[pallet::constant]
		type MaxMeasurements: Get<u32>;

		/// The most workers a workerpool may have.
		#[pallet::constant]
		type MaxPoolMembers: Get<u32>;

		/// The deposit for each thing the chain stores on an account's behalf (an app, a
		/// dataset, a workerpool, an allowed worker, a presigned order), whatever its size.
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type DepositPerItem: Get<BalanceOf<Self>>;

		/// The deposit for each byte such a thing takes in storage.
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// How far ahead an order's expiry may be when the chain records anything for it (a
		/// match, a presignature, a cancellation): every record of an order is removed once it
		/// expired, so this bounds how long any is kept.
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type MaxOrderLifetime: Get<BlockNumberFor<Self>>;

		/// The most tasks one deal may buy. Orders of larger volume are matched in several deals,
		/// so that no deal's expiry keeps the chain busy for long.
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type MaxDealVolume: Get<u32>;

		/// Told about every deal made, after its funds are locked: the contribution pallet
		/// schedules the deal's expiry from it.
		type OnDealCreated: OnDealCreated<Self>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Accounts that benchmarks can sign orders with.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::benchmarking::BenchmarkHelper<
			Self::AccountId,
			Self::OrderSignature,
		>;
	}

	/// The layout version of this pallet's storage: see [`crate::migrations`].
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Registered apps.
	#[pallet::storage]
	pub type Apps<T: Config> = StorageMap<_, Twox64Concat, AppId, App<T>>;

	/// The id the next app gets.
	#[pallet::storage]
	pub type NextAppId<T: Config> = StorageValue<_, AppId, ValueQuery>;

	/// Registered datasets.
	#[pallet::storage]
	pub type Datasets<T: Config> = StorageMap<_, Twox64Concat, DatasetId, Dataset<T>>;

	/// The id the next dataset gets.
	#[pallet::storage]
	pub type NextDatasetId<T: Config> = StorageValue<_, DatasetId, ValueQuery>;

	/// Registered workerpools.
	#[pallet::storage]
	pub type Workerpools<T: Config> = StorageMap<_, Twox64Concat, WorkerpoolId, Workerpool<T>>;

	/// The id the next workerpool gets.
	#[pallet::storage]
	pub type NextWorkerpoolId<T: Config> = StorageValue<_, WorkerpoolId, ValueQuery>;

	/// The scheduler account that agreed to schedule each workerpool. A pool is scheduled only
	/// while its current scheduler is the account that agreed: nobody can make another operator's
	/// node work and pay for a pool it never chose to serve.
	#[pallet::storage]
	pub type SchedulerAccepted<T: Config> = StorageMap<_, Twox64Concat, WorkerpoolId, T::AccountId>;

	/// The workers of each workerpool.
	#[pallet::storage]
	pub type PoolMembers<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		WorkerpoolId,
		Blake2_128Concat,
		T::AccountId,
		Membership<T>,
	>;

	/// How many workers each workerpool has.
	#[pallet::storage]
	pub type PoolMemberCount<T: Config> =
		StorageMap<_, Twox64Concat, WorkerpoolId, u32, ValueQuery>;

	/// The workerpool each worker belongs to.
	#[pallet::storage]
	pub type WorkerPool<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, WorkerpoolId>;

	/// Workers a closed workerpool's owner allows to join.
	#[pallet::storage]
	pub type AllowedWorkers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, WorkerpoolId, Blake2_128Concat, T::AccountId, ()>;

	/// Task categories.
	#[pallet::storage]
	pub type Categories<T: Config> = StorageMap<_, Twox64Concat, CategoryId, Category<T>>;

	/// The id the next category gets.
	#[pallet::storage]
	pub type NextCategoryId<T: Config> = StorageValue<_, CategoryId, ValueQuery>;

	/// Orders presigned on-chain, by hash, with the owner who presigned them.
	#[pallet::storage]
	pub type Presigned<T: Config> = StorageMap<_, Identity, OrderHash, T::AccountId>;

	/// The contents of presigned orders, by hash: what the order book ([`book`]) lists.
	/// Orders presigned before the book existed have none; they are matched all the same.
	#[pallet::storage]
	pub type PublishedOrders<T: Config> = StorageMap<_, Identity, OrderHash, Order<T>>;

	/// The order book's listings: each presigned order under its market and its rank, so that
	/// a market is iterated best first ([`Pallet::order_book`]).
	#[pallet::storage]
	pub type OrderBook<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Blake2_128Concat, Market>,
			NMapKey<Identity, PriceRank>,
			NMapKey<Identity, OrderHash>,
		),
		(),
	>;

	/// How much of each order's volume has been matched or cancelled.
	#[pallet::storage]
	pub type Consumed<T: Config> = StorageMap<_, Identity, OrderHash, u32, ValueQuery>;

	/// Deals that still have unsettled tasks.
	#[pallet::storage]
	pub type Deals<T: Config> = StorageMap<_, Identity, DealId, Deal<T>>;

	/// Who holds a deposit for each thing stored on its behalf, and how much. It is returned to
	/// that account when the thing is removed, whoever owns it by then. Things stored before
	/// deposits existed have none.
	#[pallet::storage]
	pub type Deposits<T: Config> =
		StorageMap<_, Blake2_128Concat, Footprint<T::AccountId>, (T::AccountId, BalanceOf<T>)>;

	/// How many live deals use each app, dataset and workerpool: their tasks read it, so none
	/// is removed while one does.
	#[pallet::storage]
	pub type DealsUsing<T: Config> =
		StorageMap<_, Blake2_128Concat, Footprint<T::AccountId>, u32, ValueQuery>;

	/// Orders that have a record on chain (a consumed volume or a presignature), by their expiry
	/// block. Once that block has passed they can never be matched again, so their records are
	/// removed ([`Hooks::on_idle`]).
	#[pallet::storage]
	pub type ExpiringOrders<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Identity, OrderHash, ()>;

	/// The earliest expiry block whose orders' records may not all be removed yet.
	#[pallet::storage]
	pub type OrderPruneCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The X25519 key each account wants the results of its confidential tasks sealed to, as
	/// their beneficiary: an enclave computing a TEE task seals the result to the key its deal's
	/// beneficiary has here when it finishes (the deal does not copy it), so a beneficiary keeps
	/// it, and its secret, while its tasks run. A deal buying an encrypted dataset is made only
	/// for a beneficiary that has one ([`Error::BeneficiaryHasNoResultKey`]).
	#[pallet::storage]
	pub type ResultEncryptionKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, X25519PublicKey>;

	/// The categories the chain starts with, as `(name, reference time in seconds)`.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The categories created at genesis, in order from id 0, as `(name, reference time in
		/// seconds)`. Each name must fit `MaxNameLength` and each time be at least one second.
		pub categories: Vec<(Vec<u8>, u32)>,
		/// Binds the config to its runtime `T`; holds no data.
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (name, reference_time_secs) in &self.categories {
				let name = BoundedVec::try_from(name.clone())
					.expect("genesis category names fit MaxNameLength");
				Pallet::<T>::insert_category(name, *reference_time_secs).expect(
					"genesis has fewer than u32::MAX categories, each with a positive time",
				);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An app was registered.
		AppCreated {
			/// The new app's id.
			app: AppId,
			/// The account that registered the app and owns it.
			owner: T::AccountId,
		},
		/// An app changed hands.
		AppTransferred {
			/// The app handed over.
			app: AppId,
			/// Its previous owner.
			from: T::AccountId,
			/// Its new owner.
			to: T::AccountId,
		},
		/// A dataset was registered.
		DatasetCreated {
			/// The new dataset's id.
			dataset: DatasetId,
			/// The account that registered the dataset and owns it.
			owner: T::AccountId,
		},
		/// A dataset changed hands.
		DatasetTransferred {
			/// The dataset handed over.
			dataset: DatasetId,
			/// Its previous owner.
			from: T::AccountId,
			/// Its new owner.
			to: T::AccountId,
		},
		/// A workerpool was registered.
		WorkerpoolCreated {
			/// The new workerpool's id.
			workerpool: WorkerpoolId,
			/// The pool owner: the account that registered the workerpool.
			owner: T::AccountId,
		},
		/// A workerpool changed hands.
		WorkerpoolTransferred {
			/// The workerpool handed over.
			workerpool: WorkerpoolId,
			/// Its previous pool owner.
			from: T::AccountId,
			/// Its new pool owner. The scheduler key must accept the pool again, unless it is this
			/// account.
			to: T::AccountId,
		},
		/// An app's owner removed it; its deposit went back to whoever paid it.
		AppRemoved {
			/// The removed app's id.
			app: AppId,
		},
		/// A dataset's owner removed it; its deposit went back to whoever paid it.
		DatasetRemoved {
			/// The removed dataset's id.
			dataset: DatasetId,
		},
		/// A workerpool's owner removed it; its deposit went back to whoever paid it.
		WorkerpoolRemoved {
			/// The removed workerpool's id.
			workerpool: WorkerpoolId,
		},
		/// A workerpool's policy changed; deals already made keep the old one.
		WorkerpoolPolicyChanged {
			/// The workerpool whose policy changed.
			workerpool: WorkerpoolId,
			/// The policy before, which deals already made keep.
			old: PoolPolicy,
			/// The policy deals made from now on get.
			new: PoolPolicy,
		},
		/// A workerpool's scheduler key changed. The new scheduler schedules it once it accepts.
		SchedulerChanged {
			/// The workerpool whose scheduler key changed.
			workerpool: WorkerpoolId,
			/// The account of the new scheduler key.
			scheduler: T::AccountId,
		},
		/// A workerpool's scheduler agreed to schedule it.
		SchedulingAccepted {
			/// The workerpool now scheduled.
			workerpool: WorkerpoolId,
			/// The account of the scheduler key that accepted.
			scheduler: T::AccountId,
		},
		/// A workerpool was opened to any worker, or closed to all but allowed ones.
		WorkerpoolAccessChanged {
			/// The workerpool whose access changed.
			workerpool: WorkerpoolId,
			/// Whether any worker may now join; `false` if only allowed workers may.
			open: bool,
		},
		/// A closed workerpool's owner allowed a worker to join.
		WorkerAllowed {
			/// The closed workerpool.
			workerpool: WorkerpoolId,
			/// The worker now allowed to join it.
			worker: T::AccountId,
		},
		/// A closed workerpool's owner withdrew a worker's permission to join.
		WorkerDisallowed {
			/// The closed workerpool.
			workerpool: WorkerpoolId,
			/// The worker no longer allowed to join it; if already a member, it stays.
			worker: T::AccountId,
		},
		/// A worker joined a workerpool.
		WorkerJoined {
			/// The workerpool joined.
			workerpool: WorkerpoolId,
			/// The worker's account.
			worker: T::AccountId,
			/// The tag bits the worker can serve: it is assigned only tasks whose deal's tag is
			/// within them.
			capabilities: Tag,
		},
		/// A worker left its workerpool.
		WorkerLeft {
			/// The workerpool left.
			workerpool: WorkerpoolId,
			/// The worker's account.
			worker: T::AccountId,
		},
		/// A workerpool's owner removed a worker.
		WorkerRemoved {
			/// The workerpool the worker was removed from.
			workerpool: WorkerpoolId,
			/// The removed worker's account.
			worker: T::AccountId,
		},
		/// A worker lost its place in its workerpool for leaving a task unanswered; it may join
		/// again.
		WorkerExpelled {
			/// The workerpool the worker was expelled from.
			workerpool: WorkerpoolId,
			/// The silent worker's account.
			worker: T::AccountId,
		},
		/// A worker showed it is alive.
		WorkerHeartbeat {
			/// The worker's workerpool.
			workerpool: WorkerpoolId,
			/// The worker's account.
			worker: T::AccountId,
		},
		/// Governance created a category.
		CategoryCreated {
			/// The new category's id.
			category: CategoryId,
			/// Its reference time T in seconds: the longest a task may compute.
			reference_time_secs: u32,
		},
		/// An order's owner presigned it.
		OrderPresigned {
			/// The presigned order's hash.
			order: OrderHash,
			/// The order's owner, who holds a deposit for the presignature until it is released.
			owner: T::AccountId,
		},
		/// `by`, the order's owner or a request's sponsor, cancelled it: it cannot be matched
		/// any more.
		OrderCancelled {
			/// The cancelled order's hash.
			order: OrderHash,
			/// Who cancelled it: its owner, or the sponsor a request names.
			by: T::AccountId,
		},
		/// Orders were matched into a deal. The workerpool's scheduler takes it from here.
		DealCreated {
			/// The new deal's id.
			deal: DealId,
			/// The workerpool that runs the deal's tasks.
			workerpool: WorkerpoolId,
			/// The app order's hash.
			app_order: OrderHash,
			/// The dataset order's hash, if the deal uses a dataset.
			dataset_order: Option<OrderHash>,
			/// The workerpool order's hash.
			workerpool_order: OrderHash,
			/// The request order's hash.
			request_order: OrderHash,
			/// How many tasks the deal bought: the least volume any of its orders had left, at most
			/// `MaxDealVolume`.
			volume: u32,
			/// Whose funds pay for the tasks: the requester or its sponsor.
			payer: T::AccountId,
		},
		/// An account set, replaced or removed the key its confidential tasks' results are
		/// sealed to.
		ResultEncryptionKeySet {
			/// The account, as the beneficiary of tasks.
			account: T::AccountId,
			/// Its X25519 result key from now on; `None` if it removed it.
			key: Option<X25519PublicKey>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No app has that id.
		UnknownApp,
		/// No dataset has that id.
		UnknownDataset,
		/// No workerpool has that id.
		UnknownWorkerpool,
		/// No category has that id.
		UnknownCategory,
		/// Only the app's owner may do that.
		NotAppOwner,
		/// Only the dataset's owner may do that.
		NotDatasetOwner,
		/// Only the workerpool's owner may do that.
		NotWorkerpoolOwner,
		/// Only the account the workerpool names as its scheduler may do that.
		NotWorkerpoolScheduler,
		/// The workerpool's scheduler already agreed to schedule it.
		SchedulingAlreadyAccepted,
		/// Every id of that kind is taken.
		IdsExhausted,
		/// A category's reference time must be at least one second.
		ZeroReferenceTime,
		/// The worker already belongs to a workerpool; it must leave it first.
		AlreadyInWorkerpool,
		/// The workerpool is closed and its owner has not allowed this worker.
		NotAllowedInWorkerpool,
		/// The workerpool has as many workers as it may.
		WorkerpoolFull,
		/// The account is not a worker of that workerpool.
		NotAMember,
		/// Only the order's owner may presign or cancel it.
		NotOrderOwner,
		/// The order is already presigned.
		AlreadyPresigned,
		/// The order is already fully consumed or cancelled.
		OrderFullyConsumed,
		/// The request's category differs from the workerpool order's.
		CategoryMismatch,
		/// The request asks for more trust than the workerpool order accepts.
		TrustAboveWorkerpoolLimit,
		/// The app's price is above the request's cap.
		AppPriceAboveRequestCap,
		/// The dataset's price is above the request's cap.
		DatasetPriceAboveRequestCap,
		/// The workerpool's price is above the request's cap.
		WorkerpoolPriceAboveRequestCap,
		/// The workerpool does not offer every feature the tag asks for.
		WorkerpoolLacksRequestedTag,
		/// The dataset or request asks for a TEE but the app does not run in one.
		TeeRequiredButAppNotTee,
		/// The request is for another app than the app order's.
		AppMismatch,
		/// The request is for another dataset than the dataset order's (or for none).
		DatasetMismatch,
		/// The request does not allow this workerpool.
		WorkerpoolNotAllowedByRequest,
		/// The app order does not allow this dataset (or running without one).
		DatasetNotAllowedByApp,
		/// The app order does not allow this workerpool.
		WorkerpoolNotAllowedByApp,
		/// The app order does not allow this requester.
		RequesterNotAllowedByApp,
		/// The dataset order does not allow this app.
		AppNotAllowedByDataset,
		/// The dataset order does not allow this workerpool.
		WorkerpoolNotAllowedByDataset,
		/// The dataset order does not allow this requester.
		RequesterNotAllowedByDataset,
		/// The workerpool order does not allow this app.
		AppNotAllowedByWorkerpool,
		/// The workerpool order does not allow this dataset (or running without one).
		DatasetNotAllowedByWorkerpool,
		/// The workerpool order does not allow this requester.
		RequesterNotAllowedByWorkerpool,
		/// The app order's expiry block has passed.
		AppOrderExpired,
		/// The dataset order's expiry block has passed.
		DatasetOrderExpired,
		/// The workerpool order's expiry block has passed.
		WorkerpoolOrderExpired,
		/// The request order's expiry block has passed.
		RequestOrderExpired,
		/// The app order is neither signed nor presigned by the app's owner.
		InvalidAppOrderSignature,
		/// The dataset order is neither signed nor presigned by the dataset's owner.
		InvalidDatasetOrderSignature,
		/// The workerpool order is neither signed nor presigned by the workerpool's owner.
		InvalidWorkerpoolOrderSignature,
		/// The request order is neither signed nor presigned by its requester.
		InvalidRequestOrderSignature,
		/// The request names a sponsor but no sponsor signature was given.
		MissingSponsorSignature,
		/// The sponsor's signature does not cover this request order's sponsorship payload.
		InvalidSponsorSignature,
		/// A sponsor signature was given but the request names no sponsor.
		UnexpectedSponsorSignature,
		/// The app order has no volume left.
		AppOrderConsumed,
		/// The dataset order has no volume left.
		DatasetOrderConsumed,
		/// The workerpool order has no volume left.
		WorkerpoolOrderConsumed,
		/// The request order has no volume left.
		RequestOrderConsumed,
		/// The deal's price overflows the balance type.
		PriceOverflow,
		/// The payer cannot lock the deal's price.
		PayerCannotPay,
		/// The workerpool's owner cannot lock its stake.
		PoolOwnerCannotStake,
		/// An encrypted dataset's key is released only to enclaves: the deal must run in a TEE.
		EncryptedDatasetOutsideTee,
		/// The app order's price is above zero but below the existential deposit, so its owner
		/// might not be able to receive it.
		AppPriceBelowExistentialDeposit,
		/// The dataset order's price is above zero but below the existential deposit.
		DatasetPriceBelowExistentialDeposit,
		/// The workerpool order's price is above zero but below the existential deposit.
		WorkerpoolPriceBelowExistentialDeposit,
		/// The caller cannot hold the deposit for what it asks the chain to store.
		CannotPayDeposit,
		/// A live deal uses it: it can be removed once that deal's tasks are settled.
		UsedByLiveDeals,
		/// The workerpool still has workers: remove them first.
		WorkerpoolHasWorkers,
		/// The workerpool still allows workers to join: disallow them first.
		WorkerpoolHasAllowedWorkers,
		/// The worker is already allowed to join the workerpool.
		WorkerAlreadyAllowed,
		/// The worker was not allowed to join the workerpool.
		WorkerNotAllowed,
		/// The order's expiry block has passed: there is nothing to presign.
		OrderExpired,
		/// The order has no expiry, or one more than `MaxOrderLifetime` blocks ahead: the chain
		/// keeps no record of it until its expiry is nearer.
		OrderExpiryUnbounded,
		/// The app order has no expiry, or one more than `MaxOrderLifetime` blocks ahead.
		AppOrderExpiryUnbounded,
		/// The dataset order has no expiry, or one more than `MaxOrderLifetime` blocks ahead.
		DatasetOrderExpiryUnbounded,
		/// The workerpool order has no expiry, or one more than `MaxOrderLifetime` blocks ahead.
		WorkerpoolOrderExpiryUnbounded,
		/// The request order has no expiry, or one more than `MaxOrderLifetime` blocks ahead.
		RequestOrderExpiryUnbounded,
		/// The dataset is encrypted but its order allows any app. An app's allowed enclaves are
		/// its owner's choice, and anyone may create an app: an encrypted dataset's order must
		/// name the one app its owner trusts with the data.
		ConfidentialDatasetForAnyApp,
		/// The X25519 key is of small order: the key agreement with it is all zeros whatever
		/// the sealer's secret, so anyone could open a result sealed to it.
		SmallOrderResultKey,
		/// The deal buys an encrypted dataset, and the request's beneficiary has no result
		/// encryption key ([`Pallet::set_result_encryption_key`]): a result computed on
		/// confidential data is never served in the clear, so it could not be delivered.
		BeneficiaryHasNoResultKey,
		/// The app is an OCI image, and the workerpool's order does not offer
		/// [`tag::CONTAINER`]: its workers run no container engine.
		WorkerpoolRunsNoContainers,
		/// An OCI image cannot run in a TEE: confidential tasks run WASI modules only, so an
		/// image lists no measurements and is not matched with a TEE deal.
		ContainerAppInTee,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::prune_expired_orders(now, remaining)
		}

		fn integrity_test() {
			assert!(T::MaxDealVolume::get() > 0, "a deal buys at least one task");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers an app owned by the caller: a WASI module at `uri` whose sha256 is
		/// `checksum`, or an OCI image of the repository `uri` whose manifest's sha256 is
		/// `checksum`, as `kind` says. Only a WASI module may list TEE `measurements`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_app())]
		pub fn create_app(
			origin: OriginFor<T>,
			name: BoundedVec<u8, T::MaxNameLength>,
			uri: BoundedVec<u8, T::MaxUriLength>,
			checksum: Checksum,
			measurements: BoundedVec<Measurement, T::MaxMeasurements>,
			kind: AppKind,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(
				kind == AppKind::Wasi || measurements.is_empty(),
				Error::<T>::ContainerAppInTee
			);
			let app = Self::next_id::<NextAppId<T>>()?;
			let entry = App { owner: owner.clone(), name, uri, checksum, measurements, kind };
			Self::take_deposit(&owner, Footprint::App(app), entry.encoded_size())?;
			Apps::<T>::insert(app, entry);
			Self::deposit_event(Event::AppCreated { app, owner });
			Ok(())
		}

		/// Hands the caller's app to `to`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::transfer_app())]
		pub fn transfer_app(origin: OriginFor<T>, app: AppId, to: T::AccountId) -> DispatchResult {
			let from = ensure_signed(origin)?;
			Apps::<T>::try_mutate(app, |entry| {
				let entry = entry.as_mut().ok_or(Error::<T>::UnknownApp)?;
				ensure!(entry.owner == from, Error::<T>::NotAppOwner);
				entry.owner = to.clone();
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::AppTransferred { app, from, to });
			Ok(())
		}

		/// Registers a dataset owned by the caller.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::create_dataset())]
		pub fn create_dataset(
			origin: OriginFor<T>,
			name: BoundedVec<u8, T::MaxNameLength>,
			uri: BoundedVec<u8, T::MaxUriLength>,
			checksum: Checksum,
			encrypted: bool,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let dataset = Self::next_id::<NextDatasetId<T>>()?;
			let entry = Dataset { owner: owner.clone(), name, uri, checksum, encrypted };
			Self::take_deposit(&owner, Footprint::Dataset(dataset), entry.encoded_size())?;
			Datasets::<T>::insert(dataset, entry);
			Self::deposit_event(Event::DatasetCreated { dataset, owner });
			Ok(())
		}

		/// Hands the caller's dataset to `to`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::transfer_dataset())]
		pub fn transfer_dataset(
			origin: OriginFor<T>,
			dataset: DatasetId,
			to: T::AccountId,
		) -> DispatchResult {
			let from = ensure_signed(origin)?;
			Datasets::<T>::try_mutate(dataset, |entry| {
				let entry = entry.as_mut().ok_or(Error::<T>::UnknownDataset)?;
				ensure!(entry.owner == from, Error::<T>::NotDatasetOwner);
				entry.owner = to.clone();
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::DatasetTransferred { dataset, from, to });
			Ok(())
		}

		/// Registers a workerpool owned by the caller, to be scheduled by `scheduler`'s key once
		/// that account accepts ([`Pallet::accept_scheduling`]); a caller naming itself accepts.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::create_workerpool())]
		pub fn create_workerpool(
			origin: OriginFor<T>,
			description: BoundedVec<u8, T::MaxDescriptionLength>,
			policy: PoolPolicy,
			scheduler: T::AccountId,
			open: bool,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let workerpool = Self::next_id::<NextWorkerpoolId<T>>()?;
			Self::record_consent(workerpool, &owner, &scheduler);
			let entry = Workerpool {
				owner: owner.clone(),
				description,
				policy,
				scheduler_key: scheduler,
				open,
			};
			Self::take_deposit(&owner, Footprint::Workerpool(workerpool), entry.encoded_size())?;
			Workerpools::<T>::insert(workerpool, entry);
			Self::deposit_event(Event::WorkerpoolCreated { workerpool, owner });
			Ok(())
		}

		/// Hands the caller's workerpool to `to`. Its scheduler must accept it again, unless it is
		/// `to`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::transfer_workerpool())]
		pub fn transfer_workerpool(
			origin: OriginFor<T>,
			workerpool: WorkerpoolId,
			to: T::AccountId,
		) -> DispatchResult {
			let from = ensure_signed(origin)?;
			let scheduler = Self::mutate_own_workerpool(&from, workerpool, |pool| {
				pool.owner = to.clone();
				pool.scheduler_key.clone()
			})?;
			// The scheduler agreed to serve this pool under its former owner, not the new one.
			Self::record_consent(workerpool, &to, &scheduler);
			Self::deposit_event(Event::WorkerpoolTransferred { workerpool, from, to });
			Ok(())
		}

		/// Changes the caller's workerpool's policy for deals made from now on.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_workerpool_policy())]
		pub fn set_workerpool_policy(
			origin: OriginFor<T>,
			workerpool: WorkerpoolId,
			policy: PoolPolicy,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let old = Self::mutate_own_workerpool(&who, workerpool, |pool| {
				core::mem::replace(&mut pool.policy, policy)
			})?;
			Self::deposit_event(Event::WorkerpoolPolicyChanged { workerpool, old, new: policy });
			Ok(())
		}

		/// Changes the key that schedules the caller's workerpool; it schedules the pool once it
		/// accepts ([`Pallet::accept_scheduling`]).
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_scheduler())]
		pub fn set_scheduler(
			origin: OriginFor<T>,
			workerpool: WorkerpoolId,
			scheduler: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::mutate_own_workerpool(&who, workerpool, |pool| {
				pool.scheduler_key = scheduler.clone()
			})?;
			Self::record_consent(workerpool, &who, &scheduler);
			Self::deposit_event(Event::SchedulerChanged { workerpool, scheduler });
			Ok(())
		}

		/// Opens the caller's workerpool to any worker, or closes it to all but allowed ones.
		/// Workers already in the pool stay.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_workerpool_access())]
		pub fn set_workerpool_access(
			origin: OriginFor<T>,
			workerpool: WorkerpoolId,
			open: bool,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::mutate_own_workerpool(&who, workerpool, |pool| pool.open = open)?;
			Self::deposit_event(Event::WorkerpoolAccessChanged { workerpool, open });
			Ok(())
		}

		/// Allows `worker` to join the caller's workerpool while it is closed.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::allow_worker())]
		pub fn allow_worker(
			origin: OriginFor<T>,
			workerpool: WorkerpoolId,
			worker: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_workerpool_owner(&who, workerpool)?;
			ensure!(
				!AllowedWorkers::<T>::contains_key(workerpool, &worker),
				Error::<T>::WorkerAlreadyAllowed
			);
			let footprint = Footprint::AllowedWorker(workerpool, worker.clone());
			Self::take_deposit(&who, footprint, 0)?;
			AllowedWorkers::<T>::insert(workerpool, &worker, ());
			Self::deposit_event(Event::WorkerAllowed { workerpool, worker });
			Ok(())
		}

		/// Withdraws `worker`'s permission to join the caller's closed workerpool. A worker
		/// already in the pool stays until removed.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::disallow_worker())]
		pub fn disallow_worker(
			origin: OriginFor<T>,
			workerpool: WorkerpoolId,
			worker: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_workerpool_owner(&who, workerpool)?;
			ensure!(
				AllowedWorkers::<T>::take(workerpool, &worker).is_some(),
				Error::<T>::WorkerNotAllowed
			);
			Self::return_deposit(Footprint::AllowedWorker(workerpool, worker.clone()))?;
			Self::deposit_event(Event::WorkerDisallowed { workerpool, worker });
			Ok(())
		}

		/// Joins `workerpool` as a worker reachable at `endpoint` that can serve `capabilities`.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::join_workerpool())]
		pub fn join_workerpool(
			origin: OriginFor<T>,
			workerpool: WorkerpoolId,
			endpoint: BoundedVec<u8, T::MaxUriLength>,
			capabilities: Tag,
		) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			let pool = Workerpools::<T>::get(workerpool).ok_or(Error::<T>::UnknownWorkerpool)?;
			ensure!(!WorkerPool::<T>::contains_key(&worker), Error::<T>::AlreadyInWorkerpool);
			ensure!(
				pool.open || AllowedWorkers::<T>::contains_key(workerpool, &worker),
				Error::<T>::NotAllowedInWorkerpool
			);
			let members = PoolMemberCount::<T>::get(workerpool);
			ensure!(members < T::MaxPoolMembers::get(), Error::<T>::WorkerpoolFull);

			let last_heartbeat = frame_system::Pallet::<T>::block_number();
			PoolMembers::<T>::insert(
				workerpool,
				&worker,
				Membership { workerpool, endpoint, capabilities, last_heartbeat },
			);
			PoolMemberCount::<T>::insert(workerpool, members.saturating_add(1));
			WorkerPool::<T>::insert(&worker, workerpool);
			Self::deposit_event(Event::WorkerJoined { workerpool, worker, capabilities });
			Ok(())
		}

		/// Leaves the caller's workerpool.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::leave_workerpool())]
		pub fn leave_workerpool(origin: OriginFor<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			let workerpool = WorkerPool::<T>::get(&worker).ok_or(Error::<T>::NotAMember)?;
			Self::remove_member(workerpool, &worker);
			Self::deposit_event(Event::WorkerLeft { workerpool, worker });
			Ok(())
		}

		/// Removes `worker` from the caller's workerpool.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::remove_worker())]
		pub fn remove_worker(
			origin: OriginFor<T>,
			workerpool: WorkerpoolId,
			worker: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_workerpool_owner(&who, workerpool)?;
			ensure!(PoolMembers::<T>::contains_key(workerpool, &worker), Error::<T>::NotAMember);
			Self::remove_member(workerpool, &worker);
			Self::deposit_event(Event::WorkerRemoved { workerpool, worker });
			Ok(())
		}

		/// Records that the calling worker is alive now.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::heartbeat())]
		pub fn heartbeat(origin: OriginFor<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			let workerpool = WorkerPool::<T>::get(&worker).ok_or(Error::<T>::NotAMember)?;
			let now = frame_system::Pallet::<T>::block_number();
			PoolMembers::<T>::try_mutate(workerpool, &worker, |membership| {
				let membership = membership.as_mut().ok_or(Error::<T>::NotAMember)?;
				membership.last_heartbeat = now;
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::WorkerHeartbeat { workerpool, worker });
			Ok(())
		}

		/// Creates a category whose tasks may take `reference_time_secs` (the reference time T).
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::create_category())]
		pub fn create_category(
			origin: OriginFor<T>,
			name: BoundedVec<u8, T::MaxNameLength>,
			reference_time_secs: u32,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::insert_category(name, reference_time_secs)?;
			Ok(())
		}

		/// Presigns `order`, which the caller owns: it can then be matched without a signature,
		/// and is listed in the order book until it is used up, cancelled or expired. The
		/// deposit pays for the order's contents and its listing.
		#[pallet::call_index(16)]
		#[pallet::weight(T::WeightInfo::presign_order())]
		pub fn presign_order(origin: OriginFor<T>, order: Order<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let (owner, hash, volume) = Self::owner_hash_and_volume(&order)?;
			ensure!(who == owner, Error::<T>::NotOrderOwner);
			ensure!(!Presigned::<T>::contains_key(hash), Error::<T>::AlreadyPresigned);
			ensure!(Consumed::<T>::get(hash) < volume, Error::<T>::OrderFullyConsumed);
			let expiry = order.expiry();
			ensure!(Self::expiry_is_bounded(expiry), Error::<T>::OrderExpiryUnbounded);
			ensure!(!Self::has_expired(expiry), Error::<T>::OrderExpired);
			let bytes = owner.encoded_size().saturating_add(Self::listing_bytes(&order));
			Self::take_deposit(&owner, Footprint::PresignedOrder(hash), bytes)?;
			Presigned::<T>::insert(hash, &owner);
			Self::list_order(hash, order);
			Self::record_expiry(hash, expiry);
			Self::deposit_event(Event::OrderPresigned { order: hash, owner });
			Ok(())
		}

		/// Cancels `order`, which the caller owns or, for a request, sponsors: its whole volume
		/// counts as consumed until it expires. A sponsor thereby withdraws its signature. A
		/// presigned order's deposit goes back to its owner, also when what it sells was removed
		/// since. An order whose expiry is beyond [`Config::MaxOrderLifetime`] cannot be matched
		/// yet, and is cancelled once it is nearer.
		#[pallet::call_index(17)]
		#[pallet::weight(T::WeightInfo::cancel_order())]
		pub fn cancel_order(origin: OriginFor<T>, order: Order<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let hash = Self::any_order_hash(&order);
			let volume = order.volume();
			let presigned_by_caller = Presigned::<T>::get(hash).as_ref() == Some(&who);
			if !presigned_by_caller {
				let (owner, _, _) = Self::owner_hash_and_volume(&order)?;
				ensure!(
					who == owner || Self::sponsor_of(&order) == Some(&who),
					Error::<T>::NotOrderOwner
				);
			}
			ensure!(Consumed::<T>::get(hash) < volume, Error::<T>::OrderFullyConsumed);
			let expiry = order.expiry();
			// An order with a record is already queued for removal at its expiry, so cancelling
			// it keeps nothing longer, even if governance lowered `MaxOrderLifetime` since.
			let recorded = Presigned::<T>::contains_key(hash) || Consumed::<T>::contains_key(hash);
			ensure!(recorded || Self::expiry_is_bounded(expiry), Error::<T>::OrderExpiryUnbounded);
			// An expired order can never be matched: it needs no record that it is used up.
			if !Self::has_expired(expiry) {
				Consumed::<T>::insert(hash, volume);
				Self::record_expiry(hash, expiry);
			}
			Self::release_presignature(hash)?;
			Self::deposit_event(Event::OrderCancelled { order: hash, by: who });
			Ok(())
		}

		/// Matches an app order, optionally a dataset order, a workerpool order and a request
		/// order into a deal, and locks its payment and the pool owner's stake. Anyone may call
		/// it; the payer is the one the request order names.
		///
		/// `sponsor_signature` is the sponsor's signature over the request order, required when
		/// the request names a sponsor and refused otherwise.
		///
		/// The request order is boxed only to keep `RuntimeCall` under the 1 KiB that
		/// `pallet_utility` allows: a box encodes exactly as what it holds.
		#[pallet::call_index(18)]
		#[pallet::weight(T::WeightInfo::match_orders())]
		pub fn match_orders(
			origin: OriginFor<T>,
			app_order: Signed<AppOrder<T>, T::OrderSignature>,
			dataset_order: Option<Signed<DatasetOrder<T>, T::OrderSignature>>,
			workerpool_order: Signed<WorkerpoolOrder<T>, T::OrderSignature>,
			request_order: Box<Signed<RequestOrder<T>, T::OrderSignature>>,
			sponsor_signature: Option<T::OrderSignature>,
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_match_orders(
				app_order,
				dataset_order,
				workerpool_order,
				*request_order,
				sponsor_signature,
			)
			.map(|_| ())
		}

		/// Agrees to schedule `workerpool`, which names the caller as its scheduler. Until its
		/// scheduler accepts, nobody assigns the pool's tasks: not the scheduler's node, which
		/// serves only pools that it accepted, and not anyone else.
		#[pallet::call_index(19)]
		#[pallet::weight(T::WeightInfo::accept_scheduling())]
		pub fn accept_scheduling(origin: OriginFor<T>, workerpool: WorkerpoolId) -> DispatchResult {
			let scheduler = ensure_signed(origin)?;
			let pool = Workerpools::<T>::get(workerpool).ok_or(Error::<T>::UnknownWorkerpool)?;
			ensure!(pool.scheduler_key == scheduler, Error::<T>::NotWorkerpoolScheduler);
			ensure!(
				SchedulerAccepted::<T>::get(workerpool).as_ref() != Some(&scheduler),
				Error::<T>::SchedulingAlreadyAccepted
			);
			SchedulerAccepted::<T>::insert(workerpool, &scheduler);
			Self::deposit_event(Event::SchedulingAccepted { workerpool, scheduler });
			Ok(())
		}

		/// Removes the caller's app, which no live deal uses, and returns its deposit to whoever
		/// paid it. Its orders can no longer be matched.
		#[pallet::call_index(20)]
		#[pallet::weight(T::WeightInfo::remove_app())]
		pub fn remove_app(origin: OriginFor<T>, app: AppId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let entry = Apps::<T>::get(app).ok_or(Error::<T>::UnknownApp)?;
			ensure!(entry.owner == who, Error::<T>::NotAppOwner);
			Self::ensure_unused(Footprint::App(app))?;
			Apps::<T>::remove(app);
			Self::return_deposit(Footprint::App(app))?;
			Self::deposit_event(Event::AppRemoved { app });
			Ok(())
		}

		/// Removes the caller's dataset, which no live deal uses, and returns its deposit to
		/// whoever paid it. Its orders can no longer be matched.
		#[pallet::call_index(21)]
		#[pallet::weight(T::WeightInfo::remove_dataset())]
		pub fn remove_dataset(origin: OriginFor<T>, dataset: DatasetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let entry = Datasets::<T>::get(dataset).ok_or(Error::<T>::UnknownDataset)?;
			ensure!(entry.owner == who, Error::<T>::NotDatasetOwner);
			Self::ensure_unused(Footprint::Dataset(dataset))?;
			Datasets::<T>::remove(dataset);
			Self::return_deposit(Footprint::Dataset(dataset))?;
			Self::deposit_event(Event::DatasetRemoved { dataset });
			Ok(())
		}

		/// Removes the caller's workerpool, which no live deal uses and which has no workers and
		/// allows none to join, and returns its deposit to whoever paid it.
		#[pallet::call_index(22)]
		#[pallet::weight(T::WeightInfo::remove_workerpool())]
		pub fn remove_workerpool(origin: OriginFor<T>, workerpool: WorkerpoolId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_workerpool_owner(&who, workerpool)?;
			Self::ensure_unused(Footprint::Workerpool(workerpool))?;
			ensure!(PoolMemberCount::<T>::get(workerpool) == 0, Error::<T>::WorkerpoolHasWorkers);
			ensure!(
				AllowedWorkers::<T>::iter_key_prefix(workerpool).next().is_none(),
				Error::<T>::WorkerpoolHasAllowedWorkers
			);
			Workerpools::<T>::remove(workerpool);
			SchedulerAccepted::<T>::remove(workerpool);
			PoolMemberCount::<T>::remove(workerpool);
			Self::return_deposit(Footprint::Workerpool(workerpool))?;
			Self::deposit_event(Event::WorkerpoolRemoved { workerpool });
			Ok(())
		}

		/// Sets the X25519 key the results of the caller's confidential (TEE) tasks are sealed
		/// to, as their beneficiary, or removes it with `None`. Each enclave seals a result to
		/// the key set when it finishes computing, so a beneficiary keeps the key, and the
		/// secret that opens it, until its tasks are settled: after a removal, a task on an
		/// encrypted dataset is not computed, and another TEE task's result is served in the
		/// clear. Deals buying an encrypted dataset need a beneficiary with a key.
		///
		/// Refuses a key of small order ([`Error::SmallOrderResultKey`]), to which anything
		/// sealed is readable by everyone. The key is a fixed 32 bytes, so it holds no deposit.
		#[pallet::call_index(23)]
		#[pallet::weight(T::WeightInfo::set_result_encryption_key())]
		pub fn set_result_encryption_key(
			origin: OriginFor<T>,
			key: Option<X25519PublicKey>,
		) -> DispatchResult {
			let account = ensure_signed(origin)?;
			match &key {
				Some(public) => {
					ensure!(!is_small_order_x25519(public), Error::<T>::SmallOrderResultKey);
					ResultEncryptionKeys::<T>::insert(&account, public);
				}
				None => ResultEncryptionKeys::<T>::remove(&account),
			}
			Self::deposit_event(Event::ResultEncryptionKeySet { account, key });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Takes the next id from `Counter`.
	fn next_id<Counter: frame_support::StorageValue<u32, Query = u32>>() -> Result<u32, Error<T>> {
		let id = Counter::get();
		Counter::put(id.checked_add(1).ok_or(Error::<T>::IdsExhausted)?);
		Ok(id)
	}

	fn insert_category(
		name: frame_support::BoundedVec<u8, T::MaxNameLength>,
		reference_time_secs: u32,
	) -> Result<CategoryId, Error<T>> {
		frame_support::ensure!(reference_time_secs > 0, Error::<T>::ZeroReferenceTime);
		let category = Self::next_id::<NextCategoryId<T>>()?;
		Categories::<T>::insert(category, Category { name, reference_time_secs });
		Self::deposit_event(Event::CategoryCreated { category, reference_time_secs });
		Ok(category)
	}

	fn ensure_workerpool_owner(
		who: &T::AccountId,
		workerpool: WorkerpoolId,
	) -> Result<Workerpool<T>, Error<T>> {
		let pool = Workerpools::<T>::get(workerpool).ok_or(Error::<T>::UnknownWorkerpool)?;
		frame_support::ensure!(pool.owner == *who, Error::<T>::NotWorkerpoolOwner);
		Ok(pool)
	}

	/// Applies `change` to `workerpool` if `who` owns it, and returns what `change` returned.
	fn mutate_own_workerpool<R>(
		who: &T::AccountId,
		workerpool: WorkerpoolId,
		change: impl FnOnce(&mut Workerpool<T>) -> R,
	) -> Result<R, Error<T>> {
		let mut pool = Self::ensure_workerpool_owner(who, workerpool)?;
		let result = change(&mut pool);
		Workerpools::<T>::insert(workerpool, pool);
		Ok(result)
	}

	fn remove_member(workerpool: WorkerpoolId, worker: &T::AccountId) {
		PoolMembers::<T>::remove(workerpool, worker);
		PoolMemberCount::<T>::mutate(workerpool, |count| *count = count.saturating_sub(1));
		WorkerPool::<T>::remove(worker);
	}

	/// Records what `owner` naming `scheduler` for `workerpool` says about consent: an owner that
	/// schedules its own pool agrees by naming itself; any other scheduler has not agreed yet.
	fn record_consent(workerpool: WorkerpoolId, owner: &T::AccountId, scheduler: &T::AccountId) {
		if owner == scheduler {
			SchedulerAccepted::<T>::insert(workerpool, scheduler);
		} else {
			SchedulerAccepted::<T>::remove(workerpool);
		}
	}

	/// The account that schedules `workerpool`: its scheduler, once that account accepted.
	pub fn active_scheduler(workerpool: WorkerpoolId) -> Option<T::AccountId> {
		let pool = Workerpools::<T>::get(workerpool)?;
		(SchedulerAccepted::<T>::get(workerpool).as_ref() == Some(&pool.scheduler_key))
			.then_some(pool.scheduler_key)
	}

	/// How much of `order`'s volume is left to match.
	pub fn remaining_volume(order: &Order<T>) -> u32 {
		order.volume().saturating_sub(Consumed::<T>::get(Self::any_order_hash(order)))
	}
}

/// The contribution pallet's reports on the deals' tasks (see [`DealTasks`]).
impl<T: Config> DealTasks<T::AccountId> for Pallet<T> {
	fn settle_tasks(deal: &DealId, count: u32) {
		Deals::<T>::mutate_exists(deal, |entry| {
			if let Some(stored) = entry {
				stored.unsettled = stored.unsettled.saturating_sub(count);
				if stored.unsettled == 0 {
					for used in Self::listings_of(stored) {
						DealsUsing::<T>::mutate_exists(used, |count| {
							*count = count.and_then(|count| count.checked_sub(1)).filter(|c| *c > 0)
						});
					}
					*entry = None;
				}
			}
		});
	}

	fn expel_silent_member(workerpool: WorkerpoolId, worker: &T::AccountId) {
		if PoolMembers::<T>::contains_key(workerpool, worker) {
			Self::remove_member(workerpool, worker);
			Self::deposit_event(Event::WorkerExpelled { workerpool, worker: worker.clone() });
		}
	}
}
