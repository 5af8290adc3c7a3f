//! What the marketplace stores and what its orders say.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::{traits::Saturating, Percent};

pub use commons_primitives::{tag, Measurement, Tag};

use crate::{BalanceOf, Config};

type AccountIdOf<T> = <T as frame_system::Config>::AccountId;

/// The id of a registered app.
pub type AppId = u32;
/// The id of a registered dataset.
pub type DatasetId = u32;
/// The id of a registered workerpool.
pub type WorkerpoolId = u32;
/// The id of a category.
pub type CategoryId = u32;
/// The hash that identifies an order: see [`crate::orders`].
pub type OrderHash = sp_core::H256;
/// The id of a deal: `blake2_256(request order hash ‖ its consumed volume before the deal)`.
pub type DealId = sp_core::H256;
/// A sha256 checksum.
pub type Checksum = [u8; 32];

/// Something the chain stores on an account's behalf, for which that account holds a deposit
/// (see [`crate::Deposits`]). Apps, datasets and workerpools are also what live deals use
/// (see [`crate::DealsUsing`]).
#[derive(
	Clone,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Footprint<AccountId> {
	/// A registered app.
	App(AppId),
	/// A registered dataset.
	Dataset(DatasetId),
	/// A registered workerpool.
	Workerpool(WorkerpoolId),
	/// A worker allowed into a closed workerpool.
	AllowedWorker(WorkerpoolId, AccountId),
	/// An order presigned on chain.
	PresignedOrder(OrderHash),
}

/// What an app is, and so what runs it on a compute node.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum AppKind {
	/// A deterministic WASI module (`wasm32-wasip1`), run under wasmtime: the app's `uri` is
	/// where the module is fetched, its `checksum` the module's sha256.
	#[default]
	Wasi,
	/// An OCI (Docker) image, run by a container engine: the app's `uri` is the image's
	/// repository (`registry/name`), its `checksum` the sha256 of the image's manifest, the
	/// digest it is pulled by. Only pools offering [`tag::CONTAINER`] run it, never in a TEE.
	Oci,
}

impl AppKind {
	/// The tag a deal for an app of this kind requires of its workerpool.
	pub fn required_tag(self) -> Tag {
		match self {
			AppKind::Wasi => 0,
			AppKind::Oci => tag::CONTAINER,
		}
	}
}

/// A registered app: a WASI module or an OCI image that compute nodes run.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct App<T: Config> {
	/// Who earns the app's price per run and signs its orders.
	pub owner: AccountIdOf<T>,
	/// A name for people.
	pub name: BoundedVec<u8, T::MaxNameLength>,
	/// Where compute nodes fetch the module, or the image's repository.
	pub uri: BoundedVec<u8, T::MaxUriLength>,
	/// The sha256 of the module, or of the image's manifest; compute nodes refuse anything
	/// else.
	pub checksum: Checksum,
	/// The measurements the app's TEE build may run under; empty for an app without one.
	pub measurements: BoundedVec<Measurement, T::MaxMeasurements>,
	/// What the app is: a WASI module or an OCI image.
	pub kind: AppKind,
}

/// A registered dataset.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Dataset<T: Config> {
	/// Who earns the dataset's price per run and signs its orders.
	pub owner: AccountIdOf<T>,
	/// A name for people.
	pub name: BoundedVec<u8, T::MaxNameLength>,
	/// Where compute nodes fetch the data.
	pub uri: BoundedVec<u8, T::MaxUriLength>,
	/// The sha256 of the data as stored (encrypted, if it is).
	pub checksum: Checksum,
	/// Whether the data is encrypted; its key is then released only to attested enclaves.
	pub encrypted: bool,
}

/// How a workerpool shares a task's price, snapshotted into every deal.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct PoolPolicy {
	/// A worker stakes this share of the pool's price on each contribution.
	pub worker_stake_ratio: Percent,
	/// The pool owner keeps this share of the workers' reward.
	pub pool_owner_reward_ratio: Percent,
}

/// A registered workerpool.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Workerpool<T: Config> {
	/// Who signs the pool's orders, stakes on its deals and earns the pool owner's share.
	pub owner: AccountIdOf<T>,
	/// A description for people.
	pub description: BoundedVec<u8, T::MaxDescriptionLength>,
	/// The pool's current policy; deals keep the one in force when they were made.
	pub policy: PoolPolicy,
	/// The account of the scheduler key that assigns the pool's tasks.
	pub scheduler_key: AccountIdOf<T>,
	/// Whether any worker may join, or only those the owner allowed.
	pub open: bool,
}

/// A worker's membership in a workerpool.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Membership<T: Config> {
	/// The pool the worker belongs to.
	pub workerpool: WorkerpoolId,
	/// Where the scheduler pushes tasks to the worker (an HTTP URL).
	pub endpoint: BoundedVec<u8, T::MaxUriLength>,
	/// The tag bits the worker can serve (TEE kinds, GPU).
	pub capabilities: Tag,
	/// The block of the worker's last sign of life.
	pub last_heartbeat: BlockNumberFor<T>,
}

/// A category of tasks: how long one may take.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Category<T: Config> {
	/// A name for people, such as "XS".
	pub name: BoundedVec<u8, T::MaxNameLength>,
	/// The reference time T in seconds: a task's contribution deadline is 7T after its deal
	/// starts, its final deadline 10T.
	pub reference_time_secs: u32,
}

/// Who may take part in an order, from the order's owner's point of view.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum Restriction<Id> {
	/// Anyone.
	Any,
	/// Only this one.
	Only(Id),
}

impl<Id: PartialEq> Restriction<Id> {
	/// Whether `candidate` is allowed. "No dataset" is allowed only by [`Restriction::Any`].
	pub fn allows(&self, candidate: Option<&Id>) -> bool {
		match self {
			Restriction::Any => true,
			Restriction::Only(id) => candidate == Some(id),
		}
	}
}

/// An app owner's offer: runs of `app` at `price` each.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct AppOrder<T: Config> {
	/// The app whose runs are offered.
	pub app: AppId,
	/// The app owner's price per task, in the chain's smallest unit: zero or at least the
	/// existential deposit. A deal charges it, not the request's cap.
	pub price: BalanceOf<T>,
	/// How many tasks the order may be matched for in all.
	pub volume: u32,
	/// The features the app needs (the TEE bit for a TEE app).
	pub tag: Tag,
	/// Restricts which datasets may be used with the app (Any or Only one); Only also refuses a
	/// deal without a dataset.
	pub dataset_restriction: Restriction<DatasetId>,
	/// Restricts which workerpools may run the app (Any or Only one).
	pub workerpool_restriction: Restriction<WorkerpoolId>,
	/// Restricts which requesters may buy the runs (Any or Only one account).
	pub requester_restriction: Restriction<AccountIdOf<T>>,
	/// Makes otherwise equal orders distinct.
	pub salt: [u8; 32],
	/// The last block in which the order may be matched. Only an order that has one, at most
	/// `MaxOrderLifetime` blocks ahead, can be matched, presigned or cancelled.
	pub expiry: Option<BlockNumberFor<T>>,
}

/// A dataset owner's offer: uses of `dataset` at `price` each.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct DatasetOrder<T: Config> {
	/// The dataset whose uses are offered.
	pub dataset: DatasetId,
	/// The dataset owner's price per task, in the chain's smallest unit: zero or at least the
	/// existential deposit. A deal charges it, not the request's cap.
	pub price: BalanceOf<T>,
	/// How many tasks the order may be matched for in all its deals.
	pub volume: u32,
	/// The features the dataset needs. Its TEE framework bits do not reach the deal's tag: an
	/// encrypted dataset serves any framework the app runs on.
	pub tag: Tag,
	/// Restricts which apps may use the dataset (Any or Only one).
	pub app_restriction: Restriction<AppId>,
	/// Restricts which workerpools may run tasks using the dataset (Any or Only one).
	pub workerpool_restriction: Restriction<WorkerpoolId>,
	/// Restricts which requesters may use the dataset (Any or Only one account).
	pub requester_restriction: Restriction<AccountIdOf<T>>,
	/// Makes otherwise equal orders distinct.
	pub salt: [u8; 32],
	/// The last block in which the order may be matched. Only an order that has one, at most
	/// `MaxOrderLifetime` blocks ahead, can be matched, presigned or cancelled.
	pub expiry: Option<BlockNumberFor<T>>,
}

/// A workerpool owner's offer: tasks of `category` up to `trust`, at `price` each.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct WorkerpoolOrder<T: Config> {
	/// The workerpool whose tasks are offered.
	pub workerpool: WorkerpoolId,
	/// The pool's price per task, in the chain's smallest unit: zero or at least the existential
	/// deposit. It pays the task's winning workers and the pool owner's share of their reward; the
	/// pool owner stakes `PoolOwnerStakeRatio` of it per task.
	pub price: BalanceOf<T>,
	/// How many tasks the order may be matched for in all its deals.
	pub volume: u32,
	/// The features the pool offers.
	pub tag: Tag,
	/// The category of the tasks the pool runs; the request's must be the same.
	pub category: CategoryId,
	/// The highest trust the pool accepts.
	pub trust: u32,
	/// Restricts which apps the pool may run (Any or Only one).
	pub app_restriction: Restriction<AppId>,
	/// Restricts which datasets the tasks may use (Any or Only one); Only also refuses a deal
	/// without a dataset.
	pub dataset_restriction: Restriction<DatasetId>,
	/// Restricts which requesters may buy the tasks (Any or Only one account).
	pub requester_restriction: Restriction<AccountIdOf<T>>,
	/// Makes otherwise equal orders distinct.
	pub salt: [u8; 32],
	/// The last block in which the order may be matched. Only an order that has one, at most
	/// `MaxOrderLifetime` blocks ahead, can be matched, presigned or cancelled.
	pub expiry: Option<BlockNumberFor<T>>,
}

/// Who pays for a request's tasks.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum Payer<AccountId> {
	/// The requester.
	Requester,
	/// A sponsor, who must sign the same request order. Named inside the signed order, so nobody
	/// can match the request with someone else paying.
	Sponsor(AccountId),
}

/// A requester's demand: runs of `app` (on `dataset`), at most at the given prices.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct RequestOrder<T: Config> {
	/// The app to run; the app order must be for it.
	pub app: AppId,
	/// The most the payer pays the app owner per task, in the chain's smallest unit.
	pub app_max_price: BalanceOf<T>,
	/// The dataset to run the app on, if any; a dataset order for it is needed exactly when this
	/// names one.
	pub dataset: Option<DatasetId>,
	/// The most the payer pays the dataset owner per task, in the chain's smallest unit.
	pub dataset_max_price: BalanceOf<T>,
	/// Restricts which workerpools may run the tasks (Any or Only one).
	pub workerpool_restriction: Restriction<WorkerpoolId>,
	/// The most the payer pays the workerpool per task, in the chain's smallest unit.
	pub workerpool_max_price: BalanceOf<T>,
	/// The account that signs or presigns the request, and pays for it unless `payer` names a
	/// sponsor.
	pub requester: AccountIdOf<T>,
	/// How many tasks the requester asks for, in all its deals.
	pub volume: u32,
	/// The features the request needs.
	pub tag: Tag,
	/// The category of the tasks; the workerpool order's must be the same.
	pub category: CategoryId,
	/// How sure the result must be: consensus needs more than `1 - 1/trust` credibility.
	pub trust: u32,
	/// Who receives the results.
	pub beneficiary: AccountIdOf<T>,
	/// Arguments for the app.
	pub params: BoundedVec<u8, T::MaxParamsLength>,
	/// Who pays for the tasks: the requester, or a sponsor whose signature over the request's
	/// sponsorship payload is given at match.
	pub payer: Payer<AccountIdOf<T>>,
	/// Makes otherwise equal orders distinct.
	pub salt: [u8; 32],
	/// The last block in which the order may be matched. Only an order that has one, at most
	/// `MaxOrderLifetime` blocks ahead, can be matched, presigned or cancelled.
	pub expiry: Option<BlockNumberFor<T>>,
}

/// The kind of an order, part of what its signature covers.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum OrderKind {
	/// An app order.
	App,
	/// A dataset order.
	Dataset,
	/// A workerpool order.
	Workerpool,
	/// A request order.
	Request,
}

/// Any order, for the calls and queries that take all four kinds.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub enum Order<T: Config> {
	/// An app owner's offer.
	App(AppOrder<T>),
	/// A dataset owner's offer.
	Dataset(DatasetOrder<T>),
	/// A pool owner's offer.
	Workerpool(WorkerpoolOrder<T>),
	/// A requester's demand.
	Request(RequestOrder<T>),
}

impl<T: Config> Order<T> {
	/// How many tasks the order may be matched for in all.
	pub fn volume(&self) -> u32 {
		match self {
			Order::App(order) => order.volume,
			Order::Dataset(order) => order.volume,
			Order::Workerpool(order) => order.volume,
			Order::Request(order) => order.volume,
		}
	}

	/// The last block the order may be matched in, if it has one.
	pub fn expiry(&self) -> Option<BlockNumberFor<T>> {
		match self {
			Order::App(order) => order.expiry,
			Order::Dataset(order) => order.expiry,
			Order::Workerpool(order) => order.expiry,
			Order::Request(order) => order.expiry,
		}
	}
}

/// A part of the order book ([`crate::book`]): one app's orders, one dataset's, one category's
/// workerpool orders or one category's requests.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Market {
	/// The orders selling this app.
	App(AppId),
	/// The orders selling this dataset.
	Dataset(DatasetId),
	/// The workerpool orders selling tasks of this category.
	Workerpool(CategoryId),
	/// The requests buying tasks of this category.
	Request(CategoryId),
}

/// Where an order stands in its market: a price in big-endian bytes, so that the book's
/// storage, iterated in key order, lists a market best first (see [`crate::Pallet::rank_of`]).
pub type PriceRank = [u8; 16];

/// A listed order that can be matched, as [`crate::Pallet::order_book`] answers it.
#[derive(CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct BookEntry<T: Config> {
	/// The order's hash.
	pub hash: OrderHash,
	/// Who presigned it.
	pub owner: AccountIdOf<T>,
	/// How many tasks can still be bought from it.
	pub remaining: u32,
	/// The order.
	pub order: Order<T>,
}

/// Where a page of the order book ended: the rank and hash of the last listing it read.
pub type BookCursor = (PriceRank, OrderHash);

/// A page of the order book, as [`crate::Pallet::order_book`] answers it.
#[derive(CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct BookPage<T: Config> {
	/// The listings that can be matched, best first.
	pub entries: alloc::vec::Vec<BookEntry<T>>,
	/// Where the next page starts, if the page stopped before the end of its market.
	pub next: Option<BookCursor>,
}

/// An order with its owner's signature, or with none if the owner presigned it on-chain.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Signed<O, Signature> {
	/// The order, as its owner signed or presigned it.
	pub order: O,
	/// The owner's signature over the order's signing payload, or `None` if the owner presigned the
	/// order on chain.
	pub signature: Option<Signature>,
}

/// One side of a deal: what was bought, from whom, at which price per task.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Purchase<Id, AccountId, Balance> {
	/// The id of what was bought: an app, a dataset or a workerpool.
	pub id: Id,
	/// Its owner when the deal was made: the app's or dataset's owner is paid `price` per
	/// successful task; the pool owner stakes on each task and keeps its share of the workers'
	/// reward.
	pub owner: AccountId,
	/// The price per task from its order, in the chain's smallest unit.
	pub price: Balance,
}

/// A deal: `volume` tasks bought by a request from an app, maybe a dataset, and a workerpool,
/// with everything its tasks need snapshotted at match time.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Deal<T: Config> {
	/// The app the tasks run, its owner and its price per task.
	pub app: Purchase<AppId, AccountIdOf<T>, BalanceOf<T>>,
	/// The dataset the tasks use, its owner and its price per task, if the deal has one.
	pub dataset: Option<Purchase<DatasetId, AccountIdOf<T>, BalanceOf<T>>>,
	/// The workerpool that runs the tasks, its pool owner and its price per task.
	pub workerpool: Purchase<WorkerpoolId, AccountIdOf<T>, BalanceOf<T>>,
	/// The account that signed the request order.
	pub requester: AccountIdOf<T>,
	/// Whose funds pay for the tasks: the requester or the sponsor.
	pub payer: AccountIdOf<T>,
	/// Who receives the results, from the request.
	pub beneficiary: AccountIdOf<T>,
	/// The tasks' category, from the request; its reference time, read when each task is opened,
	/// sets the task's deadlines and fuel.
	pub category: CategoryId,
	/// The request's trust, at least 1.
	pub trust: u32,
	/// The features the tasks need: app, dataset (less framework bits) and request tags.
	pub tag: Tag,
	/// Arguments for the app, from the request: read as UTF-8 and split on whitespace into the
	/// module's arguments.
	pub params: BoundedVec<u8, T::MaxParamsLength>,
	/// The block the deal was made in; its tasks' deadlines count from it.
	pub start: BlockNumberFor<T>,
	/// The index of the deal's first task among the request order's tasks.
	pub first_task: u32,
	/// How many tasks the deal bought.
	pub volume: u32,
	/// What a worker stakes per contribution.
	pub worker_stake: BalanceOf<T>,
	/// What the pool owner staked per task.
	pub pool_owner_stake: BalanceOf<T>,
	/// The pool owner's share of the workers' reward.
	pub pool_owner_reward_ratio: Percent,
	/// Tasks not yet paid out or refunded: the deal's payment and stake held in escrow are
	/// `unsettled` times the per-task amounts.
	pub unsettled: u32,
}

impl<T: Config> Deal<T> {
	/// The indices of the deal's tasks: numbered from the request's volume consumed before the
	/// deal, so that a request matched in several deals numbers its tasks once.
	pub fn task_indices(&self) -> core::ops::Range<u32> {
		self.first_task..self.first_task.saturating_add(self.volume)
	}

	/// What the payer pays per task: app, dataset and workerpool prices. Their sum was checked
	/// not to overflow when the deal was made.
	pub fn task_price(&self) -> BalanceOf<T> {
		self.app
			.price
			.saturating_add(self.dataset.as_ref().map(|dataset| dataset.price).unwrap_or_default())
			.saturating_add(self.workerpool.price)
	}
}

/// Something that wants to know about every new deal.
pub trait OnDealCreated<T: Config> {
	/// Called once per deal, when it is stored.
	fn on_deal_created(id: &DealId, deal: &Deal<T>);
}

impl<T: Config> OnDealCreated<T> for () {
	fn on_deal_created(_id: &DealId, _deal: &Deal<T>) {}
}

/// What the pallet that runs deals' tasks reports back to the marketplace, the counterpart of
/// [`OnDealCreated`]: the marketplace keeps a deal exactly while it has unsettled tasks, and a
/// pool's members exactly while they answer the tasks they are given.
pub trait DealTasks<AccountId> {
	/// `count` of `deal`'s tasks were settled (paid out or refunded); the deal goes with its
	/// last, and with it the deal's use of its app, dataset and workerpool.
	fn settle_tasks(deal: &DealId, count: u32);

	/// `worker` left a task of `workerpool` it was given without an answer: it is removed from
	/// the pool, and must join again, paying for it, before it is given tasks again. Nothing
	/// happens if it is no longer a member.
	fn expel_silent_member(workerpool: WorkerpoolId, worker: &AccountId);
}
