//! A runtime with balances, the escrow and the marketplace, and a fixture with registered
//! resources and signed orders, for the marketplace's tests.

use crate::{self as pallet_marketplace, types::*};
use frame_support::{
	assert_ok, derive_impl, parameter_types,
	traits::{ConstU32, VariantCountOf},
	BoundedVec, PalletId,
};
use frame_system::EnsureRoot;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{AccountId32, BuildStorage, MultiSignature, Percent};

type Block = frame_system::mocking::MockBlock<Test>;

pub type AccountId = AccountId32;
pub type Balance = u128;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(2)]
	pub type Escrow = pallet_escrow;

	#[runtime::pallet_index(3)]
	pub type Marketplace = pallet_marketplace;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

/// The existential deposit of the test currency.
pub const ED: Balance = 10;

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = frame_support::traits::ConstU128<ED>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
}

parameter_types! {
	pub const EscrowPalletId: PalletId = PalletId(*b"cmn/kitt");
	pub const PoolOwnerStakeRatio: Percent = Percent::from_percent(30);
	/// What a registration or presignature holds, per item and per byte.
	pub const DepositPerItem: Balance = 1_000;
	pub const DepositPerByte: Balance = 10;
}

impl pallet_escrow::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type PalletId = EscrowPalletId;
}

/// The most workers a pool may have in tests: small, so that "full" is reachable.
pub const MAX_POOL_MEMBERS: u32 = 3;
/// How far ahead orders may expire in the tests, in blocks.
pub const ORDER_LIFETIME: u64 = 10_000;

parameter_types! {
	/// How far ahead an order with records may expire; a test may lower it, as governance can.
	pub static Lifetime: u64 = ORDER_LIFETIME;
}
/// The expiry of the fixture's orders: within the lifetime for the tests' first blocks.
pub const ORDER_EXPIRY: u64 = 1_000;

/// The most tasks a deal may buy in the tests.
pub const MAX_DEAL_VOLUME: u32 = 100;

impl pallet_marketplace::Config for Test {
	type Currency = Balances;
	type Escrow = Escrow;
	type OrderSignature = MultiSignature;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PoolOwnerStakeRatio = PoolOwnerStakeRatio;
	type MaxNameLength = ConstU32<32>;
	type MaxUriLength = ConstU32<128>;
	type MaxDescriptionLength = ConstU32<128>;
	type MaxParamsLength = ConstU32<256>;
	type MaxMeasurements = ConstU32<4>;
	type MaxPoolMembers = ConstU32<MAX_POOL_MEMBERS>;
	type MaxDealVolume = ConstU32<MAX_DEAL_VOLUME>;
	type MaxOrderLifetime = Lifetime;
	type DepositPerItem = DepositPerItem;
	type DepositPerByte = DepositPerByte;
	type OnDealCreated = ();
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarking::Sr25519Signer;
}

/// Who plays which part in the tests.
pub mod actors {
	use super::*;

	pub const APP_OWNER: Sr25519Keyring = Sr25519Keyring::Alice;
	pub const DATASET_OWNER: Sr25519Keyring = Sr25519Keyring::Bob;
	pub const POOL_OWNER: Sr25519Keyring = Sr25519Keyring::Charlie;
	pub const REQUESTER: Sr25519Keyring = Sr25519Keyring::Dave;
	pub const SPONSOR: Sr25519Keyring = Sr25519Keyring::Eve;
	pub const OUTSIDER: Sr25519Keyring = Sr25519Keyring::Ferdie;
	/// The scheduler key of the fixture's workerpool.
	pub const SCHEDULER: Sr25519Keyring = Sr25519Keyring::One;
	pub const WORKER: Sr25519Keyring = Sr25519Keyring::Two;

	pub fn account(key: Sr25519Keyring) -> AccountId {
		key.to_account_id()
	}
}
use actors::*;

/// What every funded account starts with.
pub const START: Balance = 1_000_000_000;

/// The fixture's prices per task.
pub const APP_PRICE: Balance = 5_000;
pub const DATASET_PRICE: Balance = 1_000;
pub const POOL_PRICE: Balance = 20_000;

/// Category 0 of the fixture: XS, T = 300 s.
pub const XS: CategoryId = 0;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: [APP_OWNER, DATASET_OWNER, POOL_OWNER, REQUESTER, SPONSOR, OUTSIDER, WORKER]
			.into_iter()
			.map(|key| (account(key), START))
			.collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_escrow::GenesisConfig::<Test>::default()
		.assimilate_storage(&mut storage)
		.unwrap();
	pallet_marketplace::GenesisConfig::<Test> {
		categories: vec![(b"XS".to_vec(), 300), (b"S".to_vec(), 1_200)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext: sp_io::TestExternalities = storage.into();
	// Benchmarks sign orders with keys they generate in a keystore.
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		System::set_block_number(1);
		// The signing payload names the genesis hash; give the test chain one.
		frame_system::BlockHash::<Test>::insert(0, sp_core::H256::repeat_byte(0xc0));
	});
	ext
}

/// Runs `test` on a fresh chain, then checks the marketplace's and the escrow's invariants.
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Marketplace::do_try_state().expect("marketplace invariants hold after the test");
		Escrow::do_try_state().expect("escrow invariants hold after the test");
	});
}

pub fn bounded<S: frame_support::traits::Get<u32>>(bytes: &[u8]) -> BoundedVec<u8, S> {
	bytes.to_vec().try_into().expect("test data fits its bound")
}

/// The endpoint workers join with in the tests.
pub fn endpoint() -> BoundedVec<u8, <Test as pallet_marketplace::Config>::MaxUriLength> {
	bounded(b"http://127.0.0.1:8080/tasks")
}

/// The origin of a call signed by `key`.
pub fn signed_by(key: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(actors::account(key))
}

/// Signs `order` as `key` would, for this chain.
pub fn sign<O: crate::orders::Signable>(key: Sr25519Keyring, order: &O) -> MultiSignature {
	key.sign(&Marketplace::signing_payload(order)).into()
}

/// An order with its owner's signature.
pub fn signed<O: crate::orders::Signable>(
	key: Sr25519Keyring,
	order: O,
) -> Signed<O, MultiSignature> {
	let signature = sign(key, &order);
	Signed { order, signature: Some(signature) }
}

/// Registers app 0, dataset 0 and workerpool 0 (open, 10 % worker stake, 5 % pool owner share).
pub fn register_resources() {
	assert_ok!(Marketplace::create_app(
		RuntimeOrigin::signed(account(APP_OWNER)),
		bounded(b"monte-carlo"),
		bounded(b"https://apps.example/pi.wasm"),
		[1; 32],
		BoundedVec::default(),
		AppKind::Wasi,
	));
	assert_ok!(Marketplace::create_dataset(
		RuntimeOrigin::signed(account(DATASET_OWNER)),
		bounded(b"prices"),
		bounded(b"https://data.example/prices.csv"),
		[2; 32],
		false,
	));
	assert_ok!(Marketplace::create_workerpool(
		RuntimeOrigin::signed(account(POOL_OWNER)),
		bounded(b"the pool"),
		PoolPolicy {
			worker_stake_ratio: Percent::from_percent(10),
			pool_owner_reward_ratio: Percent::from_percent(5)
		},
		account(SCHEDULER),
		true,
	));
}

pub fn app_order(volume: u32) -> AppOrder<Test> {
	AppOrder {
		app: 0,
		price: APP_PRICE,
		volume,
		tag: 0,
		dataset_restriction: Restriction::Any,
		workerpool_restriction: Restriction::Any,
		requester_restriction: Restriction::Any,
		salt: [0; 32],
		expiry: Some(ORDER_EXPIRY),
	}
}

pub fn dataset_order(volume: u32) -> DatasetOrder<Test> {
	DatasetOrder {
		dataset: 0,
		price: DATASET_PRICE,
		volume,
		tag: 0,
		app_restriction: Restriction::Only(0),
		workerpool_restriction: Restriction::Any,
		requester_restriction: Restriction::Any,
		salt: [0; 32],
		expiry: Some(ORDER_EXPIRY),
	}
}

pub fn workerpool_order(volume: u32) -> WorkerpoolOrder<Test> {
	WorkerpoolOrder {
		workerpool: 0,
		price: POOL_PRICE,
		volume,
		tag: 0,
		category: XS,
		trust: 100,
		app_restriction: Restriction::Any,
		dataset_restriction: Restriction::Any,
		requester_restriction: Restriction::Any,
		salt: [0; 32],
		expiry: Some(ORDER_EXPIRY),
	}
}

/// A request for app 0 on dataset 0 in category XS, paying at most the fixture's prices.
pub fn request_order(volume: u32) -> RequestOrder<Test> {
	RequestOrder {
		app: 0,
		app_max_price: APP_PRICE,
		dataset: Some(0),
		dataset_max_price: DATASET_PRICE,
		workerpool_restriction: Restriction::Any,
		workerpool_max_price: POOL_PRICE,
		requester: account(REQUESTER),
		volume,
		tag: 0,
		category: XS,
		trust: 3,
		beneficiary: account(REQUESTER),
		params: bounded(b"--samples 1000"),
		payer: Payer::Requester,
		salt: [0; 32],
		expiry: Some(ORDER_EXPIRY),
	}
}

/// The four orders of a match, each signed by its owner, ready to change one rule at a time.
#[derive(Clone)]
pub struct Match {
	pub app: AppOrder<Test>,
	pub dataset: Option<DatasetOrder<Test>>,
	pub workerpool: WorkerpoolOrder<Test>,
	pub request: RequestOrder<Test>,
}

impl Match {
	/// Orders of `volume` each, with a dataset.
	pub fn new(volume: u32) -> Self {
		Self {
			app: app_order(volume),
			dataset: Some(dataset_order(volume)),
			workerpool: workerpool_order(volume),
			request: request_order(volume),
		}
	}

	/// Every order signed with its owner's key, no sponsor signature.
	pub fn signed(&self) -> SignedMatch {
		SignedMatch {
			app: signed(APP_OWNER, self.app.clone()),
			dataset: self.dataset.clone().map(|order| signed(DATASET_OWNER, order)),
			workerpool: signed(POOL_OWNER, self.workerpool.clone()),
			request: signed(REQUESTER, self.request.clone()),
			sponsor: None,
		}
	}

	/// Signs every order with its owner's key and submits the match as `OUTSIDER`.
	pub fn submit(&self) -> sp_runtime::DispatchResult {
		self.signed().submit()
	}

	/// As [`Match::submit`], with `sponsor`'s signature over the request.
	pub fn submit_with_sponsor(&self, sponsor: Sr25519Keyring) -> sp_runtime::DispatchResult {
		let mut orders = self.signed();
		orders.sponsor =
			Some(sponsor.sign(&Marketplace::sponsorship_payload(&self.request)).into());
		orders.submit()
	}
}

/// The four orders of a match with their signatures, ready to replace one of them.
pub struct SignedMatch {
	pub app: Signed<AppOrder<Test>, MultiSignature>,
	pub dataset: Option<Signed<DatasetOrder<Test>, MultiSignature>>,
	pub workerpool: Signed<WorkerpoolOrder<Test>, MultiSignature>,
	pub request: Signed<RequestOrder<Test>, MultiSignature>,
	pub sponsor: Option<MultiSignature>,
}

impl SignedMatch {
	/// Submits the match as `OUTSIDER`.
	pub fn submit(self) -> sp_runtime::DispatchResult {
		Marketplace::match_orders(
			RuntimeOrigin::signed(account(OUTSIDER)),
			self.app,
			self.dataset,
			self.workerpool,
			Box::new(self.request),
			self.sponsor,
		)
	}
}

/// The id of the deal made last.
pub fn last_deal() -> DealId {
	System::events()
		.into_iter()
		.rev()
		.find_map(|record| match record.event {
			RuntimeEvent::Marketplace(crate::Event::DealCreated { deal, .. }) => Some(deal),
			_ => None,
		})
		.expect("a deal was made")
}
