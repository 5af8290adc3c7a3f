//! A runtime with the timestamp and the attestation registry, for the registry's tests.

use crate::{self as pallet_attestation, types::*};
use frame_support::{derive_impl, parameter_types};
use sp_core::{ed25519, Pair};
use sp_runtime::{AccountId32, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;

pub type AccountId = AccountId32;

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
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Attestation = pallet_attestation;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
}

#[derive_impl(pallet_timestamp::config_preludes::TestDefaultConfig)]
impl pallet_timestamp::Config for Test {}

/// A day, in milliseconds.
pub const LIFETIME: Moment = 24 * 60 * 60 * 1000;
/// When the tests start: 2026-11-22, in milliseconds since the epoch.
pub const START: Moment = 1_795_305_600_000;

/// The block the tests' evidence binds, unless a test says otherwise: genesis, fresh at the
/// block the tests run in.
pub const ANCHOR: u64 = 0;

/// How many blocks old the tests' evidence may be.
pub const MAX_EVIDENCE_AGE: u64 = 10;

parameter_types! {
	/// How long evidence holds; a test may change it, as governance can.
	pub static AttestationLifetime: Moment = LIFETIME;
	pub const MaxEvidenceAge: u64 = MAX_EVIDENCE_AGE;
}

impl pallet_attestation::Config for Test {
	type UnixTime = Timestamp;
	type AttestationLifetime = AttestationLifetime;
	type MaxEvidenceAge = MaxEvidenceAge;
	type GovernanceOrigin = frame_system::EnsureRoot<AccountId>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = SetTimestamp;
	type WeightInfo = ();
}

/// Benchmarks set the clock through the timestamp pallet.
#[cfg(feature = "runtime-benchmarks")]
pub struct SetTimestamp;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for SetTimestamp {
	fn set_time(moment: Moment) {
		pallet_timestamp::Now::<Test>::put(moment);
	}
}

pub fn account(seed: u8) -> AccountId {
	AccountId::new([seed; 32])
}

/// An enclave's key pairs, from `seed`.
pub struct TestEnclave {
	pub signer: ed25519::Pair,
	pub keys: EnclaveKeys,
}

impl TestEnclave {
	pub fn new(seed: u8) -> Self {
		let signer = ed25519::Pair::from_seed(&[seed; 32]);
		let keys = EnclaveKeys { signing: signer.public().0, encryption: [seed; 32] };
		Self { signer, keys }
	}

	/// The proof a simulated enclave gives for `worker` on the test chain, after block
	/// [`ANCHOR`].
	pub fn proof(&self, worker: &AccountId) -> [u8; 64] {
		self.proof_after(worker, ANCHOR)
	}

	/// The proof a simulated enclave gives for `worker` on the test chain, after block `anchor`.
	pub fn proof_after(&self, worker: &AccountId, anchor: u64) -> [u8; 64] {
		let report_data =
			crate::Pallet::<Test>::report_data(worker, &self.keys, anchor).expect("a fresh anchor");
		self.signer.sign(&report_data).0
	}
}

/// Externalities of a chain that allows simulated evidence iff `allow_simulated`, at [`START`],
/// whose `try_state` is checked after `test`.
pub fn run(allow_simulated: bool, test: impl FnOnce()) {
	run_at(allow_simulated, None, START, test)
}

/// Externalities of a chain that trusts `root_ca` and refuses simulated evidence, at `now`.
pub fn run_with_root(root_ca: &[u8], now: Moment, test: impl FnOnce()) {
	run_at(false, Some(root_ca.to_vec()), now, test)
}

fn run_at(allow_simulated: bool, root_ca: Option<Vec<u8>>, now: Moment, test: impl FnOnce()) {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_attestation::GenesisConfig::<Test> { allow_simulated, root_ca, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		Timestamp::set_timestamp(now);
		test();
		crate::Pallet::<Test>::do_try_state().expect("the registry is consistent");
	});
}

/// Externalities for the benchmarks' tests: simulated evidence allowed, a keystore for the
/// enclaves' keys, at [`START`].
#[cfg(feature = "runtime-benchmarks")]
pub fn bench_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_attestation::GenesisConfig::<Test> { allow_simulated: true, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| Timestamp::set_timestamp(START));
	ext
}
