//! The whole verification of one quote, in the order trust flows: Intel's root to the PCK
//! certificate, the PCK key to the quoting enclave, the quoting enclave to the attestation key,
//! the attestation key to the report; then the TCB grade of what signed.

use crate::{
	collateral::{CollateralSource, ModuleLevel, QeIdentity, TcbInfo, TcbLevel},
	pki::{self, PckCa, Platform},
	quote::{Quote, Report, TdReport, TeeType, CERT_TYPE_PCK_CHAIN},
	tcb::TcbStatus,
	Error, Result,
};
use alloc::{string::String, vec::Vec};
use p256::ecdsa::VerifyingKey;
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
		None if quote.cert_type == CERT_TYPE_PCK_CHAIN => quote.cert_data,
		None => return Err(Error::PckChainMissing),
	};
	let chain = pki::leading_certs(pem, 2)?;
	let root = source.root_ca().ok_or(Error::UntrustedRoot)?;
	let root_crl = source.root_ca_crl().ok_or(Error::CrlMissing)?;
	pki::verify_chain(&chain, &root, &root_crl, now, |ca| {
		PckCa::of(ca).and_then(|kind| source.pck_crl(kind)).ok_or(Error::CrlMissing)
	})?;
	let pck = &chain[0];
	// A PCK CA could sign certificates for other purposes; as Intel's QVL, only its PCK
	// certificates vouch for a quoting enclave.
	if pck.common_name() != Some(pki::PCK_COMMON_NAME) {
		return Err(Error::PckCertificateNameUnexpected);
	}
	let platform = pki::platform_of(pck)?;

	// The PCK key vouches for the quoting enclave, which vouches for the attestation key.
	if !pki::verify_raw_signature(&pck.key()?, quote.qe_report_bytes, &quote.qe_report_signature) {
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
	let qe_identity = source.qe_identity(quote.tee).ok_or(Error::QeIdentityMissing)?;
	if !qe_identity.current_at(now) {
		return Err(Error::QeIdentityExpired);
	}
	let qe_level = quoting_enclave_level(&quote, &qe_identity)?;

	// The attestation key signed the report.
	let mut sec1 = [0x04u8; 65];
	sec1[1..].copy_from_slice(&quote.attestation_key);
	let attestation_key =
		VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| Error::QuoteSignatureInvalid)?;
	if !pki::verify_raw_signature(&attestation_key, quote.signed, &quote.signature) {
		return Err(Error::QuoteSignatureInvalid);
	}

	let tcb_info = source.tcb_info(quote.tee, platform.fmspc).ok_or(Error::TcbInfoMissing)?;
	if !tcb_info.current_at(now) {
		return Err(Error::TcbInfoExpired);
	}
	// TCB info is published per FMSPC and PCE; the lookup matched the FMSPC, and Intel's QVL
	// refuses a TCB info whose PCEID is not the one that certified this platform.
	if tcb_info.pce_id != platform.pce_id {
		return Err(Error::PceIdMismatch);
	}
	let (launch, current) = match &quote.report {
		Report::Sgx(_) => (platform_level(&tcb_info, &platform, None)?, None),
		Report::Td(td) => {
			check_tdx_module(&tcb_info, td)?;
			let launch = tdx_level(&tcb_info, &platform, &td.tee_tcb_svn)?;
			let current = td
				.td15
				.as_ref()
				.map(|td15| tdx_level(&tcb_info, &platform, &td15.tee_tcb_svn2))
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

	match &quote.report {
		Report::Sgx(report) if report.is_debug() => return Err(Error::DebugEnclave),
		Report::Sgx(_) => {}
		Report::Td(td) => td.attributes_safe()?,
	}
	Ok(Verified {
		tee: quote.tee,
		report: quote.report.clone(),
		status,
		advisories,
		tcb_date: if qe_level.status.is_out_of_date() {
			launch.tcb_date.min(qe_level.tcb_date)
		} else {
			launch.tcb_date
		},
		fmspc: platform.fmspc,
		tcb_evaluation_data_number: tcb_info.evaluation_number,
		qe_evaluation_data_number: qe_identity.evaluation_number,
	})
}

/// Checks the quoting enclave against Intel's identity of it and returns its level.
fn quoting_enclave_level(quote: &Quote, identity: &QeIdentity) -> Result<ModuleLevel> {
	let qe = &quote.qe_report;
	let attributes_match = qe
		.attributes
		.iter()
		.zip(identity.attributes.iter().zip(&identity.attributes_mask))
		.all(|(have, (want, mask))| have & mask == want & mask);
	if qe.mr_signer != identity.mr_signer
		|| qe.is_debug()
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
) -> Result<Option<&'i crate::collateral::TdxModuleIdentity>> {
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
fn check_tdx_module(info: &TcbInfo, td: &TdReport) -> Result<()> {
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
