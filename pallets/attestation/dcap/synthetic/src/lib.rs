//! A synthetic Intel-shaped PKI, for tests and benchmarks only: quotes a chain accepts need
//! report data that commits to the chain's own accounts, which no real quote does.
//!
//! `pki/make.sh` generated the certificates, revocation lists and (test) keys with
//! openssl: a root CA, a "PCK Platform CA", a PCK certificate carrying an Intel SGX extension
//! (FMSPC [`FMSPC`], PCEID 0000, every CPU SVN component 2, PCE SVN 10), a TCB signing
//! certificate, and CRLs for both CAs (the PCK CA's revokes [`REVOKED_PCK`]). The PCK
//! certificates and the signer carry Intel's common names, which the verifier pins;
//! `pki/reissue.py` gave them those names (keeping keys, serials and CRLs) and issued
//! [`PCK_OTHER_NAME`] and [`SIGNER_OTHER_NAME`], the same keys under other names;
//! `pki/earlier-crl.py` wrote [`PCK_CA_EARLIER_CRL`], the PCK CA's list from before it
//! revoked [`REVOKED_PCK`]. This module builds SGX quotes, TCB info and QE identities over
//! them and signs them with those keys, as Intel's would be.
//!
//! A crate of its own, not a feature of `commons-dcap`: a test-only feature of a crate the
//! runtime depends on would give `cargo test` a different build of everything above it (the
//! runtime, the node) than `cargo build`, and the tests would compile the workspace twice.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use sha2::{Digest, Sha256};

/// The root CA ("Commons Test Root CA"), DER: the trust anchor of everything here.
pub const ROOT_CA: &[u8] = include_bytes!("../pki/root.der");
/// The root's revocation list, DER: it revokes nothing.
pub const ROOT_CA_CRL: &[u8] = include_bytes!("../pki/root.crl.der");
/// The "Intel SGX PCK Platform CA" the root issued, DER.
pub const PCK_CA: &[u8] = include_bytes!("../pki/pck-ca.der");
/// The PCK CA's revocation list, DER: it revokes [`REVOKED_PCK`].
pub const PCK_CA_CRL: &[u8] = include_bytes!("../pki/pck-ca.crl.der");
/// The PCK CA's earlier list (issued 2026-11-01, before [`PCK_CA_CRL`]): it revokes nothing,
/// not yet [`REVOKED_PCK`]. `pki/earlier-crl.py` wrote it. For tests of a revocation
/// that comes after a registration.
pub const PCK_CA_EARLIER_CRL: &[u8] = include_bytes!("../pki/pck-ca-earlier.crl.der");
/// The same CA's list with ~1 500 more revoked serials (58 KB): the largest a chain stores.
pub const PCK_CA_LARGE_CRL: &[u8] = include_bytes!("../pki/pck-ca-large.crl.der");
/// The platform's PCK certificate ("Intel SGX PCK Certificate"), DER.
pub const PCK: &[u8] = include_bytes!("../pki/pck.der");
/// A PCK certificate of the same CA that its CRL revokes.
pub const REVOKED_PCK: &[u8] = include_bytes!("../pki/revoked-pck.der");
/// A certificate of the PCK CA with [`PCK`]'s key and extension, unrevoked, but named
/// "Commons Test PCK Certificate": not a PCK certificate by Intel's naming.
pub const PCK_OTHER_NAME: &[u8] = include_bytes!("../pki/pck-other-name.der");
/// The TCB signing certificate ("Intel SGX TCB Signing") the root issued, DER.
pub const SIGNER: &[u8] = include_bytes!("../pki/signer.der");
/// A certificate the root issued with [`SIGNER`]'s key, but named "Commons Test TCB Signing":
/// what it signs verifies, yet it is not Intel's TCB signer.
pub const SIGNER_OTHER_NAME: &[u8] = include_bytes!("../pki/signer-other-name.der");
/// The platform family of [`PCK`].
pub const FMSPC: [u8; 6] = [0xc0, 0xff, 0xee, 0, 0, 0];
/// The quoting enclave's signer that [`qe_identity`] names.
pub const QE_MR_SIGNER: [u8; 32] = [0x51; 32];
/// The ISVSVN of the quoting enclave that [`sgx_quote`] reports.
pub const QE_ISV_SVN: u16 = 8;

fn key(scalar: &[u8]) -> SigningKey {
	SigningKey::from_slice(scalar).expect("the synthetic keys are valid P-256 scalars")
}

fn sign(scalar: &[u8], message: &[u8]) -> [u8; 64] {
	let signature: Signature = key(scalar).sign(message);
	signature.to_bytes().into()
}

fn pem(ders: &[&[u8]]) -> Vec<u8> {
	let mut out = Vec::new();
	use base64ct::{Base64, Encoding};
	for der in ders {
		out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
		for line in Base64::encode_string(der).as_bytes().chunks(64) {
			out.extend_from_slice(line);
			out.push(b'\n');
		}
		out.extend_from_slice(b"-----END CERTIFICATE-----\n");
	}
	out
}

/// The PCK CA's chain as its CRL is submitted with: the CA, then the root.
pub fn pck_ca_chain() -> Vec<u8> {
	pem(&[PCK_CA, ROOT_CA])
}

/// The TCB signing certificate's chain: the signer, then the root.
pub fn signer_chain() -> Vec<u8> {
	pem(&[SIGNER, ROOT_CA])
}

/// [`SIGNER_OTHER_NAME`]'s chain: that certificate, then the root. What [`signed`] signs
/// verifies under it too, since the key is the same.
pub fn other_name_signer_chain() -> Vec<u8> {
	pem(&[SIGNER_OTHER_NAME, ROOT_CA])
}

/// Signed JSON collateral.
pub struct SignedJson {
	/// The signed body, exactly as signed.
	pub json: Vec<u8>,
	/// The signature over [`SignedJson::json`], raw `r ‖ s`.
	pub signature: [u8; 64],
}

/// `json` signed by the TCB signing key ([`SIGNER`]), as Intel signs collateral: for tests that
/// edit what [`tcb_info`] or [`qe_identity`] produce.
pub fn signed(json: String) -> SignedJson {
	let signature = sign(include_bytes!("../pki/signer.key"), json.as_bytes());
	SignedJson { json: json.into_bytes(), signature }
}

/// `json` signed by the PCK CA's key: a certificate the root issued (its chain is
/// [`pck_ca_chain`]) that must not sign collateral.
pub fn signed_by_pck_ca(json: String) -> SignedJson {
	let signature = sign(include_bytes!("../pki/pck-ca.key"), json.as_bytes());
	SignedJson { json: json.into_bytes(), signature }
}

/// What the TCB info says about the synthetic platform.
pub struct TcbSpec<'a> {
	/// `issueDate`, RFC 3339.
	pub issue_date: &'a str,
	/// `nextUpdate`, RFC 3339.
	pub next_update: &'a str,
	/// `tcbEvaluationDataNumber`.
	pub evaluation_number: u32,
	/// The status of the level the platform matches.
	pub status: &'a str,
	/// The advisories affecting the level the platform matches.
	pub advisories: &'a [&'a str],
	/// The matched level's date.
	pub tcb_date: &'a str,
	/// Levels above the platform's, listed before it (the largest TCB info has many).
	pub higher_levels: u32,
}

/// SGX TCB info (version 3) for [`FMSPC`], signed.
pub fn tcb_info(spec: &TcbSpec) -> SignedJson {
	let level = |svn: u32, status: &str, date: &str, advisories: &[&str]| {
		let components = (0..16).map(|_| format!("{{\"svn\":{svn}}}")).collect::<Vec<_>>();
		let advisories = advisories.iter().map(|id| format!("\"{id}\"")).collect::<Vec<_>>();
		format!(
			"{{\"tcb\":{{\"sgxtcbcomponents\":[{}],\"pcesvn\":10}},\"tcbDate\":\"{date}\",\"tcbStatus\":\"{status}\",\"advisoryIDs\":[{}]}}",
			components.join(","),
			advisories.join(",")
		)
	};
	let mut levels: Vec<String> = (0..spec.higher_levels)
		.map(|n| level(3 + n, "UpToDate", "2026-06-01T00:00:00Z", &[]))
		.collect();
	levels.push(level(2, spec.status, spec.tcb_date, spec.advisories));
	signed(format!(
		"{{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"{}\",\"nextUpdate\":\"{}\",\"fmspc\":\"C0FFEE000000\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":{},\"tcbLevels\":[{}]}}",
		spec.issue_date,
		spec.next_update,
		spec.evaluation_number,
		levels.join(",")
	))
}

/// The SGX quoting enclave's identity (version 2), signed: one level, from ISVSVN
/// [`QE_ISV_SVN`], up to date.
pub fn qe_identity(issue_date: &str, next_update: &str, evaluation_number: u32) -> SignedJson {
	let level = QeLevel {
		isv_svn: QE_ISV_SVN,
		status: "UpToDate",
		tcb_date: "2026-01-01T00:00:00Z",
		advisories: &[],
	};
	qe_identity_with_levels(issue_date, next_update, evaluation_number, &[level])
}

/// A level of the quoting enclave's identity.
pub struct QeLevel<'a> {
	/// The lowest ISVSVN at this level.
	pub isv_svn: u16,
	/// Intel's grade of it (`tcbStatus`).
	pub status: &'a str,
	/// Its `tcbDate`, RFC 3339.
	pub tcb_date: &'a str,
	/// The advisories affecting it.
	pub advisories: &'a [&'a str],
}

/// The SGX quoting enclave's identity (version 2) with `levels` (highest ISVSVN first, as
/// Intel lists them), signed.
pub fn qe_identity_with_levels(
	issue_date: &str,
	next_update: &str,
	evaluation_number: u32,
	levels: &[QeLevel],
) -> SignedJson {
	let mr_signer: String = QE_MR_SIGNER.iter().map(|b| format!("{b:02X}")).collect();
	let levels: Vec<String> = levels
		.iter()
		.map(|level| {
			// Intel leaves `advisoryIDs` out of levels no advisory affects.
			let advisories = if level.advisories.is_empty() {
				String::new()
			} else {
				let ids: Vec<String> =
					level.advisories.iter().map(|id| format!("\"{id}\"")).collect();
				format!(",\"advisoryIDs\":[{}]", ids.join(","))
			};
			format!(
				"{{\"tcb\":{{\"isvsvn\":{}}},\"tcbDate\":\"{}\",\"tcbStatus\":\"{}\"{advisories}}}",
				level.isv_svn, level.tcb_date, level.status
			)
		})
		.collect();
	signed(format!(
		"{{\"id\":\"QE\",\"version\":2,\"issueDate\":\"{issue_date}\",\"nextUpdate\":\"{next_update}\",\"tcbEvaluationDataNumber\":{evaluation_number},\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\",\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"{mr_signer}\",\"isvprodid\":1,\"tcbLevels\":[{}]}}",
		levels.join(",")
	))
}

/// What the quoted enclave reports.
pub struct QuoteSpec {
	/// The enclave's MRENCLAVE.
	pub mr_enclave: [u8; 32],
	/// The enclave's MRSIGNER.
	pub mr_signer: [u8; 32],
	/// The enclave's report data.
	pub report_data: [u8; 64],
	/// Whether the enclave runs in debug mode (ATTRIBUTES.DEBUG).
	pub debug: bool,
	/// The PCK certificate to quote with ([`PCK`], [`REVOKED_PCK`] or [`PCK_OTHER_NAME`]).
	pub pck: &'static [u8],
	/// Bytes of padding after the certificate chain, to make the largest quote.
	pub padding: usize,
}

/// An SGX enclave report.
fn enclave_report(
	attributes0: u8,
	mr_enclave: &[u8; 32],
	mr_signer: &[u8; 32],
	isv_prod_id: u16,
	isv_svn: u16,
	report_data: &[u8; 64],
) -> Vec<u8> {
	let mut report = Vec::with_capacity(384);
	report.extend_from_slice(&[2; 16]); // CPU SVN
	report.extend_from_slice(&0u32.to_le_bytes()); // MISCSELECT
	report.extend_from_slice(&[0; 28]);
	let mut attributes = [0u8; 16];
	attributes[0] = attributes0;
	report.extend_from_slice(&attributes);
	report.extend_from_slice(mr_enclave);
	report.extend_from_slice(&[0; 32]);
	report.extend_from_slice(mr_signer);
	report.extend_from_slice(&[0; 96]);
	report.extend_from_slice(&isv_prod_id.to_le_bytes());
	report.extend_from_slice(&isv_svn.to_le_bytes());
	report.extend_from_slice(&[0; 60]);
	report.extend_from_slice(report_data);
	report
}

/// An SGX (version 3) quote of `spec`, signed through the synthetic PCK certificate.
pub fn sgx_quote(spec: &QuoteSpec) -> Vec<u8> {
	const ATTESTATION_KEY: [u8; 32] = [7; 32];
	let attestation_public = key(&ATTESTATION_KEY).verifying_key().to_encoded_point(false);
	let attestation_public = &attestation_public.as_bytes()[1..];

	let mut quote = Vec::new();
	quote.extend_from_slice(&3u16.to_le_bytes());
	quote.extend_from_slice(&2u16.to_le_bytes()); // ECDSA P-256
	quote.extend_from_slice(&0u32.to_le_bytes()); // SGX
	quote.extend_from_slice(&8u16.to_le_bytes()); // QE SVN
	quote.extend_from_slice(&10u16.to_le_bytes()); // PCE SVN
	quote.extend_from_slice(&[
		0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06,
		0x07,
	]);
	quote.extend_from_slice(&[0; 20]);
	let attributes0 = if spec.debug { 0x06 } else { 0x04 };
	quote.extend_from_slice(&enclave_report(
		attributes0,
		&spec.mr_enclave,
		&spec.mr_signer,
		1,
		1,
		&spec.report_data,
	));

	let auth_data = [0x2a; 32];
	let mut qe_report_data = [0u8; 64];
	qe_report_data[..32].copy_from_slice(
		&Sha256::new()
			.chain_update(attestation_public)
			.chain_update(auth_data)
			.finalize(),
	);
	let qe_report =
		enclave_report(0x11, &[0x0e; 32], &QE_MR_SIGNER, 1, QE_ISV_SVN, &qe_report_data);
	let pck_key: &[u8] = if spec.pck == REVOKED_PCK {
		include_bytes!("../pki/revoked-pck.key")
	} else {
		include_bytes!("../pki/pck.key")
	};

	let mut cert_data = pem(&[spec.pck, PCK_CA, ROOT_CA]);
	cert_data.resize(cert_data.len() + spec.padding, b'\n');

	let mut signature_data = Vec::new();
	signature_data.extend_from_slice(&sign(&ATTESTATION_KEY, &quote));
	signature_data.extend_from_slice(attestation_public);
	signature_data.extend_from_slice(&qe_report);
	signature_data.extend_from_slice(&sign(pck_key, &qe_report));
	signature_data.extend_from_slice(&32u16.to_le_bytes());
	signature_data.extend_from_slice(&auth_data);
	signature_data.extend_from_slice(&5u16.to_le_bytes()); // PEM PCK chain
	signature_data.extend_from_slice(&(cert_data.len() as u32).to_le_bytes());
	signature_data.extend_from_slice(&cert_data);

	quote.extend_from_slice(&(signature_data.len() as u32).to_le_bytes());
	quote.extend_from_slice(&signature_data);
	quote
}
