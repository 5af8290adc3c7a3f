//! Collateral: the revocation lists, TCB info and QE identity Intel signs, verified when they
//! are submitted and looked up when a quote is.

use crate::{
	parse_rfc3339,
	pki::{self, Cert, Crl, PckCa, Revocations},
	quote::TeeType,
	tcb::TcbStatus,
	Error, Result,
};
use alloc::{string::String, vec::Vec};
use codec::{Decode, Encode};
use scale_info::TypeInfo;
use serde::Deserialize;

/// Where [`crate::verify_quote`] finds the collateral a quote needs. Everything it returns must
/// have passed this module's `verify_*` functions (a chain stores only what did).
pub trait CollateralSource {
	/// Intel's root CA certificate.
	fn root_ca(&self) -> Option<Cert>;
	/// The root CA's revocation list (of PCK CAs and signing certificates), verified.
	fn root_ca_crl(&self) -> Option<Revocations>;
	/// The revocation list of PCK certificates issued by `ca`, verified.
	fn pck_crl(&self, ca: PckCa) -> Option<Revocations>;
	/// The TCB levels of platform family `fmspc` for `tee`.
	fn tcb_info(&self, tee: TeeType, fmspc: [u8; 6]) -> Option<TcbInfo>;
	/// The identity of `tee`'s quoting enclave.
	fn qe_identity(&self, tee: TeeType) -> Option<QeIdentity>;
	/// The digest ([`pki::certificate_digest`]) of the certificate of `ca` verified as the
	/// root's with `ca`'s revocation list: a quote's chain holding exactly that certificate
	/// needs its signature checked no more. `None`: check it.
	fn verified_pck_ca(&self, _ca: PckCa) -> Option<[u8; 32]> {
		None
	}
	/// Whether a quote with the platform evidence `evidence` ([`crate::PlatformTcb::evidence`])
	/// was verified before under the same root: its PCK certificate chain's and its QE report's
	/// signatures, over exactly the same bytes, need not be checked again.
	fn verified_platform(&self, _evidence: &[u8; 32]) -> bool {
		false
	}
}

/// One TCB level: the component SVNs a platform must reach and Intel's grade for it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct TcbLevel {
	/// The minimum SVN of each of the 16 SGX TCB components, compared with the PCK
	/// certificate's CPUSVN.
	pub sgx_components: [u8; 16],
	/// The minimum PCESVN (security version of the Provisioning Certification Enclave).
	pub pce_svn: u16,
	/// TDX TCB info only.
	pub tdx_components: Option<[u8; 16]>,
	/// Unix seconds.
	pub tcb_date: u64,
	/// Intel's grade of platforms at this level.
	pub status: TcbStatus,
	/// The Intel security advisories (`INTEL-SA-…`) affecting platforms at this level.
	pub advisories: Vec<String>,
}

/// The expected signer and attributes of a TDX module.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct TdxModule {
	/// The module's expected MRSIGNERSEAM.
	pub mr_signer: [u8; 48],
	/// The module's expected SEAMATTRIBUTES, in the bits of [`TdxModule::attributes_mask`].
	pub attributes: [u8; 8],
	/// The SEAMATTRIBUTES bits compared with [`TdxModule::attributes`]; the others must be
	/// clear.
	pub attributes_mask: [u8; 8],
}

/// A TDX module version's identity and its own TCB levels (by module ISVSVN).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct TdxModuleIdentity {
	/// "TDX_01", "TDX_03", ...: the module's major version.
	pub id: String,
	/// The signer and attributes a module of this version must have.
	pub module: TdxModule,
	/// The module's TCB levels by its SVN (byte 0 of TEE_TCB_SVN), highest first, as Intel
	/// publishes them.
	pub levels: Vec<ModuleLevel>,
}

/// A level of a quoting enclave or TDX module, by its ISVSVN.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ModuleLevel {
	/// The lowest ISVSVN at this level.
	pub isv_svn: u16,
	/// Unix seconds.
	pub tcb_date: u64,
	/// Intel's grade of this level.
	pub status: TcbStatus,
	/// The Intel security advisories (`INTEL-SA-…`) affecting this level.
	pub advisories: Vec<String>,
}

/// Intel's TCB info for one platform family (FMSPC) and TEE type.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct TcbInfo {
	/// The TEE it grades: SGX (`id` "SGX") or TDX ("TDX").
	pub tee: TeeType,
	/// The TCB info format version: 2 or later for SGX, 3 or later for TDX.
	pub version: u8,
	/// The platform family (FMSPC) it is for.
	pub fmspc: [u8; 6],
	/// The Provisioning Certification Enclave (PCEID) whose certified platforms it grades.
	pub pce_id: [u8; 2],
	/// When Intel issued it, Unix seconds.
	pub issue_date: u64,
	/// When Intel will issue the next one, Unix seconds; it is not current after.
	pub next_update: u64,
	/// Intel's TCB evaluation data number, which grows with each TCB recovery.
	pub evaluation_number: u32,
	/// In Intel's QVL order: highest SGX components first, then PCE SVN, then TDX components.
	pub levels: Vec<TcbLevel>,
	/// TDX: the expected signer and attributes of the TDX module, used for major version 0
	/// (which has no identity of its own).
	pub tdx_module: Option<TdxModule>,
	/// TDX: the identity and TCB levels of each module major version.
	pub tdx_module_identities: Vec<TdxModuleIdentity>,
}

/// Intel's identity of a quoting enclave (SGX's "QE" or TDX's "TD_QE").
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct QeIdentity {
	/// The TEE whose quoting enclave it describes: SGX (`id` "QE") or TDX ("TD_QE").
	pub tee: TeeType,
	/// The identity format version: 2 for SGX, 2 or 3 for TDX.
	pub version: u8,
	/// When Intel issued it, Unix seconds.
	pub issue_date: u64,
	/// When Intel will issue the next one, Unix seconds; it is not current after.
	pub next_update: u64,
	/// Intel's TCB evaluation data number, which grows with each TCB recovery.
	pub evaluation_number: u32,
	/// The QE's expected MISCSELECT, in the bits of [`QeIdentity::misc_select_mask`].
	pub misc_select: u32,
	/// The MISCSELECT bits compared with [`QeIdentity::misc_select`].
	pub misc_select_mask: u32,
	/// The QE's expected ATTRIBUTES, in the bits of [`QeIdentity::attributes_mask`].
	pub attributes: [u8; 16],
	/// The ATTRIBUTES bits compared with [`QeIdentity::attributes`].
	pub attributes_mask: [u8; 16],
	/// The QE's MRSIGNER: Intel's enclave signing key.
	pub mr_signer: [u8; 32],
	/// The QE's ISVPRODID.
	pub isv_prod_id: u16,
	/// Highest ISVSVN first, as Intel publishes them.
	pub levels: Vec<ModuleLevel>,
}

impl TcbInfo {
	/// Parses TCB info JSON (the signed `tcbInfo` body, version 2 or 3).
	pub fn parse(json: &[u8]) -> Result<Self> {
		let raw: json::TcbInfo =
			serde_json::from_slice(json).map_err(|_| Error::TcbInfoMalformed)?;
		raw.typed().ok_or(Error::TcbInfoMalformed)
	}

	/// Whether it may be relied on at `now`.
	pub fn current_at(&self, now: u64) -> bool {
		self.issue_date <= now && now <= self.next_update
	}
}

impl QeIdentity {
	/// Parses QE identity JSON (the signed `enclaveIdentity` body).
	pub fn parse(json: &[u8]) -> Result<Self> {
		let raw: json::QeIdentity =
			serde_json::from_slice(json).map_err(|_| Error::QeIdentityMalformed)?;
		raw.typed().ok_or(Error::QeIdentityMalformed)
	}

	/// Whether it may be relied on at `now`.
	pub fn current_at(&self, now: u64) -> bool {
		self.issue_date <= now && now <= self.next_update
	}
}

/// Verifies the root CA's revocation list: signed by `root`, current at `now`.
pub fn verify_root_crl(root: &Cert, der: &[u8], now: u64) -> Result<Revocations> {
	let revocations = Crl::from_der(der)?.verified_by(root)?;
	if !revocations.current_at(now) {
		return Err(Error::CrlExpired);
	}
	Ok(revocations)
}

/// A PCK CA's revocation list, verified: which CA issued it, the digest of that CA's
/// certificate ([`pki::certificate_digest`]), verified as the root's on the way, and what it
/// says.
#[derive(Clone, Debug)]
pub struct VerifiedPckCrl {
	/// The CA whose list it is.
	pub ca: PckCa,
	/// The digest of the CA's certificate.
	pub ca_digest: [u8; 32],
	/// What the list says.
	pub revocations: Revocations,
}

/// Verifies a PCK CA's revocation list: `issuer_chain` (PEM, the CA then the root) chains to
/// `root` unrevoked, the list is the CA's, signed by it and current at `now`.
pub fn verify_pck_crl(
	root: &Cert,
	root_crl: &Revocations,
	der: &[u8],
	issuer_chain: &[u8],
	now: u64,
) -> Result<VerifiedPckCrl> {
	let ca = &pki::leading_certs(issuer_chain, 1)?[0];
	pki::verify_chain(core::slice::from_ref(ca), root, root_crl, now, |_| Err(Error::CrlMissing))?;
	let kind = PckCa::of(ca).ok_or(Error::CertificateChainInvalid)?;
	let revocations = Crl::from_der(der)?.verified_by(ca)?;
	if !revocations.current_at(now) {
		return Err(Error::CrlExpired);
	}
	Ok(VerifiedPckCrl { ca: kind, ca_digest: pki::certificate_digest(ca), revocations })
}

/// Verifies signed TCB info: `signature` (raw `r ‖ s`) over exactly `json` by the leaf of
/// `issuer_chain`, Intel's TCB signing certificate, which the root issued directly; the info is
/// current at `now`.
pub fn verify_tcb_info(
	root: &Cert,
	root_crl: &Revocations,
	json: &[u8],
	signature: &[u8; 64],
	issuer_chain: &[u8],
	now: u64,
) -> Result<TcbInfo> {
	verify_signed_json(root, root_crl, json, signature, issuer_chain, now).map_err(|error| {
		match error {
			Error::CertificateSignatureInvalid => Error::TcbInfoSignatureInvalid,
			other => other,
		}
	})?;
	let info = TcbInfo::parse(json)?;
	if !info.current_at(now) {
		return Err(Error::TcbInfoExpired);
	}
	Ok(info)
}

/// Verifies a signed QE identity, as [`verify_tcb_info`] does TCB info.
pub fn verify_qe_identity(
	root: &Cert,
	root_crl: &Revocations,
	json: &[u8],
	signature: &[u8; 64],
	issuer_chain: &[u8],
	now: u64,
) -> Result<QeIdentity> {
	verify_signed_json(root, root_crl, json, signature, issuer_chain, now).map_err(|error| {
		match error {
			Error::CertificateSignatureInvalid => Error::QeIdentitySignatureInvalid,
			other => other,
		}
	})?;
	let identity = QeIdentity::parse(json)?;
	if !identity.current_at(now) {
		return Err(Error::QeIdentityExpired);
	}
	Ok(identity)
}

fn verify_signed_json(
	root: &Cert,
	root_crl: &Revocations,
	json: &[u8],
	signature: &[u8; 64],
	issuer_chain: &[u8],
	now: u64,
) -> Result<()> {
	let signer = &pki::leading_certs(issuer_chain, 1)?[0];
	pki::verify_chain(core::slice::from_ref(signer), root, root_crl, now, |_| {
		Err(Error::CrlMissing)
	})?;
	// The root issues more than the TCB signer (the PCK CAs); only the signer grades platforms
	// and quoting enclaves, as Intel's QVL requires.
	if signer.common_name() != Some(pki::TCB_SIGNER_COMMON_NAME) {
		return Err(Error::TcbSignerUnexpected);
	}
	if !pki::verify_raw_signature(&signer.key()?, json, signature) {
		return Err(Error::CertificateSignatureInvalid);
	}
	Ok(())
}

/// Collateral as Intel's PCS serves it for one quote (DER lists, PEM chains, signed JSON).
#[derive(Clone, Debug)]
pub struct RawCollateral<'a> {
	/// The root CA's revocation list, DER.
	pub root_ca_crl: &'a [u8],
	/// The revocation list of the PCK CA that issued the quote's PCK certificate, DER.
	pub pck_crl: &'a [u8],
	/// The PCK CA's chain, PEM: the CA, then the root.
	pub pck_crl_issuer_chain: &'a [u8],
	/// The TCB info body (`tcbInfo`), exactly as Intel signed it.
	pub tcb_info: &'a [u8],
	/// The signature over [`RawCollateral::tcb_info`], raw `r ‖ s`.
	pub tcb_info_signature: [u8; 64],
	/// The TCB signing certificate's chain, PEM: the signer, then the root.
	pub tcb_info_issuer_chain: &'a [u8],
	/// The QE identity body (`enclaveIdentity`), exactly as Intel signed it.
	pub qe_identity: &'a [u8],
	/// The signature over [`RawCollateral::qe_identity`], raw `r ‖ s`.
	pub qe_identity_signature: [u8; 64],
	/// The TCB signing certificate's chain, PEM: the signer, then the
	/// root.
	pub qe_identity_issuer_chain: &'a [u8],
}

/// One quote's collateral, each piece verified as a chain verifies it on submission.
#[derive(Clone, Debug)]
pub struct Bundle {
	root: Cert,
	root_crl: Revocations,
	pck_crl: VerifiedPckCrl,
	tcb_info: TcbInfo,
	qe_identity: QeIdentity,
}

impl Bundle {
	/// Verifies every piece of `raw` under the root certificate `root_der` at `now`.
	pub fn verify(root_der: &[u8], raw: &RawCollateral, now: u64) -> Result<Self> {
		let root = Cert::from_der(root_der)?;
		let root_crl = verify_root_crl(&root, raw.root_ca_crl, now)?;
		let pck_crl = verify_pck_crl(&root, &root_crl, raw.pck_crl, raw.pck_crl_issuer_chain, now)?;
		let tcb_info = verify_tcb_info(
			&root,
			&root_crl,
			raw.tcb_info,
			&raw.tcb_info_signature,
			raw.tcb_info_issuer_chain,
			now,
		)?;
		let qe_identity = verify_qe_identity(
			&root,
			&root_crl,
			raw.qe_identity,
			&raw.qe_identity_signature,
			raw.qe_identity_issuer_chain,
			now,
		)?;
		Ok(Self { root, root_crl, pck_crl, tcb_info, qe_identity })
	}
}

impl CollateralSource for Bundle {
	fn root_ca(&self) -> Option<Cert> {
		Some(self.root.clone())
	}
	fn root_ca_crl(&self) -> Option<Revocations> {
		Some(self.root_crl.clone())
	}
	fn pck_crl(&self, ca: PckCa) -> Option<Revocations> {
		(self.pck_crl.ca == ca).then(|| self.pck_crl.revocations.clone())
	}
	fn tcb_info(&self, tee: TeeType, fmspc: [u8; 6]) -> Option<TcbInfo> {
		(self.tcb_info.tee == tee && self.tcb_info.fmspc == fmspc).then(|| self.tcb_info.clone())
	}
	fn qe_identity(&self, tee: TeeType) -> Option<QeIdentity> {
		(self.qe_identity.tee == tee).then(|| self.qe_identity.clone())
	}
	fn verified_pck_ca(&self, ca: PckCa) -> Option<[u8; 32]> {
		(self.pck_crl.ca == ca).then_some(self.pck_crl.ca_digest)
	}
}

/// Intel's JSON shapes, turned into the typed structures above.
mod json {
	use super::*;

	#[derive(Deserialize)]
	#[serde(rename_all = "camelCase")]
	pub(super) struct TcbInfo {
		id: String,
		version: u8,
		issue_date: String,
		next_update: String,
		fmspc: String,
		pce_id: String,
		tcb_evaluation_data_number: u32,
		tcb_levels: Vec<TcbLevel>,
		#[serde(default)]
		tdx_module: Option<TdxModule>,
		#[serde(default)]
		tdx_module_identities: Vec<TdxModuleIdentity>,
	}

	#[derive(Deserialize)]
	#[serde(rename_all = "camelCase")]
	struct TcbLevel {
		tcb: Tcb,
		tcb_date: String,
		tcb_status: TcbStatus,
		#[serde(rename = "advisoryIDs", default)]
		advisory_ids: Vec<String>,
	}

	#[derive(Deserialize)]
	struct Tcb {
		sgxtcbcomponents: Vec<Component>,
		#[serde(default)]
		tdxtcbcomponents: Option<Vec<Component>>,
		pcesvn: u16,
	}

	#[derive(Deserialize)]
	struct Component {
		svn: u8,
	}

	#[derive(Deserialize)]
	#[serde(rename_all = "camelCase")]
	struct TdxModule {
		mrsigner: String,
		attributes: String,
		attributes_mask: String,
	}

	#[derive(Deserialize)]
	#[serde(rename_all = "camelCase")]
	struct TdxModuleIdentity {
		id: String,
		#[serde(flatten)]
		module: TdxModule,
		tcb_levels: Vec<IsvLevel>,
	}

	#[derive(Deserialize)]
	#[serde(rename_all = "camelCase")]
	struct IsvLevel {
		tcb: IsvSvn,
		tcb_date: String,
		tcb_status: TcbStatus,
		#[serde(rename = "advisoryIDs", default)]
		advisory_ids: Vec<String>,
	}

	#[derive(Deserialize)]
	struct IsvSvn {
		isvsvn: u16,
	}

	#[derive(Deserialize)]
	#[serde(rename_all = "camelCase")]
	pub(super) struct QeIdentity {
		id: String,
		version: u8,
		issue_date: String,
		next_update: String,
		tcb_evaluation_data_number: u32,
		miscselect: String,
		miscselect_mask: String,
		attributes: String,
		attributes_mask: String,
		mrsigner: String,
		isvprodid: u16,
		tcb_levels: Vec<IsvLevel>,
	}

	fn hex<const N: usize>(text: &str) -> Option<[u8; N]> {
		let digits = text.as_bytes();
		if digits.len() != 2 * N {
			return None;
		}
		let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
		let mut out = [0u8; N];
		for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
			*byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
		}
		Some(out)
	}

	fn components(list: &[Component]) -> Option<[u8; 16]> {
		let svns: Vec<u8> = list.iter().map(|c| c.svn).collect();
		svns.try_into().ok()
	}

	impl TdxModule {
		fn typed(&self) -> Option<super::TdxModule> {
			Some(super::TdxModule {
				mr_signer: hex(&self.mrsigner)?,
				attributes: hex(&self.attributes)?,
				attributes_mask: hex(&self.attributes_mask)?,
			})
		}
	}

	impl IsvLevel {
		fn typed(&self) -> Option<ModuleLevel> {
			Some(ModuleLevel {
				isv_svn: self.tcb.isvsvn,
				tcb_date: parse_rfc3339(&self.tcb_date)?,
				status: self.tcb_status,
				advisories: self.advisory_ids.clone(),
			})
		}
	}

	impl TcbInfo {
		pub(super) fn typed(&self) -> Option<super::TcbInfo> {
			let tee = match (self.id.as_str(), self.version) {
				("SGX", 2..) => TeeType::Sgx,
				("TDX", 3..) => TeeType::Tdx,
				_ => return None,
			};
			let mut levels = self
				.tcb_levels
				.iter()
				.map(|level| {
					let tdx_components = match (&level.tcb.tdxtcbcomponents, tee) {
						(Some(list), TeeType::Tdx) => Some(components(list)?),
						(None, TeeType::Sgx) | (Some(_), TeeType::Sgx) => None,
						(None, TeeType::Tdx) => return None,
					};
					Some(super::TcbLevel {
						sgx_components: components(&level.tcb.sgxtcbcomponents)?,
						pce_svn: level.tcb.pcesvn,
						tdx_components,
						tcb_date: parse_rfc3339(&level.tcb_date)?,
						status: level.tcb_status,
						advisories: level.advisory_ids.clone(),
					})
				})
				.collect::<Option<Vec<_>>>()?;
			// Intel's QVL matches levels in this order, whatever order the JSON lists them in.
			levels.sort_by(|a, b| {
				(b.sgx_components, b.pce_svn, b.tdx_components).cmp(&(
					a.sgx_components,
					a.pce_svn,
					a.tdx_components,
				))
			});
			Some(super::TcbInfo {
				tee,
				version: self.version,
				fmspc: hex(&self.fmspc)?,
				pce_id: hex(&self.pce_id)?,
				issue_date: parse_rfc3339(&self.issue_date)?,
				next_update: parse_rfc3339(&self.next_update)?,
				evaluation_number: self.tcb_evaluation_data_number,
				levels,
				tdx_module: match &self.tdx_module {
					Some(module) => Some(module.typed()?),
					None => None,
				},
				tdx_module_identities: self
					.tdx_module_identities
					.iter()
					.map(|identity| {
						Some(super::TdxModuleIdentity {
							id: identity.id.clone(),
							module: identity.module.typed()?,
							levels: identity
								.tcb_levels
								.iter()
								.map(IsvLevel::typed)
								.collect::<Option<_>>()?,
						})
					})
					.collect::<Option<_>>()?,
			})
		}
	}

	impl QeIdentity {
		pub(super) fn typed(&self) -> Option<super::QeIdentity> {
			let tee = match (self.id.as_str(), self.version) {
				("QE", 2) => TeeType::Sgx,
				("TD_QE", 2 | 3) => TeeType::Tdx,
				_ => return None,
			};
			Some(super::QeIdentity {
				tee,
				version: self.version,
				issue_date: parse_rfc3339(&self.issue_date)?,
				next_update: parse_rfc3339(&self.next_update)?,
				evaluation_number: self.tcb_evaluation_data_number,
				misc_select: u32::from_le_bytes(hex(&self.miscselect)?),
				misc_select_mask: u32::from_le_bytes(hex(&self.miscselect_mask)?),
				attributes: hex(&self.attributes)?,
				attributes_mask: hex(&self.attributes_mask)?,
				mr_signer: hex(&self.mrsigner)?,
				isv_prod_id: self.isvprodid,
				levels: self.tcb_levels.iter().map(IsvLevel::typed).collect::<Option<_>>()?,
			})
		}
	}
}
