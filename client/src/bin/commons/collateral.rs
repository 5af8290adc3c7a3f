//! `commons submit-collateral`: puts Intel's collateral for a platform on chain, so that its
//! enclaves' quotes can be registered.
//!
//! It reads the collateral of one quote in the JSON form the `dcap-qvl` tool and crate write
//! (`QuoteCollateralV3`: the CRLs as hex DER, TCB info and QE identity as the exact JSON Intel
//! signed with their signatures in hex, and each issuer chain as PEM), and submits its four
//! pieces in the order the chain needs them: the root CA CRL, the PCK CRL, the TCB info and the
//! QE identity. A piece the chain already holds as new or newer is skipped, not an error.

use commons_client::{Chain, ClientError};
use commons_runtime::{Runtime, RuntimeCall, RuntimeError};
use serde::Deserialize;
use sp_core::{bytes::from_hex, sr25519};

use crate::{
	bounded,
	view::{print_all, View},
};

/// One quote's collateral as `dcap-qvl` writes it.
#[derive(Deserialize)]
struct QuoteCollateral {
	root_ca_crl: String,
	pck_crl: String,
	pck_crl_issuer_chain: String,
	tcb_info: String,
	tcb_info_signature: String,
	tcb_info_issuer_chain: String,
	qe_identity: String,
	qe_identity_signature: String,
	qe_identity_issuer_chain: String,
}

fn hex(what: &str, text: &str) -> Result<Vec<u8>, String> {
	from_hex(text.trim()).map_err(|error| format!("the {what} is not hex: {error}"))
}

fn signature(what: &str, text: &str) -> Result<[u8; 64], String> {
	hex(what, text)?
		.try_into()
		.map_err(|_| format!("the {what} is not a 64-byte r ‖ s signature"))
}

/// The calls that submit `json`'s collateral, each named for messages, in the order the chain
/// verifies them.
fn calls(json: &str) -> Result<Vec<(&'static str, RuntimeCall)>, String> {
	let collateral: QuoteCollateral = serde_json::from_str(json)
		.map_err(|error| format!("not a dcap-qvl collateral file: {error}"))?;
	type Call = pallet_attestation::Call<Runtime>;
	let pieces = [
		(
			"root CA CRL",
			Call::submit_root_ca_crl {
				crl: bounded("root CA CRL", &hex("root CA CRL", &collateral.root_ca_crl)?)?,
			},
		),
		(
			"PCK CRL",
			Call::submit_pck_crl {
				crl: bounded("PCK CRL", &hex("PCK CRL", &collateral.pck_crl)?)?,
				issuer_chain: bounded(
					"PCK CRL issuer chain",
					collateral.pck_crl_issuer_chain.as_bytes(),
				)?,
			},
		),
		(
			"TCB info",
			Call::submit_tcb_info {
				json: bounded("TCB info", collateral.tcb_info.as_bytes())?,
				signature: signature("TCB info signature", &collateral.tcb_info_signature)?,
				issuer_chain: bounded(
					"TCB info issuer chain",
					collateral.tcb_info_issuer_chain.as_bytes(),
				)?,
			},
		),
		(
			"QE identity",
			Call::submit_qe_identity {
				json: bounded("QE identity", collateral.qe_identity.as_bytes())?,
				signature: signature("QE identity signature", &collateral.qe_identity_signature)?,
				issuer_chain: bounded(
					"QE identity issuer chain",
					collateral.qe_identity_issuer_chain.as_bytes(),
				)?,
			},
		),
	];
	Ok(pieces
		.into_iter()
		.map(|(what, call)| (what, RuntimeCall::Attestation(call)))
		.collect())
}

/// Submits the collateral in the file at `path`, one piece after the other.
pub async fn submit(
	chain: &Chain,
	pair: &sr25519::Pair,
	path: &std::path::Path,
	json: bool,
) -> Result<(), String> {
	let collateral = std::fs::read_to_string(path)
		.map_err(|error| format!("cannot read {}: {error}", path.display()))?;
	let mut views = Vec::new();
	for (what, call) in calls(&collateral)? {
		let stored = match chain.submit_and_wait(call, pair).await {
			Ok(_) => true,
			Err(error) if already_current(&error) => false,
			Err(error) => return Err(format!("the chain refused the {what}: {error}")),
		};
		match (json, stored) {
			(true, _) => views.push(View::new().field("piece", what).field("stored", stored)),
			(false, true) => println!("{what}: stored"),
			(false, false) => println!("{what}: the chain's is as new or newer"),
		}
	}
	if json {
		print_all(&views, true);
	}
	Ok(())
}

/// Whether `error` is the chain's refusal of a piece it already holds as new or newer.
fn already_current(error: &ClientError) -> bool {
	matches!(
		error.runtime_error(),
		Some(RuntimeError::Attestation(pallet_attestation::Error::CollateralNotNewer))
	)
}

#[cfg(test)]
mod tests {
	use super::*;

	const SGX_SAMPLE: &str = include_str!(
		"../../../../pallets/attestation/dcap/tests/fixtures/sgx_quote_collateral.json"
	);

	#[test]
	fn intels_sample_collateral_becomes_the_four_submissions_in_order() {
		let calls = calls(SGX_SAMPLE).unwrap();
		let names: Vec<_> = calls.iter().map(|(what, _)| *what).collect();
		assert_eq!(names, ["root CA CRL", "PCK CRL", "TCB info", "QE identity"]);
		let sample: serde_json::Value = serde_json::from_str(SGX_SAMPLE).unwrap();
		match &calls[2].1 {
			RuntimeCall::Attestation(pallet_attestation::Call::submit_tcb_info {
				json,
				signature,
				..
			}) => {
				// Byte for byte what Intel signed.
				assert_eq!(&json[..], sample["tcb_info"].as_str().unwrap().as_bytes());
				assert_eq!(
					signature[..],
					hex("", sample["tcb_info_signature"].as_str().unwrap()).unwrap()
				);
			}
			other => panic!("the third call submits the TCB info, not {other:?}"),
		}
		match &calls[0].1 {
			RuntimeCall::Attestation(pallet_attestation::Call::submit_root_ca_crl { crl }) => {
				// DER: a SEQUENCE.
				assert_eq!(crl[0], 0x30);
			}
			other => panic!("the first call submits the root CA CRL, not {other:?}"),
		}
	}

	#[test]
	fn only_the_chain_holding_newer_collateral_is_taken_as_already_current() {
		use commons_client::DispatchFailure;
		use sp_runtime::DispatchError;
		let refusal = |error: pallet_attestation::Error<Runtime>| {
			ClientError::Dispatch(DispatchFailure::new(DispatchError::from(error)))
		};
		assert!(already_current(&refusal(pallet_attestation::Error::CollateralNotNewer)));
		assert!(!already_current(&refusal(pallet_attestation::Error::SimulatedEvidenceRefused)));
		// The name in a message is not enough.
		assert!(!already_current(&ClientError::Other("CollateralNotNewer".into())));
	}

	#[test]
	fn a_malformed_file_is_refused_with_what_is_wrong() {
		let mut sample: serde_json::Value = serde_json::from_str(SGX_SAMPLE).unwrap();
		sample["pck_crl"] = "not hex".into();
		let error = calls(&sample.to_string()).unwrap_err();
		assert!(error.contains("PCK CRL is not hex"), "{error}");

		let mut sample: serde_json::Value = serde_json::from_str(SGX_SAMPLE).unwrap();
		sample["qe_identity_signature"] = "00ff".into();
		let error = calls(&sample.to_string()).unwrap_err();
		assert!(error.contains("QE identity signature is not a 64-byte"), "{error}");

		let error = calls("{}").unwrap_err();
		assert!(error.contains("not a dcap-qvl collateral file"), "{error}");
	}
}
