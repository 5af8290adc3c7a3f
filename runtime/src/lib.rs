//! # Commons runtime
//!
//! The state transition function of Commons, a sovereign chain on which anyone sells or buys
//! computation that the chain verifies. This crate composes the FRAME pallets the chain runs,
//! fixes their parameters (`configs`), exposes the runtime APIs the node and clients call
//! (`apis`) and carries the genesis presets the chain specs are built from
//! (`genesis_config_presets`).
//!
//! ## Token
//!
//! The native token is CMN with 12 decimals: one CMN is `10^12` planck ([`CMN`]). Accounts are
//! shown in SS58 with prefix [`SS58_PREFIX`] (7007, not yet entered in the SS58 registry).
//!
//! ## Governance
//!
//! OpenGov ([`governance`]): referenda on tracks, one per origin (root for runtime upgrades,
//! and narrower origins for protocol parameters, TEE policy, the validator set, treasury spends
//! and cancelling referenda), conviction voting, and a technical committee whose whitelisted
//! calls pass on a fast track. Development presets also keep a sudo key.

#![cfg_attr(not(feature = "std"), no_std)]
// `#[frame_support::runtime]` expands to deeply nested types.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// Declared before `apis`, whose benchmark API uses the macros `benchmarks` defines.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod governance;
pub mod parameters;
pub mod signing;
pub mod upgrade_rehearsal;

use alloc::{borrow::Cow, vec::Vec};
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

// `#[frame_support::runtime]` names the origins pallet by this path, from the crate's root.
use governance::pallet_custom_origins;
use parameters::pallet_protocol_parameters;

pub use apis::RuntimeApi;
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// A block number.
pub type BlockNumber = u32;

/// The signature scheme of transactions and signed orders: sr25519, ed25519 or ecdsa.
pub type Signature = MultiSignature;

/// An account: the public key of the signature scheme (an ecdsa key is hashed to 32 bytes).
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// An amount of planck, the smallest unit of CMN.
pub type Balance = u128;

/// How many transactions an account has sent.
pub type Nonce = u32;

/// The hash of a block or of any other data.
pub type Hash = sp_core::H256;

/// One CMN in planck.
pub const CMN: Balance = 1_000_000_000_000;
/// A thousandth of a CMN.
pub const MILLI_CMN: Balance = CMN / 1_000;
/// A millionth of a CMN.
pub const MICRO_CMN: Balance = MILLI_CMN / 1_000;

/// The token's symbol, as chain specs and wallets show it.
pub const TOKEN_SYMBOL: &str = "CMN";
/// The token's number of decimals.
pub const TOKEN_DECIMALS: u8 = 12;
/// The SS58 address prefix of Commons accounts.
pub const SS58_PREFIX: u16 = 7007;

/// The least balance an account must keep to exist.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_CMN;

/// The target time between two blocks. Aura slots have this length; it cannot change once the
/// chain runs without stalling block production.
pub const MILLISECS_PER_BLOCK: u64 = 6000;
/// The length of one Aura slot.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

/// Blocks in a minute, at the target block time.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
/// Blocks in an hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks in a day.
pub const DAYS: BlockNumber = HOURS * 24;

/// Types the node needs without knowing the runtime's calls: it treats extrinsics as opaque
/// bytes, so it keeps syncing across runtime upgrades that change them.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// A block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// A block with opaque extrinsics.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;

	impl_opaque_keys! {
		/// The keys a validator holds: Aura for authoring, GRANDPA for finality.
		pub struct SessionKeys {
			pub aura: Aura,
			pub grandpa: Grandpa,
		}
	}
}

/// This runtime's version. `spec_version` goes up with every change of behaviour;
/// `transaction_version` with every change of call indices, call arguments or transaction
/// extensions.
#[cfg(not(feature = "upgrade-rehearsal"))]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("commons"),
	impl_name: Cow::Borrowed("commons-node"),
	authoring_version: 1,
	spec_version: 122,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 2,
	system_version: 1,
};

/// The version of the upgrade rehearsal ([`upgrade_rehearsal`]): the runtime's own, with a
/// `spec_version` one higher. Raise both together.
#[cfg(feature = "upgrade-rehearsal")]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("commons"),
	impl_name: Cow::Borrowed("commons-node"),
	authoring_version: 1,
	spec_version: 123,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 2,
	system_version: 1,
};

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
	pub struct Runtime;

	// Indices are part of the transaction format: never renumber a pallet.
	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type Escrow = pallet_escrow;

	#[runtime::pallet_index(8)]
	pub type Marketplace = pallet_marketplace;

	#[runtime::pallet_index(9)]
	pub type Contribution = pallet_contribution;

	#[runtime::pallet_index(10)]
	pub type Attestation = pallet_attestation;

	// Account tools.
	#[runtime::pallet_index(11)]
	pub type Utility = pallet_utility;

	#[runtime::pallet_index(12)]
	pub type Multisig = pallet_multisig;

	#[runtime::pallet_index(13)]
	pub type Proxy = pallet_proxy;

	// What governance enacts with, and its funds.
	#[runtime::pallet_index(14)]
	pub type Scheduler = pallet_scheduler;

	#[runtime::pallet_index(15)]
	pub type Preimage = pallet_preimage;

	#[runtime::pallet_index(16)]
	pub type Treasury = pallet_treasury;

	// Who validates. Authorship before the session pallet: a block that ends a session is
	// credited to its author in the ending session, whose authorities Aura used for it. The
	// validators pallet before the session pallet: the session's genesis asks it for the set.
	#[runtime::pallet_index(17)]
	pub type Authorship = pallet_authorship;

	#[runtime::pallet_index(18)]
	pub type Validators = pallet_validators;

	#[runtime::pallet_index(19)]
	pub type Session = pallet_session;

	// OpenGov.
	#[runtime::pallet_index(20)]
	pub type ConvictionVoting = pallet_conviction_voting;

	#[runtime::pallet_index(21)]
	pub type Referenda = pallet_referenda;

	#[runtime::pallet_index(22)]
	pub type Origins = pallet_custom_origins;

	#[runtime::pallet_index(23)]
	pub type Whitelist = pallet_whitelist;

	#[runtime::pallet_index(24)]
	pub type TechnicalCommittee = pallet_collective<Instance1>;

	#[runtime::pallet_index(25)]
	pub type ProtocolParameters = pallet_protocol_parameters;
}

/// How a transaction names an account.
pub type Address = MultiAddress<AccountId, ()>;
/// A block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// A block with this runtime's extrinsics.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The checks and payments every transaction goes through, in order.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// An extrinsic as it arrives in a block.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// What a transaction's signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run on the next runtime upgrade, beyond the pallets' own. Each runs only
/// while its pallet's stored version is the one it migrates from.
type Migrations = (
	pallet_marketplace::migrations::MigrateToV1<Runtime>,
	pallet_contribution::migrations::MigrateToV1<Runtime>,
	pallet_marketplace::migrations::MigrateToV2<Runtime>,
	pallet_contribution::migrations::MigrateToV2<Runtime>,
	pallet_contribution::migrations::MigrateToV3<Runtime>,
	pallet_attestation::migrations::MigrateToV1<Runtime>,
	pallet_attestation::migrations::MigrateToV2<Runtime>,
	pallet_marketplace::migrations::MigrateToV3<Runtime>,
	pallet_escrow::migrations::MigrateToV1<Runtime>,
	RehearsalMigration,
);

/// The upgrade rehearsal's migration, in its build only.
#[cfg(feature = "upgrade-rehearsal")]
type RehearsalMigration = upgrade_rehearsal::CountRehearsals;
#[cfg(not(feature = "upgrade-rehearsal"))]
type RehearsalMigration = ();

/// Dispatches blocks and transactions to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[cfg(test)]
mod tests;
