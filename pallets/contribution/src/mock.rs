//! A runtime with balances, the escrow, the marketplace and the contribution pallet, and a
//! fixture that registers a workerpool with workers and makes deals, for the pallet's tests.

use crate::{self as pallet_contribution, types::*};
use core::cell::RefCell;
use frame_support::{
	assert_ok, derive_impl, parameter_types,
	traits::{ConstU32, Hooks, VariantCountOf},
	weights::Weight,
	BoundedVec, PalletId,
};
use frame_system::EnsureRoot;
use pallet_marketplace::{
	AppKind, AppOrder, CategoryId, DatasetId, DatasetOrder, DealId, Measurement, Payer, PoolPolicy,
	RequestOrder, Restriction, Signed, Tag, WorkerpoolOrder,
};
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

	#[runtime::pallet_index(4)]
	pub type Contribution = pallet_contribution;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

/// What the scheduler's off-chain worker submits in tests: the signer and its nonce are kept, a
/// signature is not needed.
pub type Extrinsic = sp_runtime::generic::UncheckedExtrinsic<
	AccountId,
	RuntimeCall,
	(),
	frame_system::CheckNonce<Test>,
>;

impl frame_system::offchain::SigningTypes for Test {
	type Public = sp_runtime::MultiSigner;
	type Signature = MultiSignature;
}

impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = Extrinsic;
}

impl<LocalCall> frame_system::offchain::CreateSignedTransaction<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	fn create_signed_transaction<
		C: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
	>(
		call: RuntimeCall,
		_public: Self::Public,
		account: AccountId,
		nonce: u32,
	) -> Option<Extrinsic> {
		Some(Extrinsic::new_signed(call, account, (), frame_system::CheckNonce::from(nonce.into())))
	}
}

/// One RLC in the reference's units (nRLC), so that its worked example reads the same here.
pub const RLC: Balance = 1_000_000_000;

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
}

parameter_types! {
	/// How long a settled task stays readable; a test may change it, as governance can.
	pub static Retention: u64 = TASK_RETENTION;
	/// As the runtime's: a thousandth of the unit. A test may raise it, as an upgrade could.
	pub static ExistentialDeposit: Balance = RLC / 1_000;
	pub const EscrowPalletId: PalletId = PalletId(*b"cmn/kitt");
	pub const PoolOwnerStakeRatio: Percent = Percent::from_percent(30);
	/// What a registration or presignature holds, per item and per byte.
	pub const DepositPerItem: Balance = RLC / 10;
	pub const DepositPerByte: Balance = RLC / 10_000;
}

impl pallet_escrow::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type PalletId = EscrowPalletId;
}

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
	type MaxPoolMembers = ConstU32<16>;
	type MaxDealVolume = ConstU32<MAX_DEAL_VOLUME>;
	type MaxOrderLifetime = frame_support::traits::ConstU64<ORDER_LIFETIME>;
	type DepositPerItem = DepositPerItem;
	type DepositPerByte = DepositPerByte;
	type OnDealCreated = Contribution;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_marketplace::benchmarking::Sr25519Signer;
}

/// How far ahead orders may expire in tests, in blocks.
pub const ORDER_LIFETIME: u64 = 10_000;

/// How long a settled task stays readable in tests, in blocks.
pub const TASK_RETENTION: u64 = 50;

/// The most workers per task in tests.
pub const MAX_CONTRIBUTORS: u32 = 5;

/// The fixture's workerpool, where workers earn their scores.
pub const POOL: pallet_marketplace::WorkerpoolId = 0;

/// The most tasks a deal may buy in the tests.
pub const MAX_DEAL_VOLUME: u32 = 100;

/// Milliseconds per block: category XS (T = 300 s) is 50 blocks.
pub const BLOCK_MILLIS: u64 = 6_000;

/// A worker is live for this many blocks after its heartbeat.
pub const LIVENESS_BLOCKS: u64 = 100;

impl pallet_contribution::Config for Test {
	type Enclaves = TestEnclaves;
	type Market = Marketplace;
	type SchedulerKey = crate::scheduler::crypto::SchedulerKey;
	type LivenessWindow = frame_support::traits::ConstU64<LIVENESS_BLOCKS>;
	type MaxContributors = ConstU32<MAX_CONTRIBUTORS>;
	type MaxResultLocationLength = ConstU32<64>;
	type MaxInitializeBatch = ConstU32<8>;
	type TaskRetention = Retention;
	type MillisecsPerBlock = frame_support::traits::ConstU64<BLOCK_MILLIS>;
	type WeightInfo = ();
}

thread_local! {
	static DEALS_MADE: RefCell<u8> = const { RefCell::new(0) };
	static ATTESTED: RefCell<Vec<(AccountId, Measurement)>> = const { RefCell::new(Vec::new()) };
	static ENCRYPTION_KEYS: RefCell<Vec<(AccountId, X25519PublicKey)>> =
		const { RefCell::new(Vec::new()) };
	static SIMULATED: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
}

/// An attestation registry for tests: workers given an enclave by [`TestEnclaves::attest`];
/// an enclave's signature over a message is `blake2_256(worker ‖ message)` twice; its
/// encryption key is `blake2_256(worker)` until [`TestEnclaves::rekey`] changes it.
pub struct TestEnclaves;

impl TestEnclaves {
	/// Gives `worker` an attested enclave of `measurement`.
	pub fn attest(worker: &AccountId, measurement: Measurement) {
		ATTESTED.with(|attested| attested.borrow_mut().push((worker.clone(), measurement)));
	}

	/// Gives `worker` an enclave of `measurement` on simulated evidence, which the chain does
	/// not trust with encrypted datasets.
	pub fn attest_simulated(worker: &AccountId, measurement: Measurement) {
		Self::attest(worker, measurement);
		SIMULATED.with(|simulated| simulated.borrow_mut().push(worker.clone()));
	}

	/// Takes `worker`'s enclave away, as an expiry or eviction would.
	pub fn evict(worker: &AccountId) {
		ATTESTED.with(|attested| attested.borrow_mut().retain(|(who, _)| who != worker));
		SIMULATED.with(|simulated| simulated.borrow_mut().retain(|who| who != worker));
	}

	/// The encryption key of `worker`'s enclave.
	pub fn encryption_key(worker: &AccountId) -> Option<X25519PublicKey> {
		if Self::measurements(worker).is_empty() {
			return None;
		}
		let rekeyed = ENCRYPTION_KEYS.with(|keys| {
			keys.borrow().iter().rev().find(|(who, _)| who == worker).map(|(_, key)| *key)
		});
		Some(rekeyed.unwrap_or_else(|| sp_io::hashing::blake2_256(worker.as_ref())))
	}

	/// Gives `worker`'s enclave a new encryption key, as a re-registration would.
	pub fn rekey(worker: &AccountId, key: X25519PublicKey) {
		ENCRYPTION_KEYS.with(|keys| keys.borrow_mut().push((worker.clone(), key)));
	}

	/// `worker`'s enclave's signature over `message`.
	pub fn sign(worker: &AccountId, message: &[u8]) -> EnclaveSignature {
		let half = sp_io::hashing::blake2_256(&[worker.as_ref(), message].concat());
		let mut signature = [0; 64];
		signature[..32].copy_from_slice(&half);
		signature[32..].copy_from_slice(&half);
		signature
	}

	fn measurements(worker: &AccountId) -> Vec<Measurement> {
		ATTESTED.with(|attested| {
			attested
				.borrow()
				.iter()
				.filter(|(who, _)| who == worker)
				.map(|(_, measurement)| *measurement)
				.collect()
		})
	}
}

impl EnclaveRegistry<AccountId> for TestEnclaves {
	fn allowed_enclave(
		worker: &AccountId,
		_tag: Tag,
		allowed: &[Measurement],
		confidential: bool,
	) -> Option<PinnedEnclave> {
		let simulated = SIMULATED.with(|simulated| simulated.borrow().contains(worker));
		if confidential && simulated {
			return None;
		}
		let measurement = Self::measurements(worker)
			.into_iter()
			.find(|measurement| allowed.contains(measurement))?;
		Some(PinnedEnclave {
			measurement,
			signing: sp_io::hashing::blake2_256(&[&b"signing"[..], worker.as_ref()].concat()),
			encryption: Self::encryption_key(worker)?,
		})
	}

	fn is_current(worker: &AccountId, pinned: &PinnedEnclave) -> bool {
		Self::allowed_enclave(worker, 0, &[pinned.measurement], false) == Some(*pinned)
	}

	fn verify_enclave_signature(
		worker: &AccountId,
		message: &[u8],
		signature: &EnclaveSignature,
	) -> bool {
		!Self::measurements(worker).is_empty() && *signature == Self::sign(worker, message)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn attest_for_benchmark(
		worker: &AccountId,
		measurement: Measurement,
		encryption: X25519PublicKey,
	) {
		Self::attest(worker, measurement);
		Self::rekey(worker, encryption);
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn sign_for_benchmark(worker: &AccountId, message: &[u8]) -> EnclaveSignature {
		Self::sign(worker, message)
	}
}

/// Who plays which part in the tests.
pub mod actors {
	use super::*;

	pub const APP_OWNER: Sr25519Keyring = Sr25519Keyring::Alice;
	pub const DATASET_OWNER: Sr25519Keyring = Sr25519Keyring::Bob;
	pub const POOL_OWNER: Sr25519Keyring = Sr25519Keyring::Charlie;
	pub const REQUESTER: Sr25519Keyring = Sr25519Keyring::Dave;
	pub const OUTSIDER: Sr25519Keyring = Sr25519Keyring::Ferdie;
	/// The scheduler key of the fixture's workerpool.
	pub const SCHEDULER: Sr25519Keyring = Sr25519Keyring::One;

	pub fn account(key: Sr25519Keyring) -> AccountId {
		key.to_account_id()
	}

	/// Worker `n` of the fixture's pool (1 to [`WORKERS`]).
	pub fn worker(n: u8) -> AccountId {
		AccountId::new([n; 32])
	}

	/// How many workers the fixture's pool has.
	pub const WORKERS: u8 = 6;

	/// A worker that is not in the pool.
	pub fn stranger() -> AccountId {
		AccountId::new([0xee; 32])
	}
}
pub use actors::*;

/// What every funded account starts with.
pub const START: Balance = 1_000 * RLC;

/// Category 0: XS, T = 300 s = 50 blocks.
pub const XS: CategoryId = 0;
/// XS's reference time in blocks.
pub const T_BLOCKS: u64 = 50;

/// The TEE measurement the fixture's app allows.
pub const APP_MEASUREMENT: Measurement = Measurement::SgxMrEnclave([7; 32]);

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let funded = [APP_OWNER, DATASET_OWNER, POOL_OWNER, REQUESTER, OUTSIDER, SCHEDULER]
		.into_iter()
		.map(account)
		.chain((1..=WORKERS).map(worker))
		.chain([stranger()]);
	pallet_balances::GenesisConfig::<Test> {
		balances: funded.map(|who| (who, START)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_escrow::GenesisConfig::<Test>::default()
		.assimilate_storage(&mut storage)
		.unwrap();
	pallet_marketplace::GenesisConfig::<Test> {
		categories: vec![(b"XS".to_vec(), 300)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext: sp_io::TestExternalities = storage.into();
	ext.execute_with(|| {
		System::set_block_number(1);
		frame_system::BlockHash::<Test>::insert(0, sp_core::H256::repeat_byte(0xc0));
		ATTESTED.with(|attested| attested.borrow_mut().clear());
		SIMULATED.with(|simulated| simulated.borrow_mut().clear());
		DEALS_MADE.with(|made| *made.borrow_mut() = 0);
		register_pool();
	});
	ext
}

/// Runs `test` on a fresh chain with the fixture's pool, then checks every pallet's invariants.
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		check_invariants();
	});
}

/// The invariants of the contribution pallet, the marketplace and the escrow.
pub fn check_invariants() {
	Contribution::do_try_state().expect("contribution invariants hold");
	Marketplace::do_try_state().expect("marketplace invariants hold");
	Escrow::do_try_state().expect("escrow invariants hold");
}

pub fn bounded<S: frame_support::traits::Get<u32>>(bytes: &[u8]) -> BoundedVec<u8, S> {
	bytes.to_vec().try_into().expect("test data fits its bound")
}

fn signed<O: pallet_marketplace::orders::Signable>(
	key: Sr25519Keyring,
	order: O,
) -> Signed<O, MultiSignature> {
	let signature = key.sign(&Marketplace::signing_payload(&order)).into();
	Signed { order, signature: Some(signature) }
}

/// Registers app 0 (allowing [`APP_MEASUREMENT`]), dataset 0, and workerpool 0 (35 % worker
/// stake, 5 % pool owner share, scheduled by [`SCHEDULER`], which accepted) with workers 1 to
/// [`WORKERS`], each
/// able to serve the TEE and SGX bits.
fn register_pool() {
	assert_ok!(Marketplace::create_app(
		RuntimeOrigin::signed(account(APP_OWNER)),
		bounded(b"monte-carlo"),
		bounded(b"file:///apps/pi.wasm"),
		[1; 32],
		bounded_measurements(&[APP_MEASUREMENT]),
		AppKind::Wasi,
	));
	assert_ok!(Marketplace::create_dataset(
		RuntimeOrigin::signed(account(DATASET_OWNER)),
		bounded(b"prices"),
		bounded(b"file:///data/prices.csv"),
		[2; 32],
		false,
	));
	assert_ok!(Marketplace::create_dataset(
		RuntimeOrigin::signed(account(DATASET_OWNER)),
		bounded(b"patients"),
		bounded(b"file:///data/patients.csv.sealed"),
		[3; 32],
		true,
	));
	assert_ok!(Marketplace::create_workerpool(
		RuntimeOrigin::signed(account(POOL_OWNER)),
		bounded(b"the pool"),
		PoolPolicy {
			worker_stake_ratio: Percent::from_percent(35),
			pool_owner_reward_ratio: Percent::from_percent(5),
		},
		account(SCHEDULER),
		true,
	));
	assert_ok!(Marketplace::accept_scheduling(RuntimeOrigin::signed(account(SCHEDULER)), 0));
	for n in 1..=WORKERS {
		assert_ok!(Marketplace::join_workerpool(
			RuntimeOrigin::signed(worker(n)),
			0,
			bounded(b"http://127.0.0.1:8000"),
			pallet_marketplace::tag::TEE | pallet_marketplace::tag::SGX,
		));
	}
}

fn bounded_measurements(measurements: &[Measurement]) -> BoundedVec<Measurement, ConstU32<4>> {
	measurements.to_vec().try_into().expect("fits")
}

/// The fixture's dataset stored in the clear.
pub const PLAIN_DATASET: DatasetId = 0;
/// The fixture's encrypted dataset, whose key only enclaves receive.
pub const ENCRYPTED_DATASET: DatasetId = 1;

/// What a deal buys.
#[derive(Clone)]
pub struct DealSpec {
	pub app_price: Balance,
	/// `None` for a deal without a dataset.
	pub dataset_price: Option<Balance>,
	/// Which dataset: [`PLAIN_DATASET`] or [`ENCRYPTED_DATASET`].
	pub dataset: DatasetId,
	pub pool_price: Balance,
	pub trust: u32,
	pub volume: u32,
	pub tag: Tag,
	/// Which app: 0, the fixture's, unless the test registered another.
	pub app: pallet_marketplace::AppId,
	/// Who owns the app and signs its order: [`APP_OWNER`] unless the test hands it over.
	pub app_owner: Sr25519Keyring,
	/// Who requests and pays: [`REQUESTER`] unless the test deals with itself.
	pub requester: Sr25519Keyring,
}

impl Default for DealSpec {
	/// The reference's worked example: pool price 20 RLC, dataset price 1 RLC, free app,
	/// trust 100, one task.
	fn default() -> Self {
		Self {
			app_price: 0,
			dataset_price: Some(RLC),
			dataset: PLAIN_DATASET,
			pool_price: 20 * RLC,
			trust: 100,
			volume: 1,
			tag: 0,
			app: 0,
			app_owner: APP_OWNER,
			requester: REQUESTER,
		}
	}
}

impl DealSpec {
	/// A deal of one task at trust `trust`, otherwise the default.
	pub fn trust(trust: u32) -> Self {
		Self { trust, ..Self::default() }
	}

	/// Matches orders for this deal (salted, so that each call makes a new deal) and returns the
	/// deal's id.
	pub fn make(&self) -> DealId {
		self.try_make().expect("the orders match")
	}

	/// Matches orders for this deal, or says why they do not match.
	pub fn try_make(&self) -> Result<DealId, sp_runtime::DispatchError> {
		let salt = DEALS_MADE.with(|made| {
			let mut made = made.borrow_mut();
			*made += 1;
			[*made; 32]
		});
		// As far ahead as orders may expire.
		let expiry = System::block_number() + ORDER_LIFETIME;
		let app = AppOrder::<Test> {
			app: self.app,
			price: self.app_price,
			volume: self.volume,
			tag: self.tag & pallet_marketplace::tag::TEE,
			dataset_restriction: Restriction::Any,
			workerpool_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt,
			expiry: Some(expiry),
		};
		let dataset = self.dataset_price.map(|price| DatasetOrder::<Test> {
			dataset: self.dataset,
			price,
			volume: self.volume,
			tag: 0,
			// Encrypted datasets are sold only for an app their owner names.
			app_restriction: Restriction::Only(self.app),
			workerpool_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt,
			expiry: Some(expiry),
		});
		let workerpool = WorkerpoolOrder::<Test> {
			workerpool: 0,
			price: self.pool_price,
			volume: self.volume,
			tag: self.tag,
			category: XS,
			trust: self.trust,
			app_restriction: Restriction::Any,
			dataset_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt,
			expiry: Some(expiry),
		};
		let request = RequestOrder::<Test> {
			app: self.app,
			app_max_price: self.app_price,
			dataset: self.dataset_price.map(|_| self.dataset),
			dataset_max_price: self.dataset_price.unwrap_or_default(),
			workerpool_restriction: Restriction::Any,
			workerpool_max_price: self.pool_price,
			requester: account(self.requester),
			volume: self.volume,
			tag: self.tag,
			category: XS,
			trust: self.trust,
			beneficiary: account(self.requester),
			params: bounded(b"--samples 1000"),
			payer: Payer::Requester,
			salt,
			expiry: Some(expiry),
		};
		if self.dataset_price.is_some() && self.dataset == ENCRYPTED_DATASET {
			// A result computed on an encrypted dataset is sealed to its beneficiary's key, so
			// the marketplace makes the deal only for a beneficiary that has one.
			pallet_marketplace::ResultEncryptionKeys::<Test>::insert(
				account(self.requester),
				[0x42u8; 32],
			);
		}
		Marketplace::match_orders(
			RuntimeOrigin::signed(account(OUTSIDER)),
			signed(self.app_owner, app),
			dataset.map(|order| signed(DATASET_OWNER, order)),
			signed(POOL_OWNER, workerpool),
			Box::new(signed(self.requester, request)),
			None,
		)?;
		Ok(System::events()
			.into_iter()
			.rev()
			.find_map(|record| match record.event {
				RuntimeEvent::Marketplace(pallet_marketplace::Event::DealCreated {
					deal, ..
				}) => Some(deal),
				_ => None,
			})
			.expect("a deal was made"))
	}
}

/// Makes a one-task deal, initializes its task and assigns `workers`; returns the task id.
pub fn assigned_task(spec: DealSpec, workers: &[AccountId]) -> TaskId {
	let deal = spec.make();
	let task = Contribution::task_id(&deal, 0);
	assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
	assert_ok!(Contribution::assign(
		RuntimeOrigin::signed(account(SCHEDULER)),
		task,
		workers.to_vec().try_into().expect("at most MaxContributors"),
	));
	task
}

/// A trust-1 task assigned to `who` alone, which computes `digest(9)` and finalizes it in one
/// call; returns the task.
pub fn single_worker_task(spec: DealSpec, who: &AccountId) -> TaskId {
	let task = assigned_task(spec, &[who.clone()]);
	assert_ok!(Contribution::contribute_and_finalize(
		RuntimeOrigin::signed(who.clone()),
		task,
		digest(9),
		bounded(b"http://127.0.0.1:8000/results/9"),
		None,
	));
	task
}

/// A digest some computation produced.
pub fn digest(byte: u8) -> ResultDigest {
	ResultDigest::repeat_byte(byte)
}

/// `who` contributes `digest` to `task` (hash and seal computed as a compute node would).
pub fn contribute(who: &AccountId, task: TaskId, digest: ResultDigest) -> ContributeOutcome {
	let (hash, seal) = Contribution::result_hash_and_seal(&task, who, &digest);
	Contribution::contribute(RuntimeOrigin::signed(who.clone()), task, hash, seal, None)
}

/// What a fee-less call returns.
pub type ContributeOutcome = frame_support::dispatch::DispatchResultWithPostInfo;

/// `who` reveals `digest` on `task`, published at a location named after it.
pub fn reveal(who: &AccountId, task: TaskId, digest: ResultDigest) -> ContributeOutcome {
	Contribution::reveal(
		RuntimeOrigin::signed(who.clone()),
		task,
		digest,
		bounded(b"http://127.0.0.1:8000/results/1"),
	)
}

/// Moves the chain to block `n`, running the idle sweep with `idle` weight in each block.
pub fn run_to_block(n: u64, idle: Weight) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Contribution::on_idle(next, idle);
	}
}

/// A free balance.
pub fn free(who: &AccountId) -> Balance {
	use frame_support::traits::fungible::Inspect;
	Balances::balance(who)
}

/// The last event of the contribution pallet.
pub fn last_contribution_event() -> pallet_contribution::Event<Test> {
	System::events()
		.into_iter()
		.rev()
		.find_map(|record| match record.event {
			RuntimeEvent::Contribution(event) => Some(event),
			_ => None,
		})
		.expect("the contribution pallet emitted an event")
}
