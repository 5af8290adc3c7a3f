//! The verifier's checks one at a time, on quotes of the synthetic PKI (which, unlike Intel's
//! samples, can be built to fail in exactly one way).

use commons_dcap::{
	collateral::{Bundle, CollateralSource, RawCollateral},
	pki::{self, Cert},
	platform_evidence, regrade, verify_quote, Crl, Error, PckCa, PlatformTcb, QeIdentity, Quote,
	Regraded, Revocations, TcbInfo, TcbPolicy, TcbStatus, TeeType, Verified, VerifiedBefore,
};
use commons_dcap_synthetic::{self as synthetic, QuoteSpec, SignedJson, TcbSpec};

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

fn qe_identity(evaluation_number: u32) -> SignedJson {
	synthetic::qe_identity("2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z", evaluation_number)
}

/// The synthetic collateral with this TCB info and QE identity, each signed by the leaf of its
/// chain, verified as a chain verifies it on submission.
fn bundle(
	tcb_info: &SignedJson,
	tcb_info_chain: &[u8],
	qe: &SignedJson,
	qe_chain: &[u8],
	now: u64,
) -> Result<Bundle, Error> {
	bundle_with(synthetic::PCK_CA_CRL, tcb_info, tcb_info_chain, qe, qe_chain, now)
}

/// [`bundle`] with the PCK CA's list `pck_crl`.
fn bundle_with(
	pck_crl: &[u8],
	tcb_info: &SignedJson,
	tcb_info_chain: &[u8],
	qe: &SignedJson,
	qe_chain: &[u8],
	now: u64,
) -> Result<Bundle, Error> {
	let pck_chain = synthetic::pck_ca_chain();
	let raw = RawCollateral {
		root_ca_crl: synthetic::ROOT_CA_CRL,
		pck_crl,
		pck_crl_issuer_chain: &pck_chain,
		tcb_info: &tcb_info.json,
		tcb_info_signature: tcb_info.signature,
		tcb_info_issuer_chain: tcb_info_chain,
		qe_identity: &qe.json,
		qe_identity_signature: qe.signature,
		qe_identity_issuer_chain: qe_chain,
	};
	Bundle::verify(synthetic::ROOT_CA, &raw, now)
}

fn verify_against(
	quote: &[u8],
	tcb_info: &SignedJson,
	qe: &SignedJson,
	now: u64,
) -> Result<Verified, Error> {
	let signer_chain = synthetic::signer_chain();
	verify_quote(&bundle(tcb_info, &signer_chain, qe, &signer_chain, now)?, quote, None, now)
}

fn verify_with(quote: &[u8], tcb_info: &SignedJson, now: u64) -> Result<Verified, Error> {
	verify_against(quote, tcb_info, &qe_identity(20), now)
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
	assert_eq!((verified.tcb_evaluation_data_number, verified.qe_evaluation_data_number), (20, 20));
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
		min_evaluation_data_number: None,
	};
	let check = |policy: &TcbPolicy, verified: &Verified| policy.admits(verified, NOW);
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

#[test]
fn the_policy_requires_a_minimum_tcb_evaluation() {
	let quote = synthetic::sgx_quote(&spec());
	let policy = |minimum| TcbPolicy {
		accepted: &[TcbStatus::UpToDate],
		out_of_date_grace: 0,
		allowed_advisories: None,
		min_evaluation_data_number: minimum,
	};
	// TCB info and QE identity of evaluation 20.
	let current = verify(&quote).unwrap();
	assert_eq!(policy(None).admits(&current, NOW), Ok(()));
	assert_eq!(policy(Some(20)).admits(&current, NOW), Ok(()));
	assert_eq!(policy(Some(21)).admits(&current, NOW), Err(Error::TcbEvaluationTooOld));

	// A newer TCB info is not enough: the QE identity must be as recent.
	let newer_tcb = synthetic::tcb_info(&TcbSpec { evaluation_number: 21, ..tcb("UpToDate") });
	let stale_qe = verify_against(&quote, &newer_tcb, &qe_identity(20), NOW).unwrap();
	assert_eq!(stale_qe.tcb_evaluation_data_number, 21);
	assert_eq!(policy(Some(21)).admits(&stale_qe, NOW), Err(Error::TcbEvaluationTooOld));
	let stale_tcb =
		verify_against(&quote, &synthetic::tcb_info(&tcb("UpToDate")), &qe_identity(21), NOW)
			.unwrap();
	assert_eq!(policy(Some(21)).admits(&stale_tcb, NOW), Err(Error::TcbEvaluationTooOld));
	let both = verify_against(&quote, &newer_tcb, &qe_identity(21), NOW).unwrap();
	assert_eq!(policy(Some(21)).admits(&both, NOW), Ok(()));

	// Superseded collateral is refused before its grade is looked at.
	let out_of_date = verify_with(&quote, &synthetic::tcb_info(&tcb("OutOfDate")), NOW).unwrap();
	assert_eq!(policy(Some(21)).admits(&out_of_date, NOW), Err(Error::TcbEvaluationTooOld));
	assert_eq!(policy(Some(20)).admits(&out_of_date, NOW), Err(Error::TcbStatusRefused));
}

#[test]
fn collateral_is_signed_by_intels_tcb_signer_only() {
	let tcb_info = synthetic::tcb_info(&tcb("UpToDate"));
	let qe = qe_identity(20);
	let (signer, other_name) = (synthetic::signer_chain(), synthetic::other_name_signer_chain());
	assert!(bundle(&tcb_info, &signer, &qe, &signer, NOW).is_ok());

	// The same key, certified by the same root, under another name: the signatures verify,
	// the name does not.
	assert_eq!(
		bundle(&tcb_info, &other_name, &qe, &signer, NOW).err(),
		Some(Error::TcbSignerUnexpected)
	);
	assert_eq!(
		bundle(&tcb_info, &signer, &qe, &other_name, NOW).err(),
		Some(Error::TcbSignerUnexpected)
	);

	// Another certificate the root issued, the PCK CA, signing collateral with its own key.
	let as_json = |signed: &SignedJson| String::from_utf8(signed.json.clone()).unwrap();
	let pck_ca = synthetic::pck_ca_chain();
	let tcb_by_ca = synthetic::signed_by_pck_ca(as_json(&tcb_info));
	let qe_by_ca = synthetic::signed_by_pck_ca(as_json(&qe));
	assert_eq!(
		bundle(&tcb_by_ca, &pck_ca, &qe, &signer, NOW).err(),
		Some(Error::TcbSignerUnexpected)
	);
	assert_eq!(
		bundle(&tcb_info, &signer, &qe_by_ca, &pck_ca, NOW).err(),
		Some(Error::TcbSignerUnexpected)
	);
}

#[test]
fn only_a_certificate_named_as_intels_pck_certificates_vouches_for_a_quote() {
	// Same CA, same key and extension as the platform's PCK certificate, unrevoked.
	let other_name = synthetic::sgx_quote(&QuoteSpec { pck: synthetic::PCK_OTHER_NAME, ..spec() });
	assert_eq!(verify(&other_name), Err(Error::PckCertificateNameUnexpected));
	assert!(verify(&synthetic::sgx_quote(&spec())).is_ok());
}

#[test]
fn tcb_info_for_another_pce_is_refused() {
	let quote = synthetic::sgx_quote(&spec());
	let json = String::from_utf8(synthetic::tcb_info(&tcb("UpToDate")).json).unwrap();
	let other_pce = json.replace("\"pceId\":\"0000\"", "\"pceId\":\"0001\"");
	assert_ne!(json, other_pce);
	let other_pce = synthetic::signed(other_pce);
	assert_eq!(verify_with(&quote, &other_pce, NOW), Err(Error::PceIdMismatch));
	// The same edit back to the platform's PCEID verifies: only the PCEID was at fault.
	assert!(verify_with(&quote, &synthetic::signed(json), NOW).is_ok());
}

/// The synthetic collateral of TCB info `tcb_info` and PCK CA list `pck_crl`, at [`NOW`].
fn collateral(pck_crl: &[u8], tcb_info: &SignedJson) -> Bundle {
	let chain = synthetic::signer_chain();
	bundle_with(pck_crl, tcb_info, &chain, &qe_identity(20), &chain, NOW).unwrap()
}

#[test]
fn regrading_what_a_quote_showed_agrees_with_verifying_the_quote() {
	let quote = synthetic::sgx_quote(&spec());
	for status in ["UpToDate", "SWHardeningNeeded", "OutOfDate", "ConfigurationNeeded"] {
		let source = collateral(synthetic::PCK_CA_CRL, &synthetic::tcb_info(&tcb(status)));
		let verified = verify_quote(&source, &quote, None, NOW).unwrap();
		let regraded = regrade(&source, &verified.platform, NOW).unwrap();
		assert_eq!(
			regraded,
			Regraded {
				status: verified.status,
				advisories: verified.advisories.clone(),
				tcb_date: verified.tcb_date,
				tcb_evaluation_data_number: verified.tcb_evaluation_data_number,
				qe_evaluation_data_number: verified.qe_evaluation_data_number,
			}
		);
		let policies = [
			TcbPolicy {
				accepted: &[TcbStatus::UpToDate],
				out_of_date_grace: 0,
				allowed_advisories: None,
				min_evaluation_data_number: None,
			},
			TcbPolicy {
				accepted: &[],
				out_of_date_grace: 92 * 86_400,
				allowed_advisories: None,
				min_evaluation_data_number: Some(21),
			},
		];
		for policy in &policies {
			assert_eq!(policy.admits_regraded(&regraded, NOW), policy.admits(&verified, NOW));
		}
	}

	// What the quote showed: its PCK certificate (serial 0x1003) of the platform CA (serial
	// 0x1001), and the platform the certificate and the quoting enclave report.
	let source = collateral(synthetic::PCK_CA_CRL, &synthetic::tcb_info(&tcb("UpToDate")));
	let platform = verify_quote(&source, &quote, None, NOW).unwrap().platform;
	assert_eq!(platform.pck_ca, PckCa::Platform);
	assert_eq!(
		(platform.pck_serial.as_slice(), platform.pck_ca_serial.as_slice()),
		(&[0x10, 0x03][..], &[0x10, 0x01][..])
	);
	assert_eq!(platform.certified.fmspc, synthetic::FMSPC);
	assert_eq!((platform.certified.cpu_svn, platform.certified.pce_svn), ([2; 16], 10));
	assert_eq!(platform.qe.isv_svn, synthetic::QE_ISV_SVN);
	assert_eq!(platform.tdx, None);
}

#[test]
fn regrading_refuses_what_later_collateral_revokes_or_no_longer_covers() {
	let quote = synthetic::sgx_quote(&QuoteSpec { pck: synthetic::REVOKED_PCK, ..spec() });
	let up_to_date = synthetic::tcb_info(&tcb("UpToDate"));
	// Verified while the PCK CA's list did not revoke its certificate yet.
	let earlier = collateral(synthetic::PCK_CA_EARLIER_CRL, &up_to_date);
	let platform: PlatformTcb = verify_quote(&earlier, &quote, None, NOW).unwrap().platform;
	assert!(regrade(&earlier, &platform, NOW).is_ok());
	// The CA's next list revokes it, and the quote is refused for the same reason.
	let later = collateral(synthetic::PCK_CA_CRL, &up_to_date);
	assert_eq!(regrade(&later, &platform, NOW), Err(Error::CertificateRevoked));
	assert_eq!(verify_quote(&later, &quote, None, NOW).err(), Some(Error::CertificateRevoked));

	// Newer TCB info that revokes the platform's TCB; collateral past its next update.
	let revoked_tcb =
		collateral(synthetic::PCK_CA_EARLIER_CRL, &synthetic::tcb_info(&tcb("Revoked")));
	assert_eq!(regrade(&revoked_tcb, &platform, NOW), Err(Error::TcbRevoked));
	assert_eq!(regrade(&earlier, &platform, NOW + 60 * 86_400), Err(Error::QeIdentityExpired));

	// Stored fields that are not a quote's: an SGX platform with TDX fields.
	let tdx = commons_dcap::TdxTcb {
		tee_tcb_svn: [0; 16],
		tee_tcb_svn2: None,
		mr_signer_seam: [0; 48],
		seam_attributes: [0; 8],
	};
	let mixed = PlatformTcb { tdx: Some(tdx), ..platform };
	assert_eq!(regrade(&earlier, &mixed, NOW), Err(Error::TeeTypeUnsupported));
}

/// The synthetic collateral, knowing besides the PCK CA certificate digest `ca` and the
/// platform evidence `platform` as verified before.
struct Knowing<'a> {
	bundle: &'a Bundle,
	ca: Option<[u8; 32]>,
	platform: Option<[u8; 32]>,
	/// A list to give as the PCK CA's instead of the bundle's.
	pck_crl: Option<Revocations>,
}

impl CollateralSource for Knowing<'_> {
	fn root_ca(&self) -> Option<Cert> {
		self.bundle.root_ca()
	}
	fn root_ca_crl(&self) -> Option<Revocations> {
		self.bundle.root_ca_crl()
	}
	fn pck_crl(&self, ca: PckCa) -> Option<Revocations> {
		self.pck_crl.clone().or_else(|| self.bundle.pck_crl(ca))
	}
	fn tcb_info(&self, tee: TeeType, fmspc: [u8; 6]) -> Option<TcbInfo> {
		self.bundle.tcb_info(tee, fmspc)
	}
	fn qe_identity(&self, tee: TeeType) -> Option<QeIdentity> {
		self.bundle.qe_identity(tee)
	}
	fn verified_pck_ca(&self, _: PckCa) -> Option<[u8; 32]> {
		self.ca
	}
	fn verified_platform(&self, evidence: &[u8; 32]) -> bool {
		self.platform.as_ref() == Some(evidence)
	}
}

/// The platform evidence of `quote`, as the verifier identifies it.
fn evidence_of(quote: &[u8]) -> [u8; 32] {
	let quote = Quote::parse(quote).unwrap();
	let chain = pki::leading_certs(quote.cert_data, 2).unwrap();
	platform_evidence(&chain[0], &chain[1], quote.qe_report_bytes, &quote.qe_report_signature)
}

#[test]
fn signatures_verified_before_are_not_checked_again_but_only_for_the_same_bytes() {
	let bundle = collateral(synthetic::PCK_CA_EARLIER_CRL, &synthetic::tcb_info(&tcb("UpToDate")));
	let quote = synthetic::sgx_quote(&spec());
	let knowing = |ca, platform| Knowing { bundle: &bundle, ca, platform, pck_crl: None };
	let fresh = verify_quote(&knowing(None, None), &quote, None, NOW).unwrap();
	assert_eq!(fresh.verified_before, VerifiedBefore::Nothing);
	assert_eq!(fresh.platform.evidence, evidence_of(&quote));
	let ca = pki::certificate_digest(&Cert::from_der(synthetic::PCK_CA).unwrap());
	let with_ca = verify_quote(&knowing(Some(ca), None), &quote, None, NOW).unwrap();
	assert_eq!(with_ca.verified_before, VerifiedBefore::PckCa);
	// Another certificate's digest vouches for nothing.
	let other_ca = verify_quote(&knowing(Some([1; 32]), None), &quote, None, NOW).unwrap();
	assert_eq!(other_ca.verified_before, VerifiedBefore::Nothing);
	let known = knowing(Some(ca), Some(fresh.platform.evidence));
	let renewal = verify_quote(&known, &quote, None, NOW).unwrap();
	assert_eq!(renewal.verified_before, VerifiedBefore::Platform);
	// The same verdict, whatever was known.
	let verdict = |verified: Verified| (verified.report, verified.status, verified.platform);
	assert_eq!(verdict(renewal), verdict(fresh.clone()));
	assert_eq!(verdict(with_ca), verdict(fresh));

	// The report is signed anew in every quote and always checked.
	let mut report_tampered = quote.clone();
	report_tampered[48 + 64] ^= 1;
	assert_eq!(evidence_of(&report_tampered), evidence_of(&quote));
	assert_eq!(
		verify_quote(&known, &report_tampered, None, NOW).err(),
		Some(Error::QuoteSignatureInvalid)
	);
	// A QE report other than the known one is other evidence, checked in full.
	let mut qe_tampered = quote.clone();
	qe_tampered[48 + 384 + 4 + 128 + 64] ^= 1;
	assert_eq!(
		verify_quote(&known, &qe_tampered, None, NOW).err(),
		Some(Error::QeReportSignatureInvalid)
	);
}

#[test]
fn a_known_platform_still_answers_to_revocation_and_time() {
	let info = synthetic::tcb_info(&tcb("UpToDate"));
	let quote = synthetic::sgx_quote(&QuoteSpec { pck: synthetic::REVOKED_PCK, ..spec() });
	let earlier = collateral(synthetic::PCK_CA_EARLIER_CRL, &info);
	let known =
		Knowing { bundle: &earlier, ca: None, platform: Some(evidence_of(&quote)), pck_crl: None };
	let verified = verify_quote(&known, &quote, None, NOW).unwrap();
	assert_eq!(verified.verified_before, VerifiedBefore::Platform);
	// A later list revokes its PCK certificate.
	let later = collateral(synthetic::PCK_CA_CRL, &info);
	let known = Knowing { bundle: &later, ..known };
	assert_eq!(verify_quote(&known, &quote, None, NOW).err(), Some(Error::CertificateRevoked));
	// And collateral past its next update grades nothing.
	let known = Knowing { bundle: &earlier, ..known };
	assert!(verify_quote(&known, &quote, None, NOW + 60 * 86_400).is_err());
}

#[test]
fn a_revocation_list_speaks_only_for_the_ca_that_signed_it() {
	let bundle = collateral(synthetic::PCK_CA_CRL, &synthetic::tcb_info(&tcb("UpToDate")));
	let quote = synthetic::sgx_quote(&spec());
	let evidence = Some(evidence_of(&quote));
	// The root's list given as the PCK CA's: same dates, another issuer.
	let root_list = bundle.root_ca_crl();
	for platform in [None, evidence] {
		let source = Knowing { bundle: &bundle, ca: None, platform, pck_crl: root_list.clone() };
		assert_eq!(
			verify_quote(&source, &quote, None, NOW).err(),
			Some(Error::CrlSignatureInvalid)
		);
	}
	// A list verified as the PCK CA's is the one.
	let ca = Cert::from_der(synthetic::PCK_CA).unwrap();
	let own = Crl::from_der(synthetic::PCK_CA_CRL).unwrap().verified_by(&ca).unwrap();
	assert_eq!(own.issuer, pki::issuer_id(&ca).unwrap());
	let source = Knowing { bundle: &bundle, ca: None, platform: None, pck_crl: Some(own) };
	assert!(verify_quote(&source, &quote, None, NOW).is_ok());
}
