//! A runtime with balances, the session pallet and the validators pallet as its session
//! manager, for the pallet's tests. Blocks are authored in turn by the active set, as Aura does,
//! except by validators the test took offline.

use crate as pallet_validators;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, Hooks, VariantCountOf},
};
use frame_system::EnsureRoot;
use sp_runtime::{
	impl_opaque_keys,
	testing::UintAuthorityId,
	traits::{ConvertInto, OpaqueKeys},
	BuildStorage, KeyTypeId, RuntimeAppPublic,
};

type Block = frame_system::mocking::MockBlock<Test>;

pub type AccountId = u64;
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

	// Before the session pallet: its genesis asks this pallet for the first sets.
	#[runtime::pallet_index(2)]
	pub type Validators = pallet_validators;

	#[runtime::pallet_index(3)]
	pub type Session = pallet_session;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
}

impl_opaque_keys! {
	/// One test key per validator.
	pub struct TestKeys {
		/// The key the test session handler sees.
		pub key: UintAuthorityId,
	}
}

/// A session handler that accepts the test keys and does nothing with them: the active set is
/// read from the session pallet.
pub struct TestSessionHandler;
impl pallet_session::SessionHandler<AccountId> for TestSessionHandler {
	const KEY_TYPE_IDS: &'static [KeyTypeId] = &[UintAuthorityId::ID];
	fn on_genesis_session<Ks: OpaqueKeys>(_: &[(AccountId, Ks)]) {}
	fn on_new_session<Ks: OpaqueKeys>(_: bool, _: &[(AccountId, Ks)], _: &[(AccountId, Ks)]) {}
	fn on_disabled(_: u32) {}
}

impl pallet_session::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Validators;
	type NextSessionRotation = Validators;
	type SessionManager = Validators;
	type SessionHandler = TestSessionHandler;
	type Keys = TestKeys;
	type DisablingStrategy = ();
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = ConstU128<0>;
}

/// The shortest session governance may set, in blocks.
pub const MIN_SESSION: u64 = 8;
/// The longest.
pub const MAX_SESSION: u64 = 1_000;
/// The session length the tests start with.
pub const SESSION: u64 = 20;
/// Absent sessions in a row that remove a validator.
pub const ABSENCE_LIMIT: u32 = 2;
/// The most validators.
pub const MAX_VALIDATORS: u32 = 5;

parameter_types! {
	pub const MinValidators: u32 = 2;
}

impl pallet_validators::Config for Test {
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type MaxValidators = ConstU32<MAX_VALIDATORS>;
	type MinValidators = MinValidators;
	type MinSessionLength = ConstU64<MIN_SESSION>;
	type MaxSessionLength = ConstU64<MAX_SESSION>;
	type AbsenceLimit = ConstU32<ABSENCE_LIMIT>;
	type WeightInfo = ();
}

/// Accounts 1, 2 and 3 validate at genesis.
pub const GENESIS_VALIDATORS: [AccountId; 3] = [1, 2, 3];
/// Accounts 4 to 7 have session keys but do not validate.
pub const CANDIDATES: [AccountId; 4] = [4, 5, 6, 7];
/// Account 8 has no session keys.
pub const KEYLESS: AccountId = 8;

/// The test keys of `account`.
pub fn keys_of(account: AccountId) -> TestKeys {
	TestKeys { key: UintAuthorityId(account) }
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=KEYLESS).map(|account| (account, 1_000)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_validators::GenesisConfig::<Test> {
		validators: GENESIS_VALIDATORS.to_vec(),
		session_length: SESSION,
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let keyed = |accounts: &[AccountId]| {
		accounts.iter().map(|&account| (account, account, keys_of(account))).collect()
	};
	pallet_session::GenesisConfig::<Test> {
		keys: keyed(&GENESIS_VALIDATORS),
		non_authority_keys: keyed(&CANDIDATES),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

thread_local! {
	/// The validators that author nothing, as if their nodes were down.
	static OFFLINE: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
}

/// Takes `validator`'s node down: it authors no block until [`bring_online`].
pub fn take_offline(validator: AccountId) {
	OFFLINE.with(|offline| offline.borrow_mut().push(validator));
}

/// Brings `validator`'s node back.
pub fn bring_online(validator: AccountId) {
	OFFLINE.with(|offline| offline.borrow_mut().retain(|v| *v != validator));
}

/// Produces blocks up to `to`: as Aura, the slot `n`'s author is the active set's `n mod len`-th
/// validator, and a slot whose author is offline passes without a block (and the next block's
/// number is unchanged). Each block runs the session pallet, notes its author and checks the
/// pallet's invariants.
pub fn run_to_block(to: u64) {
	let mut slot = System::block_number();
	let mut empty_slots = 0;
	while System::block_number() < to {
		slot += 1;
		let active = pallet_session::Validators::<Test>::get();
		let author = active[(slot as usize) % active.len()];
		if OFFLINE.with(|offline| offline.borrow().contains(&author)) {
			empty_slots += 1;
			assert!(empty_slots <= active.len(), "every validator is offline");
			continue;
		}
		empty_slots = 0;
		let number = System::block_number() + 1;
		System::set_block_number(number);
		Validators::on_initialize(number);
		<Validators as pallet_authorship::EventHandler<_, _>>::note_author(author);
		Session::on_initialize(number);
		Validators::do_try_state().unwrap();
	}
}

/// Produces blocks until `sessions` more sessions have started.
pub fn run_sessions(sessions: u32) {
	let target = Session::current_index() + sessions;
	while Session::current_index() < target {
		run_to_block(System::block_number() + 1);
	}
}

/// The events of the validators pallet so far, oldest first.
pub fn validators_events() -> Vec<pallet_validators::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Validators(event) => Some(event),
			_ => None,
		})
		.collect()
}
