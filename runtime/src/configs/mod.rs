//! The parameters of every pallet in the runtime.

mod balances_weights;
mod offchain;
mod validators;

pub use validators::MAX_VALIDATORS;

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		ConstantMultiplier, IdentityFee, Weight,
	},
	PalletId,
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{traits::Bounded, FixedPointNumber, Perbill, Perquintill};
use sp_version::RuntimeVersion;

use super::{
	parameters, AccountId, Attestation, Aura, Balance, Balances, Block, BlockNumber, Contribution,
	Escrow, Hash, Marketplace, Nonce, PalletInfo, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Signature, System,
	Timestamp, EXISTENTIAL_DEPOSIT, MICRO_CMN, MILLISECS_PER_BLOCK, SLOT_DURATION, SS58_PREFIX,
	VERSION,
};

/// Normal transactions may fill this share of a block; the rest is kept for operational ones.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	/// How many recent block hashes the runtime keeps: how far back a mortal transaction's era
	/// may start (four hours of six-second blocks).
	pub const BlockHashCount: BlockNumber = 2400;
	/// The runtime's version, as frame-system reports it.
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of execution in a six-second slot: the rest is for import and propagation.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// Blocks of at most 5 MiB, of which normal transactions may fill the normal share.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * *max
		})
		.build();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node stores state in ParityDB, so reads and writes are priced for it.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<MAX_VALIDATORS>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_VALIDATORS>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	// Equivocations are not reported on chain: that needs historical sessions and an offences
	// pallet, and with no stake to slash the chain could only remove the equivocator, which
	// governance does (see docs/validators.md).
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	/// Measured on the same machine as the Commons pallets (`scripts/benchmark.sh balances ...`),
	/// so that a transfer and a task are weighed in the same units.
	type WeightInfo = balances_weights::WeightInfo<Runtime>;
	type Balance = Balance;
	/// Dust below the existential deposit is burnt.
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<0>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// Each byte of a transaction costs ten micro-CMN, on top of its weight.
	pub const TransactionByteFee: Balance = 10 * MICRO_CMN;
	/// Fees rise when blocks are fuller than a quarter of their normal capacity, and fall below.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// How fast the fee multiplier moves: about 2.3x per hour of full blocks.
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(3, 100_000);
	/// Fees never fall below the weight price.
	pub MinimumMultiplier: Multiplier = Multiplier::saturating_from_integer(1);
	/// Fees may rise without bound while blocks stay full.
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// A share of fees goes to the treasury and the rest is burnt: no validator profits from
	/// filling blocks.
	type OnChargeTransaction = FungibleAdapter<Balances, crate::governance::DealWithFees>;
	type OperationalFeeMultiplier = ConstU8<5>;
	/// One planck per picosecond of reference execution time.
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = TargetedFeeAdjustment<
		Self,
		TargetBlockFullness,
		AdjustmentVariable,
		MinimumMultiplier,
		MaximumMultiplier,
	>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// The id the kitty's account is derived from.
	pub const EscrowPalletId: PalletId = PalletId(*b"cmn/kitt");
}

impl pallet_escrow::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type PalletId = EscrowPalletId;
}

impl pallet_marketplace::Config for Runtime {
	type Currency = Balances;
	type Escrow = Escrow;
	type OrderSignature = Signature;
	type GovernanceOrigin = crate::governance::ProtocolParametersOrigin;
	type PoolOwnerStakeRatio = parameters::PoolOwnerStakeRatio;
	type MaxNameLength = ConstU32<64>;
	type MaxUriLength = ConstU32<256>;
	type MaxDescriptionLength = ConstU32<256>;
	type MaxParamsLength = ConstU32<1024>;
	type MaxMeasurements = ConstU32<8>;
	type MaxPoolMembers = ConstU32<256>;
	type MaxDealVolume = parameters::MaxDealVolume;
	type DepositPerItem = parameters::DepositPerItem;
	type DepositPerByte = parameters::DepositPerByte;
	type MaxOrderLifetime = parameters::MaxOrderLifetime;
	type OnDealCreated = Contribution;
	type WeightInfo = pallet_marketplace::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_marketplace::benchmarking::Sr25519Signer;
}

impl pallet_contribution::Config for Runtime {
	type Enclaves = Attestation;
	type Market = Marketplace;
	type SchedulerKey = pallet_contribution::scheduler::crypto::SchedulerKey;
	type LivenessWindow = parameters::WorkerLivenessWindow;
	type MaxContributors = ConstU32<12>;
	type MaxResultLocationLength = ConstU32<256>;
	type MaxInitializeBatch = ConstU32<64>;
	type TaskRetention = parameters::TaskRetention;
	type MillisecsPerBlock = ConstU64<MILLISECS_PER_BLOCK>;
	type WeightInfo = pallet_contribution::weights::SubstrateWeight<Runtime>;
}

impl pallet_attestation::Config for Runtime {
	type UnixTime = Timestamp;
	type AttestationLifetime = parameters::AttestationLifetime;
	type MaxEvidenceAge = parameters::MaxEvidenceAge;
	type GovernanceOrigin = crate::governance::TeePolicyOrigin;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AttestationBenchmarkClock;
	type WeightInfo = pallet_attestation::weights::SubstrateWeight<Runtime>;
}

/// The attestation benchmarks' collateral is valid at a fixed date: they set the timestamp.
#[cfg(feature = "runtime-benchmarks")]
pub struct AttestationBenchmarkClock;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_attestation::BenchmarkHelper for AttestationBenchmarkClock {
	fn set_time(moment: u64) {
		pallet_timestamp::Now::<Runtime>::put(moment);
	}
}

/// Every parameter on the track that decides it: see [`parameters`].
impl parameters::Config for Runtime {
	type ProtocolOrigin = crate::governance::ProtocolParametersOrigin;
	type TeePolicyOrigin = crate::governance::TeePolicyOrigin;
	type WeightInfo = parameters::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}
