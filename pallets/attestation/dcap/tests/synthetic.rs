//! The verifier's checks one at a time, on quotes of the synthetic PKI (which, unlike Intel's
//! samples, can be built to fail in exactly one way).

use commons_dcap::{
	collateral::{Bundle, RawCollateral},
	synthetic::{self, QuoteSpec, SignedJson, TcbSpec},
	verify_quote, Error, TcbPolicy, TcbStatus, Verified,
};

/// 2027-01-01T00:00:00Z: inside every synthetic validity window.
const NOW: u64 = 1_798_761_600;

fn tcb(status: &'static str) -> TcbSpec<'static> {
	TcbSpec {
		issue_date: "2026-12-01T00:00:00Z",
		next_update: "2027-02-01T00:00:00Z",
		evaluation_number: 20,
		status,
		advisories: &["INTEL-SA-00001"],
		tcb_date: "2026-10-01T00:00:00Z",
		higher_levels: 2,
	}
}

fn spec() -> QuoteSpec {
	QuoteSpec {
		mr_enclave: [1; 32],
		mr_signer: [2; 32],
		report_data: [3; 64],
		debug: false,
		pck: synthetic::PCK,
		padding: 0,
	}
}

fn verify_with(quote: &[u8], tcb_info: &SignedJson, now: u64) -> Result<Verified, Error> {
	let qe = synthetic::qe_identity("2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z", 20);
	let (pck_chain, signer_chain) = (synthetic::pck_ca_chain(), synthetic::signer_chain());
	let raw = RawCollateral {
		root_ca_crl: synthetic::ROOT_CA_CRL,
		pck_crl: synthetic::PCK_CA_CRL,
		pck_crl_issuer_chain: &pck_chain,
		tcb_info: &tcb_info.json,
		tcb_info_signature: tcb_info.signature,
		tcb_info_issuer_chain: &signer_chain,
		qe_identity: &qe.json,
		qe_identity_signature: qe.signature,
		qe_identity_issuer_chain: &signer_chain,
	};
	verify_quote(&Bundle::verify(synthetic::ROOT_CA, &raw, now)?, quote, None, now)
}

fn verify(quote: &[u8]) -> Result<Verified, Error> {
	verify_with(quote, &synthetic::tcb_info(&tcb("UpToDate")), NOW)
}

#[test]
fn a_well_formed_quote_verifies_with_its_report() {
	let verified = verify(&synthetic::sgx_quote(&spec())).unwrap();
	assert_eq!(verified.status, TcbStatus::UpToDate);
	assert_eq!(verified.advisories, ["INTEL-SA-00001"]);
	assert_eq!(verified.report_data(), &[3; 64]);
	assert_eq!(verified.fmspc, synthetic::FMSPC);
}

#[test]
fn each_fault_is_named() {
	let quote = synthetic::sgx_quote(&spec());
	let mut tampered = quote.clone();
	tampered[48 + 64] ^= 1; // MRENCLAVE
	assert_eq!(verify(&tampered), Err(Error::QuoteSignatureInvalid));
	let mut qe_tampered = quote.clone();
	qe_tampered[48 + 384 + 4 + 128 + 64] ^= 1; // the QE report's MRENCLAVE
	assert_eq!(verify(&qe_tampered), Err(Error::QeReportSignatureInvalid));
	let revoked = synthetic::sgx_quote(&QuoteSpec { pck: synthetic::REVOKED_PCK, ..spec() });
	assert_eq!(verify(&revoked), Err(Error::CertificateRevoked));
	let debug = synthetic::sgx_quote(&QuoteSpec { debug: true, ..spec() });
	assert_eq!(verify(&debug), Err(Error::DebugEnclave));
	let revoked_tcb = synthetic::tcb_info(&tcb("Revoked"));
	assert_eq!(verify_with(&quote, &revoked_tcb, NOW), Err(Error::TcbRevoked));
	let expired = NOW + 60 * 86_400;
	assert_eq!(
		verify_with(&quote, &synthetic::tcb_info(&tcb("UpToDate")), expired),
		Err(Error::TcbInfoExpired)
	);
	let mut forged = synthetic::tcb_info(&tcb("UpToDate"));
	forged.signature[0] ^= 1;
	assert_eq!(verify_with(&quote, &forged, NOW), Err(Error::TcbInfoSignatureInvalid));
	assert_eq!(verify(&quote[..100]), Err(Error::QuoteMalformed));
}

#[test]
fn the_policy_grades_statuses_advisories_and_grace() {
	let quote = synthetic::sgx_quote(&spec());
	let out_of_date = verify_with(&quote, &synthetic::tcb_info(&tcb("OutOfDate")), NOW).unwrap();
	assert_eq!(out_of_date.status, TcbStatus::OutOfDate);
	let strict = TcbPolicy {
		accepted: &[TcbStatus::UpToDate],
		out_of_date_grace: 0,
		allowed_advisories: None,
	};
	let check = |policy: &TcbPolicy, verified: &Verified| {
		policy.admits(verified.status, &verified.advisories, verified.tcb_date, NOW)
	};
	assert_eq!(check(&strict, &out_of_date), Err(Error::TcbStatusRefused));
	// Its level dates from 2026-10-01: 92 days of grace cover 2027-01-01, 91 do not.
	let day: u64 = 86_400;
	let grace = |days: u64| TcbPolicy { out_of_date_grace: days * day, ..strict.clone() };
	assert_eq!(check(&grace(92), &out_of_date), Ok(()));
	assert_eq!(check(&grace(91), &out_of_date), Err(Error::TcbStatusRefused));
	let up_to_date = verify(&quote).unwrap();
	let allowed = [b"INTEL-SA-00002".to_vec()];
	let listed = TcbPolicy { allowed_advisories: Some(&allowed), ..strict.clone() };
	assert_eq!(check(&listed, &up_to_date), Err(Error::AdvisoryRefused));
	assert_eq!(check(&strict, &up_to_date), Ok(()));
}

#[test]
fn the_largest_quote_still_verifies() {
	let quote = synthetic::sgx_quote(&QuoteSpec { padding: 8 * 1024, ..spec() });
	let big_tcb = synthetic::tcb_info(&TcbSpec { higher_levels: 48, ..tcb("UpToDate") });
	assert!(verify_with(&quote, &big_tcb, NOW).is_ok());
}
