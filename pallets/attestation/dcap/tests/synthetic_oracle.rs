//! The synthetic PKI's quotes and collateral, verified by this crate and by `dcap-qvl` (the
//! oracle of `oracle.rs`) with the synthetic root as trust anchor. Mutations of Intel's samples
//! almost always die at a signature check; these inputs are validly signed and built to reach
//! the semantic paths: a revoked PCK certificate, a debug enclave, the choice of TCB level, an
//! out-of-date quoting enclave. Both verifiers must reach the same verdict there, and grade
//! what they accept the same. Where they legitimately differ, the difference is written down
//! and asserted, so that a change on either side shows.
//!
//! Only SGX quotes: the synthetic PKI builds no TD quotes. The review of 2026-12 notes that
//! dcap-qvl's master (0.5.2) compares all 16 TEE_TCB_SVN bytes where Intel's QVL leaves bytes
//! 0 and 1 to the TDX module identity; the pinned 0.7.1 skips them as Intel does
//! (`TcbLevel::shortfalls`), as this crate does, so there is no TDX difference to record.

use commons_dcap::{
	collateral::{Bundle, RawCollateral},
	verify_quote, Error, TcbStatus, Verified,
};
use commons_dcap_synthetic::{self as synthetic, QeLevel, QuoteSpec, SignedJson, TcbSpec};
use dcap_qvl::{configs::RustCryptoConfig, verify::QuoteVerifier, QuoteCollateralV3};

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

fn qe_identity() -> SignedJson {
	synthetic::qe_identity("2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z", 20)
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

fn text(bytes: &[u8]) -> String {
	String::from_utf8(bytes.to_vec()).expect("synthetic collateral is text")
}

/// A TCB info for the synthetic platform (CPU SVN components all 2, PCE SVN 10) whose levels
/// are `levels` (every SGX component's SVN, the PCE SVN, the status), listed in this order.
fn tcb_info_with_levels(levels: &[(u8, u16, &str)]) -> SignedJson {
	let template = synthetic::tcb_info(&TcbSpec { higher_levels: 0, ..tcb("UpToDate") });
	let mut info: serde_json::Value = serde_json::from_slice(&template.json).unwrap();
	let model = info["tcbLevels"][0].clone();
	let levels: Vec<serde_json::Value> = levels
		.iter()
		.map(|&(svn, pce_svn, status)| {
			let mut level = model.clone();
			for component in level["tcb"]["sgxtcbcomponents"].as_array_mut().unwrap() {
				component["svn"] = svn.into();
			}
			level["tcb"]["pcesvn"] = pce_svn.into();
			level["tcbStatus"] = status.into();
			level
		})
		.collect();
	info["tcbLevels"] = levels.into();
	synthetic::signed(info.to_string())
}

/// A quote and its collateral, each piece signed by the leaf of its chain.
struct Case {
	quote: Vec<u8>,
	tcb_info: SignedJson,
	tcb_info_chain: Vec<u8>,
	qe_identity: SignedJson,
	qe_identity_chain: Vec<u8>,
}

impl Case {
	/// The quote of `spec` with `tcb_info` and `qe_identity`, both signed by the TCB signer.
	fn new(spec: QuoteSpec, tcb_info: SignedJson, qe_identity: SignedJson) -> Self {
		Self {
			quote: synthetic::sgx_quote(&spec),
			tcb_info,
			tcb_info_chain: synthetic::signer_chain(),
			qe_identity,
			qe_identity_chain: synthetic::signer_chain(),
		}
	}

	/// An up-to-date platform's quote of [`spec`] with the grading TCB info `tcb_info`.
	fn graded_by(tcb_info: SignedJson) -> Self {
		Self::new(spec(), tcb_info, qe_identity())
	}

	/// This crate's verdict: the collateral verified as on submission, then the quote.
	fn ours(&self) -> Result<Verified, Error> {
		let pck_chain = synthetic::pck_ca_chain();
		let raw = RawCollateral {
			root_ca_crl: synthetic::ROOT_CA_CRL,
			pck_crl: synthetic::PCK_CA_CRL,
			pck_crl_issuer_chain: &pck_chain,
			tcb_info: &self.tcb_info.json,
			tcb_info_signature: self.tcb_info.signature,
			tcb_info_issuer_chain: &self.tcb_info_chain,
			qe_identity: &self.qe_identity.json,
			qe_identity_signature: self.qe_identity.signature,
			qe_identity_issuer_chain: &self.qe_identity_chain,
		};
		let bundle = Bundle::verify(synthetic::ROOT_CA, &raw, NOW)?;
		verify_quote(&bundle, &self.quote, None, NOW)
	}

	/// The same collateral as dcap-qvl takes it; the PCK chain is the quote's, as for ours.
	fn collateral(&self) -> QuoteCollateralV3 {
		QuoteCollateralV3 {
			pck_crl_issuer_chain: text(&synthetic::pck_ca_chain()),
			root_ca_crl: synthetic::ROOT_CA_CRL.to_vec(),
			pck_crl: synthetic::PCK_CA_CRL.to_vec(),
			tcb_info_issuer_chain: text(&self.tcb_info_chain),
			tcb_info: text(&self.tcb_info.json),
			tcb_info_signature: self.tcb_info.signature.to_vec(),
			qe_identity_issuer_chain: text(&self.qe_identity_chain),
			qe_identity: text(&self.qe_identity.json),
			qe_identity_signature: self.qe_identity.signature.to_vec(),
			pck_certificate_chain: None,
		}
	}

	/// dcap-qvl's verdict under the synthetic root, on the same crypto backend as `oracle.rs`:
	/// the status and advisories it grades an accepted quote with.
	fn theirs(&self) -> Result<(String, Vec<String>), String> {
		QuoteVerifier::<RustCryptoConfig>::new_with_config(synthetic::ROOT_CA.to_vec())
			.verify(&self.quote, &self.collateral(), NOW)
			.map(|report| (report.status, report.advisory_ids))
			.map_err(|error| format!("{error:#}"))
	}

	/// Our verdict, after checking that dcap-qvl reaches the same: both refuse, or both accept
	/// with the same status and advisories.
	fn agreed(&self) -> Result<Verified, Error> {
		let (ours, theirs) = (self.ours(), self.theirs());
		match (&ours, &theirs) {
			(Ok(verified), Ok((status, advisories))) => assert!(
				&format!("{:?}", verified.status) == status && &verified.advisories == advisories,
				"both accept, differently: {verified:?} vs {status} {advisories:?}"
			),
			(Err(_), Err(_)) => {}
			_ => panic!("verdicts differ: ours {ours:?}, dcap-qvl {theirs:?}"),
		}
		ours
	}
}

#[test]
fn an_up_to_date_platform_is_accepted_by_both() {
	let verified = Case::graded_by(synthetic::tcb_info(&tcb("UpToDate"))).agreed().unwrap();
	assert_eq!(verified.status, TcbStatus::UpToDate);
	assert_eq!(verified.advisories, ["INTEL-SA-00001"]);
	assert_eq!(verified.report_data(), &[3; 64]);
}

#[test]
fn every_platform_status_gets_the_same_grade() {
	use TcbStatus::*;
	let grades = [
		("UpToDate", Ok(UpToDate)),
		("SWHardeningNeeded", Ok(SWHardeningNeeded)),
		("ConfigurationNeeded", Ok(ConfigurationNeeded)),
		("ConfigurationAndSWHardeningNeeded", Ok(ConfigurationAndSWHardeningNeeded)),
		("OutOfDate", Ok(OutOfDate)),
		("OutOfDateConfigurationNeeded", Ok(OutOfDateConfigurationNeeded)),
		("Revoked", Err(Error::TcbRevoked)),
	];
	for (status, expected) in grades {
		for higher_levels in [0, 3] {
			let tcb_info = synthetic::tcb_info(&TcbSpec { higher_levels, ..tcb(status) });
			let verdict = Case::graded_by(tcb_info).agreed().map(|verified| verified.status);
			assert_eq!(verdict, expected, "{status} below {higher_levels} levels");
		}
	}
}

#[test]
fn both_choose_the_first_level_the_platform_meets_in_intels_order() {
	use TcbStatus::*;
	// The platform (components 2, PCE SVN 10) misses the up-to-date level above it.
	let out_of_date = tcb_info_with_levels(&[(3, 10, "UpToDate"), (2, 10, "OutOfDate")]);
	assert_eq!(Case::graded_by(out_of_date).agreed().map(|v| v.status), Ok(OutOfDate));
	// It meets the up-to-date level and an out-of-date one below: the higher one grades it,
	// whatever order the JSON lists them in.
	let lowest_first =
		tcb_info_with_levels(&[(1, 10, "OutOfDate"), (2, 10, "UpToDate"), (3, 10, "UpToDate")]);
	assert_eq!(Case::graded_by(lowest_first).agreed().map(|v| v.status), Ok(UpToDate));
	// The PCE SVN is a component too: a level of higher PCE SVN is not met.
	let pce = tcb_info_with_levels(&[(2, 11, "UpToDate"), (2, 10, "OutOfDate")]);
	assert_eq!(Case::graded_by(pce).agreed().map(|v| v.status), Ok(OutOfDate));
	// Below every level: both refuse.
	let above = tcb_info_with_levels(&[(3, 10, "UpToDate"), (2, 11, "OutOfDate")]);
	assert_eq!(Case::graded_by(above).agreed().err(), Some(Error::TcbLevelNotFound));
}

#[test]
fn a_revoked_pck_certificate_is_refused_by_both() {
	let revoked = QuoteSpec { pck: synthetic::REVOKED_PCK, ..spec() };
	let case = Case::new(revoked, synthetic::tcb_info(&tcb("UpToDate")), qe_identity());
	assert_eq!(case.agreed().err(), Some(Error::CertificateRevoked));
}

#[test]
fn a_debug_enclave_is_refused_by_both() {
	let debug = QuoteSpec { debug: true, ..spec() };
	let case = Case::new(debug, synthetic::tcb_info(&tcb("UpToDate")), qe_identity());
	assert_eq!(case.agreed().err(), Some(Error::DebugEnclave));
}

#[test]
fn an_out_of_date_quoting_enclave_lowers_the_grade_for_both() {
	use TcbStatus::*;
	// The synthetic QE's ISVSVN (8) is below the current level, 9.
	let levels = |status_at_8: &'static str| {
		[
			QeLevel {
				isv_svn: synthetic::QE_ISV_SVN + 1,
				status: "UpToDate",
				tcb_date: "2026-06-01T00:00:00Z",
				advisories: &[],
			},
			QeLevel {
				isv_svn: synthetic::QE_ISV_SVN,
				status: status_at_8,
				tcb_date: "2025-06-01T00:00:00Z",
				advisories: &["INTEL-SA-00615"],
			},
		]
	};
	let qe = |status_at_8: &'static str| {
		synthetic::qe_identity_with_levels(
			"2026-12-01T00:00:00Z",
			"2027-02-01T00:00:00Z",
			20,
			&levels(status_at_8),
		)
	};
	for (platform, converged) in [
		("UpToDate", OutOfDate),
		("SWHardeningNeeded", OutOfDate),
		("ConfigurationNeeded", OutOfDateConfigurationNeeded),
		("ConfigurationAndSWHardeningNeeded", OutOfDateConfigurationNeeded),
		("OutOfDate", OutOfDate),
	] {
		let case = Case::new(spec(), synthetic::tcb_info(&tcb(platform)), qe("OutOfDate"));
		let verified = case.agreed().unwrap();
		assert_eq!(verified.status, converged, "{platform}");
		assert_eq!(verified.advisories, ["INTEL-SA-00001", "INTEL-SA-00615"]);
	}
	// A revoked quoting enclave, and one below every level, are refused by both.
	let revoked = Case::new(spec(), synthetic::tcb_info(&tcb("UpToDate")), qe("Revoked"));
	assert_eq!(revoked.agreed().err(), Some(Error::TcbRevoked));
	let newer_only = synthetic::qe_identity_with_levels(
		"2026-12-01T00:00:00Z",
		"2027-02-01T00:00:00Z",
		20,
		&levels("OutOfDate")[..1],
	);
	let too_low = Case::new(spec(), synthetic::tcb_info(&tcb("UpToDate")), newer_only);
	assert_eq!(too_low.agreed().err(), Some(Error::QeSvnTooLow));
}

#[test]
fn collateral_signed_by_a_pck_ca_is_refused_by_both() {
	// Ours refuses the signer's name; dcap-qvl refuses a CA certificate as the signing leaf.
	let json = text(&synthetic::tcb_info(&tcb("UpToDate")).json);
	let mut case = Case::graded_by(synthetic::signed_by_pck_ca(json));
	case.tcb_info_chain = synthetic::pck_ca_chain();
	assert_eq!(case.agreed().err(), Some(Error::TcbSignerUnexpected));
}

/// The checks Intel's QVL makes that dcap-qvl 0.7.1 does not: on inputs they alone refuse,
/// this crate refuses and dcap-qvl accepts. If dcap-qvl adds them, this test fails and the
/// cases move to agreement.
#[test]
fn where_dcap_qvl_checks_less_than_intels_qvl() {
	let accepted_by_dcap_qvl = |case: &Case| {
		let up_to_date: Result<(String, Vec<String>), String> =
			Ok(("UpToDate".to_string(), vec!["INTEL-SA-00001".to_string()]));
		assert_eq!(case.theirs(), up_to_date);
		case.ours().err()
	};
	// Intel's QVL pins the PCK certificate's subject; dcap-qvl takes any leaf of a PCK CA.
	let other_pck = QuoteSpec { pck: synthetic::PCK_OTHER_NAME, ..spec() };
	let case = Case::new(other_pck, synthetic::tcb_info(&tcb("UpToDate")), qe_identity());
	assert_eq!(accepted_by_dcap_qvl(&case), Some(Error::PckCertificateNameUnexpected));

	// Intel's QVL pins the TCB signer's subject ("Intel SGX TCB Signing"); dcap-qvl takes any
	// end-entity certificate the root issued.
	let mut case = Case::graded_by(synthetic::tcb_info(&tcb("UpToDate")));
	case.tcb_info_chain = synthetic::other_name_signer_chain();
	case.qe_identity_chain = synthetic::other_name_signer_chain();
	assert_eq!(accepted_by_dcap_qvl(&case), Some(Error::TcbSignerUnexpected));

	// Intel's QVL compares the TCB info's PCEID with the PCK certificate's; dcap-qvl does not.
	let json = text(&synthetic::tcb_info(&tcb("UpToDate")).json);
	let other_pce = json.replace("\"pceId\":\"0000\"", "\"pceId\":\"0001\"");
	assert_ne!(json, other_pce);
	let case = Case::graded_by(synthetic::signed(other_pce));
	assert_eq!(accepted_by_dcap_qvl(&case), Some(Error::PceIdMismatch));
}
