//! Who validates: the session pallet rotates Aura's and GRANDPA's keys at session boundaries,
//! the validators pallet chooses the set (by governance) and watches who authors, and
//! authorship names each block's author.

use frame_support::{parameter_types, traits::ConstU32};
use sp_runtime::traits::ConvertInto;

use super::super::{
	governance::ValidatorSetOrigin, opaque::SessionKeys, AccountId, Aura, Balance, Balances,
	Runtime, RuntimeEvent, Validators, CMN, DAYS, MINUTES,
};

/// The most validators, and so Aura's and GRANDPA's bound on authorities.
pub const MAX_VALIDATORS: u32 = 32;

parameter_types! {
	/// Registering session keys holds a deposit (returned by `session.purge_keys`), so that
	/// keys of accounts that will never validate do not fill storage for free.
	pub const SessionKeyDeposit: Balance = 10 * CMN;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	// A validator's id is its account: any account may register keys, governance picks.
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Validators;
	type NextSessionRotation = Validators;
	type SessionManager = Validators;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	// No stake, so no offence disables a validator: absence removes it instead.
	type DisablingStrategy = ();
	// The session pallet's benchmarks need a staking pallet, which this chain does not have;
	// its calls are `set_keys` and `purge_keys`, priced by polkadot-sdk's reference machine.
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Aura>;
	type EventHandler = Validators;
}

impl pallet_validators::Config for Runtime {
	type GovernanceOrigin = ValidatorSetOrigin;
	type MaxValidators = ConstU32<MAX_VALIDATORS>;
	// Never empty; below that, finality is the governance's responsibility.
	type MinValidators = ConstU32<1>;
	// A minute at the shortest (development chains), a day at the longest.
	type MinSessionLength = ConstU32<{ MINUTES }>;
	type MaxSessionLength = ConstU32<{ DAYS }>;
	// Three sessions (three hours on a chain with hour-long sessions) of authoring nothing.
	type AbsenceLimit = ConstU32<3>;
	type WeightInfo = pallet_validators::weights::SubstrateWeight<Runtime>;
}
