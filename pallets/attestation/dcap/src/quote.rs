//! The quote: Intel's binary layout of an SGX or TDX report and the signatures over it.
//!
//! Version 3 (SGX) carries the QE report directly in its signature data; versions 4 and 5 wrap
//! it in certification data of type 6. Version 5 prefixes the report with its body type and
//! size, which is how TD 1.5 reports are told apart.

use crate::{reader::Reader, Error, Result};

/// Intel's quoting enclave vendor id.
const INTEL_QE_VENDOR_ID: [u8; 16] = [
	0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
];
const TEE_TYPE_SGX: u32 = 0x00;
const TEE_TYPE_TDX: u32 = 0x81;
const ATTESTATION_KEY_ECDSA_P256: u16 = 2;
const HEADER_LEN: usize = 48;
const ENCLAVE_REPORT_LEN: usize = 384;
const TD_REPORT10_LEN: usize = 584;
const TD_REPORT15_LEN: usize = 648;
/// A TD 1.5 report extended with service TD and initial TCB fields, which are not checked.
const TD_REPORT15_EX_LEN: usize = 885;
/// Certification data holding a PEM PCK certificate chain.
pub const CERT_TYPE_PCK_CHAIN: u16 = 5;

/// The kind of trusted execution environment a quote reports on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, codec::Encode, codec::Decode, scale_info::TypeInfo)]
pub enum TeeType {
	/// Intel SGX: an enclave, quoted in version 3.
	Sgx,
	/// Intel TDX: a trust domain, quoted in version 4 or 5.
	Tdx,
}

/// Whether an enclave of SGX ATTRIBUTES `attributes` runs in debug mode (byte 0, bit 1).
pub(crate) fn is_debug(attributes: &[u8; 16]) -> bool {
	attributes[0] & 0x02 != 0
}

/// An SGX enclave report: the application enclave's, or the quoting enclave's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnclaveReport {
	/// CPUSVN: the security version of the processor (microcode and firmware) it ran on.
	pub cpu_svn: [u8; 16],
	/// MISCSELECT: which extended features the processor saves in the enclave's SSA frame on an
	/// exit.
	pub misc_select: u32,
	/// ATTRIBUTES: the enclave's flags (byte 0 bit 1 is DEBUG) then its XFRM.
	pub attributes: [u8; 16],
	/// MRENCLAVE: the SHA-256 measurement of the enclave's initial code and data.
	pub mr_enclave: [u8; 32],
	/// MRSIGNER: the SHA-256 hash of the enclave signer's RSA public key modulus.
	pub mr_signer: [u8; 32],
	/// ISVPRODID: the product id the enclave's signer assigned to it.
	pub isv_prod_id: u16,
	/// ISVSVN: the security version the enclave's signer assigned to it.
	pub isv_svn: u16,
	/// REPORTDATA: 64 bytes of the enclave's choosing. The quoting enclave's first 32 are the
	/// SHA-256 of the attestation key and the QE authentication data.
	pub report_data: [u8; 64],
}

impl EnclaveReport {
	/// Debug enclaves let the host read their memory.
	pub fn is_debug(&self) -> bool {
		is_debug(&self.attributes)
	}

	pub(crate) fn parse(bytes: &[u8]) -> Result<Self> {
		let mut r = Reader::new(bytes);
		let cpu_svn = r.array()?;
		let misc_select = r.u32()?;
		r.take(28)?;
		let attributes = r.array()?;
		let mr_enclave = r.array()?;
		r.take(32)?;
		let mr_signer = r.array()?;
		r.take(96)?;
		let isv_prod_id = r.u16()?;
		let isv_svn = r.u16()?;
		r.take(60)?;
		let report_data = r.array()?;
		Ok(Self {
			cpu_svn,
			misc_select,
			attributes,
			mr_enclave,
			mr_signer,
			isv_prod_id,
			isv_svn,
			report_data,
		})
	}
}

/// A TDX trust domain's report (TD 1.0, or TD 1.5 with its current TCB and service TD).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TdReport {
	/// TEE_TCB_SVN: the SVNs of the TDX TCB the TD was launched on; byte 0 is the TDX module's
	/// SVN, byte 1 its major version.
	pub tee_tcb_svn: [u8; 16],
	/// MRSEAM: the SHA-384 measurement of the TDX module.
	pub mr_seam: [u8; 48],
	/// MRSIGNERSEAM: the measurement of the TDX module's signer; it must be the one the TCB
	/// info names.
	pub mr_signer_seam: [u8; 48],
	/// SEAMATTRIBUTES: the TDX module's attributes; checked against the TCB info's under its
	/// mask.
	pub seam_attributes: [u8; 8],
	/// TDATTRIBUTES: the TD's attributes (debug, migratable, `SEPT_VE_DISABLE`, ...), judged by
	/// [`TdReport::attributes_safe`].
	pub td_attributes: [u8; 8],
	/// XFAM: the extended CPU features (XSAVE feature mask) the TD may use.
	pub xfam: [u8; 8],
	/// MRTD: the SHA-384 measurement of the TD's initial contents (its virtual firmware).
	pub mr_td: [u8; 48],
	/// MRCONFIGID: a software-defined id of the TD's configuration, set by the host at launch.
	pub mr_config_id: [u8; 48],
	/// MROWNER: a software-defined id of the TD's owner, set by the host at launch.
	pub mr_owner: [u8; 48],
	/// MROWNERCONFIG: a software-defined id of the owner's configuration of the TD, set by
	/// the host at launch.
	pub mr_owner_config: [u8; 48],
	/// RTMR0–3: the run-time measurement registers, extended by the TD's firmware, boot loader
	/// and OS as they boot.
	pub rtmrs: [[u8; 48]; 4],
	/// REPORTDATA: 64 bytes of the TD's choosing.
	pub report_data: [u8; 64],
	/// TD 1.5: the TCB after a TD-preserving module update, and the service TD's measurement.
	pub td15: Option<Td15Fields>,
}

/// What a TD 1.5 report adds to a TD 1.0 one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Td15Fields {
	/// TEE_TCB_SVN2: the SVNs of the TDX TCB the TD runs on now, after any TD-preserving
	/// module update; laid out as [`TdReport::tee_tcb_svn`].
	pub tee_tcb_svn2: [u8; 16],
	/// MRSERVICETD: the measurement of the service TDs bound to this TD; anything but zeros
	/// is refused by [`TdReport::attributes_safe`].
	pub mr_service_td: [u8; 48],
}

impl TdReport {
	fn parse(bytes: &[u8], td15: bool) -> Result<Self> {
		let mut r = Reader::new(bytes);
		let mut report = Self {
			tee_tcb_svn: r.array()?,
			mr_seam: r.array()?,
			mr_signer_seam: r.array()?,
			seam_attributes: r.array()?,
			td_attributes: r.array()?,
			xfam: r.array()?,
			mr_td: r.array()?,
			mr_config_id: r.array()?,
			mr_owner: r.array()?,
			mr_owner_config: r.array()?,
			rtmrs: [r.array()?, r.array()?, r.array()?, r.array()?],
			report_data: r.array()?,
			td15: None,
		};
		if td15 {
			report.td15 = Some(Td15Fields { tee_tcb_svn2: r.array()?, mr_service_td: r.array()? });
		}
		Ok(report)
	}

	/// The TD attribute rules: no debug or profiling (TUD bits), no reserved bits, not
	/// migratable, no service TD extension, EPT violations on pending pages not turned into #VE.
	pub fn attributes_safe(&self) -> core::result::Result<(), Error> {
		let attributes = u64::from_le_bytes(self.td_attributes);
		let bit = |n: u32| attributes & (1u64 << n) != 0;
		let tud = self.td_attributes[0];
		if tud & 0x01 != 0 {
			return Err(Error::DebugEnclave);
		}
		if tud & 0x70 != 0 {
			return Err(Error::TdAttributesRefused);
		}
		const RESERVED: u64 = 0x0000_000e | 0xff80 | 0x0780_0000 | 0x3fff_ffff_0000_0000;
		let servtd_ext = bit(17);
		let sept_ve_disable = bit(28);
		let migratable = bit(29);
		if attributes & RESERVED != 0 || migratable || servtd_ext || !sept_ve_disable {
			return Err(Error::TdAttributesRefused);
		}
		if self.td15.as_ref().is_some_and(|td15| td15.mr_service_td != [0u8; 48]) {
			return Err(Error::TdAttributesRefused);
		}
		Ok(())
	}
}

/// The report a quote signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
	/// An SGX enclave's report (quote version 3).
	Sgx(EnclaveReport),
	/// A TD's report (quote version 4 or 5).
	Td(TdReport),
}

/// A parsed quote, borrowing its variable parts from the bytes it was parsed from.
#[derive(Clone, Debug)]
pub struct Quote<'a> {
	/// The quote format version: 3 (SGX), 4 or 5 (TDX).
	pub version: u16,
	/// The TEE the quote reports on, from the header's TEE type.
	pub tee: TeeType,
	/// The enclave's or TD's report.
	pub report: Report,
	/// The bytes the attestation key signed: header and report (with v5's body header).
	pub signed: &'a [u8],
	/// Raw `r ‖ s`.
	pub signature: [u8; 64],
	/// Raw `x ‖ y` of the attestation key.
	pub attestation_key: [u8; 64],
	/// The quoting enclave's report, as signed by the PCK key.
	pub qe_report_bytes: &'a [u8],
	/// [`Quote::qe_report_bytes`], parsed.
	pub qe_report: EnclaveReport,
	/// The PCK key's raw `r ‖ s` signature over [`Quote::qe_report_bytes`].
	pub qe_report_signature: [u8; 64],
	/// The QE authentication data, which the QE report's data commits to together with the
	/// attestation key.
	pub qe_auth_data: &'a [u8],
	/// The certification data type: [`CERT_TYPE_PCK_CHAIN`] when it carries the PCK chain.
	pub cert_type: u16,
	/// The certification data: for [`CERT_TYPE_PCK_CHAIN`], the PEM PCK certificate chain (leaf,
	/// CA, root).
	pub cert_data: &'a [u8],
}

impl<'a> Quote<'a> {
	/// Parses `bytes` and checks the header: Intel's QE, ECDSA P-256, SGX as version 3, TDX as
	/// version 4 or 5. Bytes after the signature data are ignored, as Intel's QVL does.
	pub fn parse(bytes: &'a [u8]) -> Result<Self> {
		let mut r = Reader::new(bytes);
		let version = r.u16()?;
		let key_type = r.u16()?;
		let tee_type = r.u32()?;
		r.take(4)?; // QE and PCE SVNs, reported again in the QE report and PCK certificate
		let vendor: [u8; 16] = r.array()?;
		r.take(20)?; // user data
		let tee = match (tee_type, version) {
			(TEE_TYPE_SGX, 3) => TeeType::Sgx,
			(TEE_TYPE_TDX, 4 | 5) => TeeType::Tdx,
			(TEE_TYPE_SGX | TEE_TYPE_TDX, 3..=5) => return Err(Error::TeeTypeUnsupported),
			(TEE_TYPE_SGX | TEE_TYPE_TDX, _) => return Err(Error::QuoteVersionUnsupported),
			_ => return Err(Error::TeeTypeUnsupported),
		};
		let report = match version {
			3 => Report::Sgx(EnclaveReport::parse(r.take(ENCLAVE_REPORT_LEN)?)?),
			4 => Report::Td(TdReport::parse(r.take(TD_REPORT10_LEN)?, false)?),
			_ => {
				let body_type = r.u16()?;
				let body_len = r.u32()?;
				let (len, td15) = match body_type {
					2 => (TD_REPORT10_LEN, false),
					3 => (TD_REPORT15_LEN, true),
					4 => (TD_REPORT15_EX_LEN, true),
					_ => return Err(Error::TeeTypeUnsupported),
				};
				if usize::try_from(body_len).ok() != Some(len) {
					return Err(Error::QuoteMalformed);
				}
				Report::Td(TdReport::parse(r.take(len)?, td15)?)
			}
		};
		let signed = &bytes[..r.consumed_of(bytes)];
		debug_assert!(signed.len() >= HEADER_LEN);
		let mut auth = Reader::new(r.sized32()?);
		let signature = auth.array()?;
		let attestation_key = auth.array()?;
		let mut qe = if version == 3 {
			auth
		} else {
			let _outer_type = auth.u16()?;
			Reader::new(auth.sized32()?)
		};
		let qe_report_bytes = qe.take(ENCLAVE_REPORT_LEN)?;
		let qe_report = EnclaveReport::parse(qe_report_bytes)?;
		let qe_report_signature = qe.array()?;
		let qe_auth_data = qe.sized16()?;
		let cert_type = qe.u16()?;
		let cert_data = qe.sized32()?;
		if vendor != INTEL_QE_VENDOR_ID {
			return Err(Error::QeVendorUnknown);
		}
		if key_type != ATTESTATION_KEY_ECDSA_P256 {
			return Err(Error::AttestationKeyTypeUnsupported);
		}
		Ok(Self {
			version,
			tee,
			report,
			signed,
			signature,
			attestation_key,
			qe_report_bytes,
			qe_report,
			qe_report_signature,
			qe_auth_data,
			cert_type,
			cert_data,
		})
	}
}
