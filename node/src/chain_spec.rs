//! The chain specs built into the node: `dev`, `local` and `staging`, from the runtime's genesis
//! presets.

use commons_runtime::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY};
use sc_service::{ChainType, Properties};

/// A chain spec of Commons.
pub type ChainSpec = sc_service::GenericChainSpec;

/// What wallets need to show amounts and addresses of this chain.
fn token_properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn runtime_code() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"this commons-node was built without the runtime's wasm (SKIP_WASM_BUILD was set); \
		 rebuild it without SKIP_WASM_BUILD to run a chain"
			.to_string()
	})
}

/// A single-validator development chain: Alice authors and finalizes every block.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(runtime_code()?, None)
		.with_name("Commons Development")
		.with_id("commons_dev")
		.with_protocol_id("commons-dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(token_properties())
		.build())
}

/// A local network of three validators: Alice, Bob and Charlie.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(runtime_code()?, None)
		.with_name("Commons Local Testnet")
		.with_id("commons_local")
		.with_protocol_id("commons-local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(token_properties())
		.build())
}

/// A staging network of three validators (Alice, Bob and Charlie), run as a live chain: no sudo
/// and no simulated enclaves. A template for a real network's spec, whose keys must be its own.
pub fn staging_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(runtime_code()?, None)
		.with_name("Commons Staging")
		.with_id("commons_staging")
		.with_protocol_id("commons-staging")
		.with_chain_type(ChainType::Live)
		.with_genesis_config_preset_name(
			commons_runtime::genesis_config_presets::STAGING_RUNTIME_PRESET,
		)
		.with_properties(token_properties())
		.build())
}
