//! Genesis presets: the initial state of the chains Commons ships specs for.
//!
//! Each preset is a JSON patch over the default `RuntimeGenesisConfig`. The node builds its dev
//! and local chain specs from these presets, and `scripts/chain-specs.sh` writes the same specs
//! into `chain-specs/`.
//!
//! - `development`: Alice alone authors and finalizes blocks; a single node is a whole chain.
//!   Simulated enclaves are accepted, for encrypted (test) datasets too.
//! - `local_testnet`: Alice, Bob and Charlie validate; finality needs two of the three.
//!   Simulated enclaves are accepted, but never given encrypted datasets.
//! - `staging`: validated like `local_testnet`, but as a chain that is not for development: no
//!   sudo key, no simulated enclave evidence at all, and referenda on their real periods (the
//!   first two decide referenda in minutes, `governance::periods::short`). Only
//!   hardware-attested enclaves run TEE tasks. What root and the protocol's governance origins
//!   do is decided by referenda.
//!
//! In all three the well-known development accounts are endowed, Alice, Bob and Charlie form the
//! technical committee (which may whitelist calls for the fast track), and the marketplace has
//! the reference protocol's task categories XS, S, M, L and XL; in the first two Alice holds the
//! sudo key. The validators' session keys are set at genesis, and the set changes by governance
//! at session boundaries: sessions last a minute on the first two (so that a test sees a change
//! take effect) and an hour on `staging`. Their keys are public: a real network starts from a preset like `staging` with its
//! own validators and accounts.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// The name of the preset of a chain that is not for development (see the module's docs).
pub const STAGING_RUNTIME_PRESET: &str = "staging";

/// Which simulated enclave evidence a chain accepts.
#[derive(Clone, Copy)]
enum SimulatedEvidence {
	/// None: only hardware-attested enclaves.
	Refused,
	/// For tasks on public data only; encrypted datasets need hardware attestation.
	PublicDataOnly,
	/// For all tasks, encrypted (test) datasets included.
	Everything,
}
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	opaque::SessionKeys, AccountId, AttestationConfig, Balance, BalancesConfig, BlockNumber,
	MarketplaceConfig, OriginsConfig, RuntimeGenesisConfig, SessionConfig, SudoConfig,
	TechnicalCommitteeConfig, ValidatorsConfig, CMN, HOURS, MINUTES,
};

/// What each well-known development account holds at genesis.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * CMN;

/// A validator at genesis: its account and its session keys.
type GenesisValidator = (AccountId, AuraId, GrandpaId);

/// The genesis of a chain validated by `validators` in sessions of `session_length` blocks,
/// with `root` as its sudo key if any, in which each of `endowed_accounts` holds
/// [`DEV_ENDOWMENT`], enclaves may register on `simulated` evidence, and referenda run on short
/// periods if `short_periods`.
fn testnet_genesis(
	validators: Vec<GenesisValidator>,
	session_length: BlockNumber,
	endowed_accounts: Vec<AccountId>,
	root: Option<AccountId>,
	simulated: SimulatedEvidence,
	short_periods: bool,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.into_iter()
				.map(|account| (account, DEV_ENDOWMENT))
				.collect::<Vec<_>>(),
		},
		// Aura's and GRANDPA's authorities come from the session pallet's genesis keys.
		validators: ValidatorsConfig {
			validators: validators.iter().map(|(account, ..)| account.clone()).collect::<Vec<_>>(),
			session_length,
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|(account, aura, grandpa)| {
					(account.clone(), account, SessionKeys { aura, grandpa })
				})
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: root },
		origins: OriginsConfig { short_periods },
		technical_committee: TechnicalCommitteeConfig { members: technical_committee() },
		marketplace: MarketplaceConfig { categories: reference_categories() },
		// Real enclaves verify against Intel's root CA, under the default TCB policy.
		attestation: AttestationConfig {
			allow_simulated: !matches!(simulated, SimulatedEvidence::Refused),
			allow_simulated_confidential: matches!(simulated, SimulatedEvidence::Everything),
			root_ca: Some(commons_dcap::INTEL_SGX_ROOT_CA.to_vec()),
			tcb_policy: None,
		},
	})
}

/// The reference protocol's categories: name and reference time T in seconds.
fn reference_categories() -> Vec<(Vec<u8>, u32)> {
	[("XS", 300), ("S", 1_200), ("M", 3_600), ("L", 10_800), ("XL", 36_000)]
		.into_iter()
		.map(|(name, seconds)| (name.as_bytes().to_vec(), seconds))
		.collect()
}

/// The technical committee at genesis: Alice, Bob and Charlie.
fn technical_committee() -> Vec<AccountId> {
	[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
		.into_iter()
		.map(|key| key.to_account_id())
		.collect()
}

/// A well-known development validator: its sr25519 account, which is also its Aura key, and its
/// ed25519 GRANDPA key, all from the same seed (`//Alice`, ...), as the node's `--alice` flags
/// put them in its keystore.
fn dev_validator(sr25519: Sr25519Keyring, ed25519: Ed25519Keyring) -> GenesisValidator {
	(sr25519.to_account_id(), sr25519.public().into(), ed25519.public().into())
}

/// Sessions on development chains last a minute, so that validator changes show within a test.
const DEV_SESSION_LENGTH: BlockNumber = MINUTES;
/// Sessions on the staging chain last an hour: set changes and absence reports at that pace.
const STAGING_SESSION_LENGTH: BlockNumber = HOURS;

/// Every well-known development account (Alice to Ferdie and their stashes).
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|key| key.to_account_id()).collect()
}

/// The `development` preset: Alice validates alone.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		DEV_SESSION_LENGTH,
		dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		SimulatedEvidence::Everything,
		true,
	)
}

/// Alice, Bob and Charlie as validators.
fn three_dev_validators() -> Vec<GenesisValidator> {
	vec![
		dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
		dev_validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		dev_validator(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
	]
}

/// The `local_testnet` preset: Alice, Bob and Charlie validate.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		three_dev_validators(),
		DEV_SESSION_LENGTH,
		dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		SimulatedEvidence::PublicDataOnly,
		true,
	)
}

/// The `staging` preset: validated like `local_testnet`, without sudo or simulated evidence.
pub fn staging_config_genesis() -> Value {
	testnet_genesis(
		three_dev_validators(),
		STAGING_SESSION_LENGTH,
		dev_accounts(),
		None,
		SimulatedEvidence::Refused,
		false,
	)
}

/// The JSON patch of the preset named `id`, if the runtime has one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		STAGING_RUNTIME_PRESET => staging_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets this runtime has.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(STAGING_RUNTIME_PRESET),
	]
}
