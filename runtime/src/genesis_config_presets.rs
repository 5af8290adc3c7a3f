//! Genesis presets: the initial state of the chains Commons ships specs for.
//!
//! Each preset is a JSON patch over the default `RuntimeGenesisConfig`. The node builds its dev
//! and local chain specs from these presets, and `scripts/chain-specs.sh` writes the same specs
//! into `chain-specs/`.
//!
//! - `development`: Alice alone authors and finalizes blocks; a single node is a whole chain.
//! - `local_testnet`: Alice, Bob and Charlie validate; finality needs two of the three.
//!
//! In both, Alice holds the sudo key, the well-known development accounts are endowed, and the
//! marketplace has the reference protocol's task categories XS, S, M, L and XL. Both accept
//! simulated enclave evidence. Their keys are public: these presets are for development and
//! testing only.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	AccountId, AttestationConfig, AuraConfig, Balance, BalancesConfig, GrandpaConfig,
	MarketplaceConfig, RuntimeGenesisConfig, SudoConfig, CMN,
};

/// What each well-known development account holds at genesis.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * CMN;

/// The genesis of a chain validated by `authorities`, governed by `root`, in which each of
/// `endowed_accounts` holds [`DEV_ENDOWMENT`].
fn testnet_genesis(
	authorities: Vec<(AuraId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.into_iter()
				.map(|account| (account, DEV_ENDOWMENT))
				.collect::<Vec<_>>(),
		},
		aura: AuraConfig {
			authorities: authorities.iter().map(|(aura, _)| aura.clone()).collect::<Vec<_>>(),
		},
		grandpa: GrandpaConfig {
			authorities: authorities
				.iter()
				.map(|(_, grandpa)| (grandpa.clone(), 1))
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
		marketplace: MarketplaceConfig { categories: reference_categories() },
		// Both presets are for development and local testing: simulated enclaves are welcome.
		// Real enclaves verify against Intel's root CA, under the default TCB policy.
		attestation: AttestationConfig {
			allow_simulated: true,
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

/// The session keys of a well-known development validator.
fn dev_authority(sr25519: Sr25519Keyring, ed25519: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(sr25519.public().into(), ed25519.public().into())
}

/// Every well-known development account (Alice to Ferdie and their stashes).
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|key| key.to_account_id()).collect()
}

/// The `development` preset: Alice validates alone.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![dev_authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The `local_testnet` preset: Alice, Bob and Charlie validate.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			dev_authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			dev_authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			dev_authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of the preset named `id`, if the runtime has one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
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
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
