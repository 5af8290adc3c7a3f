//! The whole verification of one quote, in the order trust flows: Intel's root to the PCK
//! certificate, the PCK key to the quoting enclave, the quoting enclave to the attestation key,
//! the attestation key to the report; then the TCB grade of what signed. And the same grade
//! again later, without the quote, from what the quote showed ([`regrade`]).

use crate::{
	collateral::{CollateralSource, ModuleLevel, QeIdentity, TcbInfo, TcbLevel, TdxModuleIdentity},
	pki::{self, PckCa, Platform},
	quote::{self as quote_format, EnclaveReport, Quote, Report, TdReport, TeeType},
	tcb::TcbStatus,
	Error, Result,
};
use alloc::{string::String, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use p256::ecdsa::VerifyingKey;
use scale_info::TypeInfo;
use sha2::{Digest, Sha256};

/// A verified quote: what it reports and how Intel grades the platform that produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
	/// The TEE the quote reports on.
	pub tee: TeeType,
	/// The enclave's or TD's report.
	pub report: Report,
	/// The platform's, quoting enclave's and (TDX) module's statuses combined.
	pub status: TcbStatus,
	/// Intel's advisories affecting the platform, the module or the quoting enclave.
	pub advisories: Vec<String>,
	/// The date of the matched platform level (with its TDX module's), or of the quoting
	/// enclave's if that is older and out of date: when an out-of-date grace period starts.
	pub tcb_date: u64,
	/// The platform family, from the PCK certificate.
	pub fmspc: [u8; 6],
	/// The TCB evaluation data number of the TCB info that graded the platform: the latest
	/// TCB recovery the grade takes into account.
	pub tcb_evaluation_data_number: u32,
	/// The TCB evaluation data number of the QE identity that graded the quoting enclave.
	pub qe_evaluation_data_number: u32,
	/// What the quote and its PCK certificate chain showed about the platform: what
	/// [`regrade`] needs to judge it again by later collateral, without the quote.
	pub platform: PlatformTcb,
	/// Which of its signatures the source had verified before, so were not checked again.
	pub verified_before: VerifiedBefore,
}

/// Which signatures of a quote its [`CollateralSource`] had verified before over exactly the
/// same bytes ([`CollateralSource::verified_pck_ca`], [`CollateralSource::verified_platform`]),
/// so [`verify_quote`] did not check them again. The report's signature by the attestation key
/// is new in every quote and always checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifiedBefore {
	/// None: the PCK certificate's, its CA's and the QE report's signatures were checked.
	Nothing,
	/// The PCK CA's certificate: the PCK certificate's and the QE report's were checked.
	PckCa,
	/// The platform's evidence: only the report's signature was checked.
	Platform,
}

impl Verified {
	/// The 64 bytes the enclave or TD chose to put in its report.
	pub fn report_data(&self) -> &[u8; 64] {
		match &self.report {
			Report::Sgx(report) => &report.report_data,
			Report::Td(report) => &report.report_data,
		}
	}
}

/// What a verified quote showed about its platform, kept so that later collateral can judge
/// the platform again without the quote ([`regrade`]): the certificates whose revocation ends
/// the trust in it, and every input of its TCB grade. Nothing here is checked again but
/// against collateral: the signatures it came with were verified once, with the quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformTcb {
	/// What identifies the platform's signed evidence ([`platform_evidence`]): a later quote
	/// with the same need not have its PCK chain's and QE report's signatures checked again
	/// ([`CollateralSource::verified_platform`]).
	pub evidence: [u8; 32],
	/// The TEE the quote reported on: which TCB info and QE identity grade the platform.
	pub tee: TeeType,
	/// The CA that issued the PCK certificate: whose revocation list can revoke it.
	pub pck_ca: PckCa,
	/// The PCK CA certificate's serial number, as the root CA's revocation list names it.
	pub pck_ca_serial: Vec<u8>,
	/// The PCK certificate's serial number, as its CA's revocation list names it.
	pub pck_serial: Vec<u8>,
	/// When the PCK certificate or its CA expires, whichever is first: Unix seconds.
	pub pck_chain_not_after: u64,
	/// What the PCK certificate certifies: the family, the PCE, CPUSVN and PCESVN.
	pub certified: Platform,
	/// The quoting enclave, as its QE identity matches and grades it.
	pub qe: QeTcb,
	/// TDX only: the TD's TCB and TDX module, as TDX levels and module identities match them.
	pub tdx: Option<TdxTcb>,
}

/// The quoting enclave as its QE identity judges it: the fields the identity matches and the
/// security version its levels grade.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct QeTcb {
	/// MRSIGNER: Intel's enclave signing key, for a genuine QE.
	pub mr_signer: [u8; 32],
	/// ISVPRODID: the product id Intel assigned to it.
	pub isv_prod_id: u16,
	/// ISVSVN: its security version, which the identity's levels grade.
	pub isv_svn: u16,
	/// MISCSELECT, compared with the identity's under its mask.
	pub misc_select: u32,
	/// ATTRIBUTES, compared with the identity's under its mask; never DEBUG.
	pub attributes: [u8; 16],
}

impl QeTcb {
	fn of(report: &EnclaveReport) -> Self {
		Self {
			mr_signer: report.mr_signer,
			isv_prod_id: report.isv_prod_id,
			isv_svn: report.isv_svn,
			misc_select: report.misc_select,
			attributes: report.attributes,
		}
	}
}

/// A TD's TCB and TDX module as TDX TCB info judges them.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct TdxTcb {
	/// TEE_TCB_SVN at launch: the TDX components levels are matched on; byte 0 is the TDX
	/// module's SVN, byte 1 its major version, which selects its module identity.
	pub tee_tcb_svn: [u8; 16],
	/// TD 1.5: TEE_TCB_SVN2, the TCB the TD runs on now, laid out as
	/// [`TdxTcb::tee_tcb_svn`]; it decides whether a relaunch is advised.
	pub tee_tcb_svn2: Option<[u8; 16]>,
	/// MRSIGNERSEAM: the TDX module's signer, which its identity names.
	pub mr_signer_seam: [u8; 48],
	/// SEAMATTRIBUTES: the TDX module's attributes, compared with its identity's under its mask.
	pub seam_attributes: [u8; 8],
}

impl TdxTcb {
	fn of(report: &TdReport) -> Self {
		Self {
			tee_tcb_svn: report.tee_tcb_svn,
			tee_tcb_svn2: report.td15.as_ref().map(|td15| td15.tee_tcb_svn2),
			mr_signer_seam: report.mr_signer_seam,
			seam_attributes: report.seam_attributes,
		}
	}
}

/// How collateral grades a platform: the grade [`Verified`] reports, as [`regrade`] finds it
/// again later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Regraded {
	/// The platform's, quoting enclave's and (TDX) module's statuses combined.
	pub status: TcbStatus,
	/// Intel's advisories affecting the platform, the module or the quoting enclave.
	pub advisories: Vec<String>,
	/// As [`Verified::tcb_date`]: when an out-of-date grace period starts.
	pub tcb_date: u64,
	/// The TCB evaluation data number of the TCB info that graded the platform.
	pub tcb_evaluation_data_number: u32,
	/// The TCB evaluation data number of the QE identity that graded the quoting enclave.
	pub qe_evaluation_data_number: u32,
}

/// Verifies `quote` at `now` (Unix seconds) against the collateral in `source`. `pck_chain`
/// (PEM: leaf, CA, root) is for quotes that carry an identifier of their PCK certificate
/// instead of the chain; when given it is used instead of the quote's.
///
/// Debug enclaves and TDs with unsafe attributes are refused here; whether the resulting
/// status is acceptable is the caller's [`crate::TcbPolicy`].
pub fn verify_quote(
	source: &impl CollateralSource,
	quote: &[u8],
	pck_chain: Option<&[u8]>,
	now: u64,
) -> Result<Verified> {
	let quote = Quote::parse(quote)?;
	let pem = match pck_chain {
		Some(pem) => pem,
		None if quote.cert_type == quote_format::CERT_TYPE_PCK_CHAIN => quote.cert_data,
		None => return Err(Error::PckChainMissing),
	};
	let chain = pki::leading_certs(pem, 2)?;
	let root = source.root_ca().ok_or(Error::UntrustedRoot)?;
	let root_crl = source.root_ca_crl().ok_or(Error::CrlMissing)?;
	// `leading_certs` gave exactly two.
	let [pck, ca] = chain.as_slice() else { return Err(Error::CertificateChainInvalid) };
	// Signatures over exactly these bytes that were verified before need not be again: all of
	// a known platform's, or the CA's if it is the one verified with its revocation list.
	let evidence = platform_evidence(pck, ca, quote.qe_report_bytes, &quote.qe_report_signature);
	let known_platform = source.verified_platform(&evidence);
	let known_ca = PckCa::of(ca).and_then(|kind| source.verified_pck_ca(kind))
		== Some(pki::certificate_digest(ca));
	let (verified_before, signed) = match (known_platform, known_ca) {
		(true, _) => (VerifiedBefore::Platform, 0),
		(false, true) => (VerifiedBefore::PckCa, 1),
		(false, false) => (VerifiedBefore::Nothing, 2),
	};
	pki::verify_issuers(&chain, &root, signed)?;
	pki::check_standing(&chain, &root, &root_crl, now, |ca| {
		PckCa::of(ca).and_then(|kind| source.pck_crl(kind)).ok_or(Error::CrlMissing)
	})?;
	// `verify_chain` found this CA's list, so it is a PCK CA.
	let pck_ca = PckCa::of(ca).ok_or(Error::CrlMissing)?;
	// A PCK CA could sign certificates for other purposes; as Intel's QVL, only its PCK
	// certificates vouch for a quoting enclave.
	if pck.common_name() != Some(pki::PCK_COMMON_NAME) {
		return Err(Error::PckCertificateNameUnexpected);
	}
	let certified = pki::platform_of(pck)?;

	// The PCK key vouches for the quoting enclave, which vouches for the attestation key.
	if !known_platform
		&& !pki::verify_raw_signature(
			&pck.key()?,
			quote.qe_report_bytes,
			&quote.qe_report_signature,
		) {
		return Err(Error::QeReportSignatureInvalid);
	}
	let mut committed = Sha256::new();
	committed.update(quote.attestation_key);
	committed.update(quote.qe_auth_data);
	if quote.qe_auth_data.len() != 32
		|| committed.finalize()[..] != quote.qe_report.report_data[..32]
	{
		return Err(Error::QeReportDataMismatch);
	}
	let qe = QeTcb::of(&quote.qe_report);
	let qe_grade = grade_quoting_enclave(source, quote.tee, &qe, now)?;

	// The attestation key signed the report.
	let mut sec1 = [0x04u8; 65];
	sec1[1..].copy_from_slice(&quote.attestation_key);
	let attestation_key =
		VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| Error::QuoteSignatureInvalid)?;
	if !pki::verify_raw_signature(&attestation_key, quote.signed, &quote.signature) {
		return Err(Error::QuoteSignatureInvalid);
	}

	let platform = PlatformTcb {
		evidence,
		tee: quote.tee,
		pck_ca,
		pck_ca_serial: ca.serial().to_vec(),
		pck_serial: pck.serial().to_vec(),
		pck_chain_not_after: pck.not_after().min(ca.not_after()),
		certified,
		qe,
		tdx: match &quote.report {
			Report::Sgx(_) => None,
			Report::Td(td) => Some(TdxTcb::of(td)),
		},
	};
	let grade = grade_platform(source, &platform, qe_grade, now)?;

	match &quote.report {
		Report::Sgx(report) if report.is_debug() => return Err(Error::DebugEnclave),
		Report::Sgx(_) => {}
		Report::Td(td) => td.attributes_safe()?,
	}
	Ok(Verified {
		tee: quote.tee,
		report: quote.report.clone(),
		status: grade.status,
		advisories: grade.advisories,
		tcb_date: grade.tcb_date,
		fmspc: platform.certified.fmspc,
		tcb_evaluation_data_number: grade.tcb_evaluation_data_number,
		qe_evaluation_data_number: grade.qe_evaluation_data_number,
		platform,
		verified_before,
	})
}

/// What identifies a platform's signed evidence in a quote: SHA-256 over its PCK certificate,
/// the CA's, the QE report and the QE report's signature, each prefixed with its length. Equal
/// digests mean the same bytes, so the same signature checks with the same outcome; what
/// changes with time (validity, revocation, TCB grade) is checked on every quote regardless.
pub fn platform_evidence(
	pck: &pki::Cert,
	ca: &pki::Cert,
	qe_report: &[u8],
	qe_report_signature: &[u8; 64],
) -> [u8; 32] {
	let mut digest = Sha256::new();
	for part in [&pck.der[..], &ca.der[..], qe_report, &qe_report_signature[..]] {
		digest.update((part.len() as u64).to_le_bytes());
		digest.update(part);
	}
	digest.finalize().into()
}

/// Grades again, at `now`, the platform a quote verified earlier showed ([`Verified::platform`])
/// against the collateral in `source` as it is now, without the quote: what [`verify_quote`]
/// would grade the same quote now, but for the signatures, which do not change.
///
/// Refused when a revocation list in `source` revokes the PCK certificate, its CA or the root
/// ([`Error::CertificateRevoked`], even on a list past its next update: revocation is
/// final), when a certificate of the chain has expired, when collateral the grade needs is
/// missing or not current, when the current QE identity or TCB info no longer matches the
/// quoting enclave or the platform, and when the platform's TCB is revoked
/// ([`Error::TcbRevoked`]). Whether the grade is good enough is the caller's
/// [`crate::TcbPolicy::admits_regraded`].
///
/// The collateral in `source` is trusted as verified on submission (the [`CollateralSource`]
/// contract); nothing here verifies a signature.
pub fn regrade(
	source: &impl CollateralSource,
	platform: &PlatformTcb,
	now: u64,
) -> Result<Regraded> {
	// A quote's TDX fields exist exactly for TDX; stored ones that say otherwise are not a
	// quote's.
	if platform.tdx.is_some() != (platform.tee == TeeType::Tdx) {
		return Err(Error::TeeTypeUnsupported);
	}
	let root = source.root_ca().ok_or(Error::UntrustedRoot)?;
	let root_crl = source.root_ca_crl().ok_or(Error::CrlMissing)?;
	let pck_crl = source.pck_crl(platform.pck_ca).ok_or(Error::CrlMissing)?;
	// The revocations `verify_chain` checks: the root and the PCK CA on the root's list, the
	// PCK certificate on its CA's.
	if root_crl.revokes(&root)
		|| root_crl.revokes_serial(&platform.pck_ca_serial)
		|| pck_crl.revokes_serial(&platform.pck_serial)
	{
		return Err(Error::CertificateRevoked);
	}
	if !root_crl.current_at(now) || !pck_crl.current_at(now) {
		return Err(Error::CrlExpired);
	}
	if !root.valid_at(now) || now > platform.pck_chain_not_after {
		return Err(Error::CertificateExpired);
	}
	let qe_grade = grade_quoting_enclave(source, platform.tee, &platform.qe, now)?;
	grade_platform(source, platform, qe_grade, now)
}

/// The quoting enclave `qe`'s level in the current QE identity of `tee`, with that identity's
/// TCB evaluation data number.
fn grade_quoting_enclave(
	source: &impl CollateralSource,
	tee: TeeType,
	qe: &QeTcb,
	now: u64,
) -> Result<(ModuleLevel, u32)> {
	let identity = source.qe_identity(tee).ok_or(Error::QeIdentityMissing)?;
	if !identity.current_at(now) {
		return Err(Error::QeIdentityExpired);
	}
	Ok((quoting_enclave_level(qe, &identity)?, identity.evaluation_number))
}

/// The platform's grade by the current TCB info of its family, combined with its quoting
/// enclave's (`qe_grade`, from [`grade_quoting_enclave`]): Intel's status convergence, the TDX
/// module and the TD 1.5 relaunch rule. A revoked TCB is refused.
fn grade_platform(
	source: &impl CollateralSource,
	platform: &PlatformTcb,
	qe_grade: (ModuleLevel, u32),
	now: u64,
) -> Result<Regraded> {
	let (qe_level, qe_evaluation_data_number) = qe_grade;
	let certified = &platform.certified;
	let tcb_info = source.tcb_info(platform.tee, certified.fmspc).ok_or(Error::TcbInfoMissing)?;
	if !tcb_info.current_at(now) {
		return Err(Error::TcbInfoExpired);
	}
	// TCB info is published per FMSPC and PCE; the lookup matched the FMSPC, and Intel's QVL
	// refuses a TCB info whose PCEID is not the one that certified this platform.
	if tcb_info.pce_id != certified.pce_id {
		return Err(Error::PceIdMismatch);
	}
	let (launch, current) = match &platform.tdx {
		None => (platform_level(&tcb_info, certified, None)?, None),
		Some(tdx) => {
			check_tdx_module(&tcb_info, tdx)?;
			let launch = tdx_level(&tcb_info, certified, &tdx.tee_tcb_svn)?;
			let current = tdx
				.tee_tcb_svn2
				.as_ref()
				.map(|tee_tcb_svn2| tdx_level(&tcb_info, certified, tee_tcb_svn2))
				.transpose()?;
			(launch, current)
		}
	};

	let mut status = launch.status.converge(qe_level.status);
	let mut advisories = launch.advisories;
	for advisory in &qe_level.advisories {
		if !advisories.contains(advisory) {
			advisories.push(advisory.clone());
		}
	}
	let current_status = current.map(|level| level.status.converge(qe_level.status));
	if status == TcbStatus::Revoked || current_status == Some(TcbStatus::Revoked) {
		return Err(Error::TcbRevoked);
	}
	if let Some(current_status) = current_status {
		status = status.with_current(current_status);
	}
	Ok(Regraded {
		status,
		advisories,
		tcb_date: if qe_level.status.is_out_of_date() {
			launch.tcb_date.min(qe_level.tcb_date)
		} else {
			launch.tcb_date
		},
		tcb_evaluation_data_number: tcb_info.evaluation_number,
		qe_evaluation_data_number,
	})
}

/// Checks the quoting enclave against Intel's identity of it and returns its level.
fn quoting_enclave_level(qe: &QeTcb, identity: &QeIdentity) -> Result<ModuleLevel> {
	let attributes_match = qe
		.attributes
		.iter()
		.zip(identity.attributes.iter().zip(&identity.attributes_mask))
		.all(|(have, (want, mask))| have & mask == want & mask);
	if qe.mr_signer != identity.mr_signer
		|| quote_format::is_debug(&qe.attributes)
		|| qe.isv_prod_id != identity.isv_prod_id
		|| qe.misc_select & identity.misc_select_mask
			!= identity.misc_select & identity.misc_select_mask
		|| !attributes_match
	{
		return Err(Error::QeIdentityMismatch);
	}
	let level = identity
		.levels
		.iter()
		.find(|level| qe.isv_svn >= level.isv_svn)
		.ok_or(Error::QeSvnTooLow)?;
	use TcbStatus::*;
	if !matches!(
		level.status,
		UpToDate | OutOfDate | ConfigurationNeeded | Revoked | OutOfDateConfigurationNeeded
	) {
		return Err(Error::QeIdentityMalformed);
	}
	Ok(level.clone())
}

/// The first level (in Intel's order) every component of the platform meets. For a TD whose
/// module version (`tee_tcb_svn[1]`) is set, the first two TDX components are the module's,
/// judged by its own identity instead.
fn platform_level(
	info: &TcbInfo,
	platform: &Platform,
	tee_tcb_svn: Option<&[u8; 16]>,
) -> Result<TcbLevel> {
	let meets = |level: &TcbLevel| {
		let sgx = level
			.sgx_components
			.iter()
			.zip(&platform.cpu_svn)
			.all(|(need, have)| have >= need);
		let tdx = match (tee_tcb_svn, &level.tdx_components) {
			(None, _) => true,
			(Some(have), Some(need)) => {
				let skip = if have[1] > 0 { 2 } else { 0 };
				need.iter().zip(have).skip(skip).all(|(need, have)| have >= need)
			}
			(Some(_), None) => false,
		};
		sgx && platform.pce_svn >= level.pce_svn && tdx
	};
	info.levels
		.iter()
		.find(|level| meets(level))
		.cloned()
		.ok_or(Error::TcbLevelNotFound)
}

/// A TD's platform level converged with its TDX module's level.
fn tdx_level(info: &TcbInfo, platform: &Platform, tee_tcb_svn: &[u8; 16]) -> Result<TcbLevel> {
	let mut level = platform_level(info, platform, Some(tee_tcb_svn))?;
	let Some(identity) = module_identity(info, tee_tcb_svn)? else { return Ok(level) };
	let module = identity
		.levels
		.iter()
		.find(|module| u16::from(tee_tcb_svn[0]) >= module.isv_svn)
		.ok_or(Error::TdxModuleMismatch)?;
	if !matches!(module.status, TcbStatus::UpToDate | TcbStatus::OutOfDate | TcbStatus::Revoked) {
		return Err(Error::TcbInfoMalformed);
	}
	level.status = level.status.converge(module.status);
	for advisory in &module.advisories {
		if !level.advisories.contains(advisory) {
			level.advisories.push(advisory.clone());
		}
	}
	level.tcb_date = level.tcb_date.min(module.tcb_date);
	Ok(level)
}

/// The identity of the TDX module version `tee_tcb_svn[1]`; none for version 0.
fn module_identity<'i>(
	info: &'i TcbInfo,
	tee_tcb_svn: &[u8; 16],
) -> Result<Option<&'i TdxModuleIdentity>> {
	let version = tee_tcb_svn[1];
	if version == 0 {
		return Ok(None);
	}
	let wanted = alloc::format!("TDX_{version:02X}");
	info.tdx_module_identities
		.iter()
		.find(|identity| identity.id.eq_ignore_ascii_case(&wanted))
		.map(Some)
		.ok_or(Error::TdxModuleMismatch)
}

/// The TD's SEAM module is signed by the signer the TCB info names, with its attributes.
fn check_tdx_module(info: &TcbInfo, td: &TdxTcb) -> Result<()> {
	let base = info.tdx_module.as_ref().ok_or(Error::TdxModuleMismatch)?;
	let expected = match module_identity(info, &td.tee_tcb_svn)? {
		Some(identity) => &identity.module,
		None => base,
	};
	let attributes_ok = td
		.seam_attributes
		.iter()
		.zip(expected.attributes.iter().zip(&expected.attributes_mask))
		.all(|(have, (want, mask))| have & mask == want & mask && have & !mask == 0);
	if td.mr_signer_seam != expected.mr_signer || !attributes_ok {
		return Err(Error::TdxModuleMismatch);
	}
	Ok(())
}
