//! Feeds mutated quotes and collateral (Intel's samples, each field in turn replaced by the
//! fuzzer's bytes) to both verifiers: a panic here is a disagreement between this crate and
//! dcap-qvl, or a crash in either.

#![no_main]

use commons_dcap::collateral::{Bundle, RawCollateral};
use dcap_qvl::QuoteCollateralV3;
use libfuzzer_sys::fuzz_target;

const ROOT_CA: &[u8] = commons_dcap::INTEL_SGX_ROOT_CA;
const SAMPLES: [(&[u8], &[u8]); 3] = [
	(
		include_bytes!("../../tests/fixtures/sgx_quote"),
		include_bytes!("../../tests/fixtures/sgx_quote_collateral.json"),
	),
	(
		include_bytes!("../../tests/fixtures/tdx_quote"),
		include_bytes!("../../tests/fixtures/tdx_quote_collateral.json"),
	),
	(
		include_bytes!("../../tests/fixtures/tdx_quote_td15ex"),
		include_bytes!("../../tests/fixtures/tdx_quote_td15ex_collateral.json"),
	),
];

/// The last second every piece of a sample's (unmutated) collateral is valid.
fn inside_window(collateral: &QuoteCollateralV3) -> u64 {
	let tcb = commons_dcap::TcbInfo::parse(collateral.tcb_info.as_bytes()).unwrap();
	let qe = commons_dcap::QeIdentity::parse(collateral.qe_identity.as_bytes()).unwrap();
	[&collateral.root_ca_crl, &collateral.pck_crl]
		.iter()
		.filter_map(|der| commons_dcap::Crl::from_der(der).unwrap().unverified_revocations([0; 32]).next_update)
		.chain([tcb.next_update, qe.next_update])
		.min()
		.unwrap()
		- 1
}

fuzz_target!(|data: &[u8]| {
	let Some((&selector, bytes)) = data.split_first() else { return };
	let (sample_quote, sample_collateral) = SAMPLES[usize::from(selector % 3)];
	let mut collateral: QuoteCollateralV3 = serde_json::from_slice(sample_collateral).unwrap();
	let now = inside_window(&collateral);
	let mut quote = sample_quote.to_vec();
	let text = || String::from_utf8_lossy(bytes).into_owned();
	// Every input dcap-qvl reads. It does not read `pck_crl_issuer_chain` (it checks the PCK
	// CRL against the CA in the quote's chain; a chain checks it against both), so mutating
	// that field would compare nothing.
	match (selector / 3) % 8 {
		0 => quote = bytes.to_vec(),
		1 => collateral.root_ca_crl = bytes.to_vec(),
		2 => collateral.pck_crl = bytes.to_vec(),
		3 => collateral.tcb_info = text(),
		4 => collateral.qe_identity = text(),
		5 => collateral.tcb_info_issuer_chain = text(),
		6 => collateral.qe_identity_issuer_chain = text(),
		_ => collateral.tcb_info_signature = bytes.to_vec(),
	}
	let raw = RawCollateral {
		root_ca_crl: &collateral.root_ca_crl,
		pck_crl: &collateral.pck_crl,
		pck_crl_issuer_chain: collateral.pck_crl_issuer_chain.as_bytes(),
		tcb_info: collateral.tcb_info.as_bytes(),
		tcb_info_signature: collateral.tcb_info_signature.clone().try_into().unwrap_or([0; 64]),
		tcb_info_issuer_chain: collateral.tcb_info_issuer_chain.as_bytes(),
		qe_identity: collateral.qe_identity.as_bytes(),
		qe_identity_signature: collateral
			.qe_identity_signature
			.clone()
			.try_into()
			.unwrap_or([0; 64]),
		qe_identity_issuer_chain: collateral.qe_identity_issuer_chain.as_bytes(),
	};
	let pck_chain = collateral.pck_certificate_chain.as_deref().map(str::as_bytes);
	let ours = Bundle::verify(ROOT_CA, &raw, now)
		.and_then(|bundle| commons_dcap::verify_quote(&bundle, &quote, pck_chain, now));
	let theirs = dcap_qvl::verify::rustcrypto::verify(&quote, &collateral, now);
	match (&ours, &theirs) {
		(Ok(verified), Ok(report)) => assert!(
			format!("{:?}", verified.status) == report.status
				&& verified.advisories == report.advisory_ids,
			"both accept, differently: {verified:?} vs {} {:?}",
			report.status,
			report.advisory_ids
		),
		(Err(_), Err(_)) => {}
		_ => panic!("verdicts differ: ours {ours:?}, dcap-qvl {:?}", theirs.map(|r| r.status)),
	}
});
