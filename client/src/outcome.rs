//! Submitting a transaction and learning what became of it: its events, or the runtime's error
//! by name.

use std::time::{Duration, Instant};

use codec::Decode;
use commons_runtime::{Runtime, RuntimeCall, RuntimeEvent};
use frame_support::traits::PalletInfoAccess;
use sp_core::sr25519;
use sp_runtime::{DispatchError, ModuleError};

use crate::Chain;

/// How long a transaction may take to appear in a block.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

/// The name of the runtime error `error` (for example `Marketplace::NoSuchOrder`), decoded with
/// the runtime's own error types.
pub fn describe(error: &DispatchError) -> String {
	let DispatchError::Module(ModuleError { index, error: bytes, .. }) = error else {
		return format!("{error:?}");
	};
	fn named<P: PalletInfoAccess, E: Decode + std::fmt::Debug>(bytes: &[u8]) -> Option<String> {
		E::decode(&mut &bytes[..]).ok().map(|error| format!("{}::{error:?}", P::name()))
	}
	let index = usize::from(*index);
	let name = if index == commons_runtime::Marketplace::index() {
		named::<commons_runtime::Marketplace, pallet_marketplace::Error<Runtime>>(bytes)
	} else if index == commons_runtime::Contribution::index() {
		named::<commons_runtime::Contribution, pallet_contribution::Error<Runtime>>(bytes)
	} else if index == commons_runtime::Escrow::index() {
		named::<commons_runtime::Escrow, pallet_escrow::Error<Runtime>>(bytes)
	} else if index == commons_runtime::Attestation::index() {
		// A refused quote or collateral says why inside: the verifier's own error.
		match pallet_attestation::Error::<Runtime>::decode(&mut &bytes[..]) {
			Ok(pallet_attestation::Error::Verification(why)) => {
				Some(format!("Attestation::Verification({why:?})"))
			}
			_ => named::<commons_runtime::Attestation, pallet_attestation::Error<Runtime>>(bytes),
		}
	} else if index == commons_runtime::Balances::index() {
		named::<commons_runtime::Balances, pallet_balances::Error<Runtime>>(bytes)
	} else {
		None
	};
	name.unwrap_or_else(|| format!("{error:?}"))
}

impl Chain {
	/// Signs and submits `call`, waits for the block that includes it, and returns the events it
	/// emitted; a failed dispatch is an error naming the runtime's error.
	pub async fn submit_and_wait(
		&self,
		call: RuntimeCall,
		signer: &sr25519::Pair,
	) -> Result<Vec<RuntimeEvent>, String> {
		let from = self.best_number().await?;
		let extrinsic = self.sign_and_submit(call, signer).await?;
		let started = Instant::now();
		let (block, index) = loop {
			match self.find_extrinsic(&extrinsic, from).await {
				Ok(found) => break found,
				Err(_) if started.elapsed() < INCLUSION_TIMEOUT => {
					tokio::time::sleep(Duration::from_millis(500)).await
				}
				Err(error) => return Err(format!("the transaction was not included: {error}")),
			}
		};
		let mut events = Vec::new();
		for record in self.events(block).await? {
			if record.phase != frame_system::Phase::ApplyExtrinsic(index) {
				continue;
			}
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = &record.event
			{
				return Err(describe(dispatch_error));
			}
			events.push(record.event);
		}
		Ok(events)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Encode;

	fn module_error(index: usize, error: impl Encode) -> DispatchError {
		let mut bytes = [0u8; 4];
		let encoded = error.encode();
		bytes[..encoded.len()].copy_from_slice(&encoded);
		DispatchError::Module(ModuleError { index: index as u8, error: bytes, message: None })
	}

	#[test]
	fn runtime_errors_are_named_by_pallet_and_variant() {
		let unknown_app = module_error(
			commons_runtime::Marketplace::index(),
			pallet_marketplace::Error::<Runtime>::UnknownApp,
		);
		assert_eq!(describe(&unknown_app), "Marketplace::UnknownApp");
		let refused = module_error(
			commons_runtime::Attestation::index(),
			pallet_attestation::Error::<Runtime>::SimulatedEvidenceRefused,
		);
		assert_eq!(describe(&refused), "Attestation::SimulatedEvidenceRefused");
		let expired = module_error(
			commons_runtime::Attestation::index(),
			pallet_attestation::Error::<Runtime>::Verification(commons_dcap::Error::CrlExpired),
		);
		assert_eq!(describe(&expired), "Attestation::Verification(CrlExpired)");
		assert_eq!(describe(&DispatchError::BadOrigin), "BadOrigin");
	}
}
