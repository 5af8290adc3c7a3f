//! Intel's PKI: certificates, chains to the root CA, and revocation lists. Every signature in it
//! is ECDSA P-256 with SHA-256.

use crate::{Error, Result};
use alloc::vec::Vec;
use der::{
	asn1::{AnyRef, ObjectIdentifier, OctetStringRef},
	Decode, Encode, Header, Reader, SliceReader,
};
use p256::ecdsa::{signature::Verifier, Signature, VerifyingKey};
use x509_cert::{crl::CertificateList, ext::pkix::BasicConstraints, name::Name, Certificate};

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// Intel's chains are leaf, CA, root; anything longer is refused before any signature work.
const MAX_CHAIN_LEN: usize = 5;

/// The common name of every PCK certificate (Intel QVL's `PCK_SUBJECT`): the PCK CAs' other
/// certificates are not a platform's key.
pub const PCK_COMMON_NAME: &[u8] = b"Intel SGX PCK Certificate";
/// The common name of the certificate that signs TCB info and QE identities (Intel QVL's
/// `TCB_SUBJECT`): the root's other certificates (the PCK CAs) must not grade platforms.
pub const TCB_SIGNER_COMMON_NAME: &[u8] = b"Intel SGX TCB Signing";

/// The two CAs that issue PCK certificates, each with its own revocation list.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
)]
pub enum PckCa {
	/// "Intel SGX PCK Platform CA": issues the PCK certificates of multi-package platforms.
	Platform,
	/// "Intel SGX PCK Processor CA": issues the PCK certificates of single-package platforms.
	Processor,
}

impl PckCa {
	/// Which PCK CA `cert` is, by its common name.
	pub fn of(cert: &Cert) -> Option<Self> {
		match cert.common_name()? {
			b"Intel SGX PCK Platform CA" => Some(Self::Platform),
			b"Intel SGX PCK Processor CA" => Some(Self::Processor),
			_ => None,
		}
	}
}

fn common_name(name: &Name) -> Option<&[u8]> {
	name.0
		.iter()
		.flat_map(|rdn| rdn.0.iter())
		.find(|attribute| attribute.oid == COMMON_NAME)
		.map(|attribute| attribute.value.value())
}

/// A parsed certificate with the exact bytes its signature covers.
#[derive(Clone, Debug)]
pub struct Cert {
	/// The certificate, DER, as given.
	pub der: Vec<u8>,
	/// The certificate, parsed.
	pub parsed: Certificate,
	tbs: Vec<u8>,
}

impl Cert {
	/// Parses a DER certificate. Its signature is checked by [`verify_chain`].
	pub fn from_der(der: &[u8]) -> Result<Self> {
		let parsed = Certificate::from_der(der).map_err(|_| Error::CertificateMalformed)?;
		let tbs = first_element(der).ok_or(Error::CertificateMalformed)?.to_vec();
		Ok(Self { der: der.to_vec(), parsed, tbs })
	}

	/// The certificate's P-256 public key.
	pub fn key(&self) -> Result<VerifyingKey> {
		let spki = &self.parsed.tbs_certificate.subject_public_key_info;
		VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
			.map_err(|_| Error::CertificateMalformed)
	}

	/// The serial number, as revocation lists name it.
	pub fn serial(&self) -> &[u8] {
		self.parsed.tbs_certificate.serial_number.as_bytes()
	}

	/// The value of the subject's (first) common name, as encoded.
	pub fn common_name(&self) -> Option<&[u8]> {
		common_name(&self.parsed.tbs_certificate.subject)
	}

	/// The end of its validity (`notAfter`), Unix seconds.
	pub fn not_after(&self) -> u64 {
		self.parsed.tbs_certificate.validity.not_after.to_unix_duration().as_secs()
	}

	pub(crate) fn valid_at(&self, now: u64) -> bool {
		let validity = &self.parsed.tbs_certificate.validity;
		validity.not_before.to_unix_duration().as_secs() <= now && now <= self.not_after()
	}

	/// Whether this certificate names `issuer` as its issuer and `issuer` is a CA: all of
	/// [`Cert::issued_by`] but the signature.
	fn named_by(&self, issuer: &Cert) -> Result<()> {
		if self.parsed.tbs_certificate.issuer != issuer.parsed.tbs_certificate.subject
			|| !issuer.is_ca()
		{
			return Err(Error::CertificateChainInvalid);
		}
		Ok(())
	}

	fn is_ca(&self) -> bool {
		self.parsed
			.tbs_certificate
			.extensions
			.iter()
			.flatten()
			.find(|extension| extension.extn_id == BASIC_CONSTRAINTS)
			.and_then(|extension| BasicConstraints::from_der(extension.extn_value.as_bytes()).ok())
			.is_some_and(|constraints| constraints.ca)
	}

	/// Whether `issuer` signed this certificate: names chain, issuer is a CA, signature verifies.
	fn issued_by(&self, issuer: &Cert) -> Result<()> {
		self.named_by(issuer)?;
		if self.parsed.signature_algorithm.oid != ECDSA_WITH_SHA256 {
			return Err(Error::CertificateSignatureInvalid);
		}
		let signature = self.parsed.signature.as_bytes().ok_or(Error::CertificateMalformed)?;
		verify_der_signature(&issuer.key()?, &self.tbs, signature)
			.map_err(|_| Error::CertificateSignatureInvalid)
	}
}

/// SHA-256 of a certificate's DER: what identifies one verified before.
pub fn certificate_digest(cert: &Cert) -> [u8; 32] {
	use sha2::{Digest, Sha256};
	Sha256::digest(&cert.der).into()
}

/// The raw bytes of the first element inside the outer SEQUENCE of `der`: the part of a
/// certificate or CRL its signature covers.
fn first_element(der: &[u8]) -> Option<&[u8]> {
	let mut reader = SliceReader::new(der).ok()?;
	Header::decode(&mut reader).ok()?;
	reader.tlv_bytes().ok()
}

fn verify_der_signature(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> Result<()> {
	let signature = Signature::from_der(signature).map_err(|_| Error::CertificateMalformed)?;
	key.verify(message, &signature).map_err(|_| Error::CertificateSignatureInvalid)
}

/// Verifies a raw `r ‖ s` ECDSA P-256 signature over `message`.
pub fn verify_raw_signature(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
	Signature::from_slice(signature).is_ok_and(|signature| key.verify(message, &signature).is_ok())
}

/// The DER blocks of a PEM certificate chain, in order. The grammar is the `pem` crate's,
/// which Intel's collateral tooling and `dcap-qvl` use, so both accept the same chains: text
/// around blocks is ignored; a block is `-----BEGIN L-----`, optional `Key: value` header lines
/// ended by a blank line, base64 with any whitespace, `-----END L-----`, with the same label;
/// a block left unterminated ends the chain. Certificates are parsed by whoever uses them: a
/// chain's copy of the root is never used (the chain's own root is).
pub fn pem_blocks(pem: &[u8]) -> Result<Vec<Vec<u8>>> {
	use base64ct::{Base64, Encoding};
	let mut blocks = Vec::new();
	let mut rest = pem;
	while !rest.is_empty() {
		let Some(block) = next_pem_block(rest) else { break };
		rest = block.rest;
		if block.label.is_empty() || block.label != block.end_label {
			return Err(Error::CertificateMalformed);
		}
		let utf8 = |bytes| core::str::from_utf8(bytes).map_err(|_| Error::CertificateMalformed);
		utf8(block.label)?;
		if !utf8(block.headers)?.lines().all(|line| line.contains(':')) {
			return Err(Error::CertificateMalformed);
		}
		let base64: alloc::string::String =
			utf8(block.data)?.chars().filter(|c| !c.is_whitespace()).collect();
		if blocks.len() == MAX_CHAIN_LEN {
			return Err(Error::CertificateChainInvalid);
		}
		blocks.push(Base64::decode_vec(&base64).map_err(|_| Error::CertificateMalformed)?);
	}
	Ok(blocks)
}

struct PemBlock<'a> {
	label: &'a [u8],
	headers: &'a [u8],
	data: &'a [u8],
	end_label: &'a [u8],
	rest: &'a [u8],
}

fn next_pem_block(input: &[u8]) -> Option<PemBlock<'_>> {
	let (_, input) = split_at_marker(input, b"-----BEGIN ")?;
	let (label, input) = split_at_marker(input, b"-----")?;
	let (payload, input) = split_at_marker(skip_pem_whitespace(input), b"-----END ")?;
	let (end_label, input) = split_at_marker(input, b"-----")?;
	let (headers, data) = split_at_marker(payload, b"\n\n")
		.or_else(|| split_at_marker(payload, b"\r\n\r\n"))
		.unwrap_or((&[], payload));
	Some(PemBlock { label, headers, data, end_label, rest: skip_pem_whitespace(input) })
}

fn skip_pem_whitespace(input: &[u8]) -> &[u8] {
	let skip = input.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
	&input[skip..]
}

/// The bytes before `marker` and after it. The scan restarts its match at the byte after a
/// mismatch without re-reading it, as the `pem` crate's does (so `------BEGIN ` with six dashes
/// is not a block there, and must not be one here).
fn split_at_marker<'a>(input: &'a [u8], marker: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
	let mut matched = 0;
	let mut index = 0;
	while input.len() - index >= marker.len() - matched {
		matched = if input[index] == marker[matched] { matched + 1 } else { 0 };
		index += 1;
		if matched == marker.len() {
			return Some((&input[..index - matched], &input[index..]));
		}
	}
	None
}

/// The first `count` certificates of a PEM chain, parsed.
pub fn leading_certs(pem: &[u8], count: usize) -> Result<Vec<Cert>> {
	let blocks = pem_blocks(pem)?;
	if blocks.len() < count {
		return Err(Error::CertificateChainInvalid);
	}
	blocks.iter().take(count).map(|der| Cert::from_der(der)).collect()
}

/// A certificate revocation list as given: who issued it, when, which serials it revokes, and
/// the signature that says so. [`Crl::verified_by`] turns it into the [`Revocations`] the
/// verifier uses.
#[derive(Clone, Debug)]
pub struct Crl {
	/// The list, DER, as given.
	pub der: Vec<u8>,
	/// The name of the CA that issued it.
	pub issuer: Name,
	revocations: Revocations,
	tbs: Vec<u8>,
	signature: Vec<u8>,
	signature_algorithm: ObjectIdentifier,
}

impl Crl {
	/// Parses a DER revocation list. Its signature is checked by [`Crl::verified_by`].
	pub fn from_der(der: &[u8]) -> Result<Self> {
		let list = CertificateList::from_der(der).map_err(|_| Error::CrlMalformed)?;
		let tbs = first_element(der).ok_or(Error::CrlMalformed)?.to_vec();
		let signature = list.signature.as_bytes().ok_or(Error::CrlMalformed)?.to_vec();
		let list_tbs = list.tbs_cert_list;
		Ok(Self {
			der: der.to_vec(),
			revocations: Revocations {
				// Known once the signature is checked ([`Crl::verified_by`]).
				issuer: [0; 32],
				this_update: list_tbs.this_update.to_unix_duration().as_secs(),
				next_update: list_tbs.next_update.map(|time| time.to_unix_duration().as_secs()),
				revoked: list_tbs
					.revoked_certificates
					.unwrap_or_default()
					.into_iter()
					.map(|entry| entry.serial_number.as_bytes().to_vec())
					.collect(),
			},
			issuer: list_tbs.issuer,
			tbs,
			signature,
			signature_algorithm: list.signature_algorithm.oid,
		})
	}

	/// What the list says, once it is shown to be `issuer`'s and signed by it.
	pub fn verified_by(self, issuer: &Cert) -> Result<Revocations> {
		if self.issuer != issuer.parsed.tbs_certificate.subject {
			return Err(Error::CrlSignatureInvalid);
		}
		if self.signature_algorithm != ECDSA_WITH_SHA256 {
			return Err(Error::CrlSignatureInvalid);
		}
		verify_der_signature(&issuer.key()?, &self.tbs, &self.signature)
			.map_err(|_| Error::CrlSignatureInvalid)?;
		Ok(Revocations { issuer: issuer_id(issuer)?, ..self.revocations })
	}

	/// What the list says, its signature not checked, for `issuer` (an [`issuer_id`]): for a
	/// list whose signature was verified by `issuer` before (such as a stored copy being
	/// moved to a new layout), or to read its dates.
	pub fn unverified_revocations(self, issuer: [u8; 32]) -> Revocations {
		Revocations { issuer, ..self.revocations }
	}
}

/// What identifies a CA as the issuer of revocation lists: SHA-256 over its subject name and
/// its public key (DER), the two things a list's issuer name and signature tie it to. A CA
/// certificate reissued with the same name and key issues the same lists.
pub fn issuer_id(ca: &Cert) -> Result<[u8; 32]> {
	use sha2::{Digest, Sha256};
	let tbs = &ca.parsed.tbs_certificate;
	let subject = tbs.subject.to_der().map_err(|_| Error::CertificateMalformed)?;
	let key = tbs.subject_public_key_info.to_der().map_err(|_| Error::CertificateMalformed)?;
	let mut digest = Sha256::new();
	for part in [&subject, &key] {
		digest.update((part.len() as u64).to_le_bytes());
		digest.update(part);
	}
	Ok(digest.finalize().into())
}

/// What a revocation list whose signature was verified says: when it was issued, until when it
/// may be relied on, and which serial numbers its CA revoked. Checking a certificate against it
/// verifies no signature: whoever holds one verified its list once ([`Crl::verified_by`]).
#[derive(Clone, Debug, PartialEq, Eq, codec::Encode, codec::Decode, scale_info::TypeInfo)]
pub struct Revocations {
	/// The CA whose signature it carries ([`issuer_id`]): it says nothing of another's
	/// certificates.
	pub issuer: [u8; 32],
	/// Its `thisUpdate`, Unix seconds.
	pub this_update: u64,
	/// Its `nextUpdate`, Unix seconds, if it has one.
	pub next_update: Option<u64>,
	/// The serial numbers it revokes, as [`Cert::serial`] gives them.
	pub revoked: Vec<Vec<u8>>,
}

impl Revocations {
	/// Whether the list may be relied on at `now`: past its issue and before its next update.
	pub fn current_at(&self, now: u64) -> bool {
		self.this_update <= now && self.next_update.is_none_or(|next| now <= next)
	}

	/// Whether `cert`'s serial number is on the list. The issuer is not compared: the caller
	/// picks the list of `cert`'s issuer.
	pub fn revokes(&self, cert: &Cert) -> bool {
		self.revokes_serial(cert.serial())
	}

	/// Whether the serial number `serial` (as [`Cert::serial`] gives it) is on the list: for a
	/// certificate judged again after it was verified, without the certificate.
	pub fn revokes_serial(&self, serial: &[u8]) -> bool {
		self.revoked.iter().any(|revoked| revoked.as_slice() == serial)
	}

	/// This list, if `issuer` issued it: refused as a list not signed by it otherwise.
	fn of(&self, issuer: &Cert) -> Result<&Self> {
		if self.issuer != issuer_id(issuer)? {
			return Err(Error::CrlSignatureInvalid);
		}
		Ok(self)
	}
}

/// Checks that `certs` (leaf first, then at most one CA) chain to `root` at `now`: each is
/// issued by the next (the last by the root) and valid, and none is revoked: the one the root
/// issued by `root_crl`, the leaf below a CA by `ca_crl(ca)`.
pub fn verify_chain(
	certs: &[Cert],
	root: &Cert,
	root_crl: &Revocations,
	now: u64,
	ca_crl: impl FnOnce(&Cert) -> Result<Revocations>,
) -> Result<()> {
	verify_issuers(certs, root, certs.len())?;
	check_standing(certs, root, root_crl, now, ca_crl)
}

/// Checks that the first `signed` of `certs` (leaf first, then at most one CA; the last is
/// the root's) were issued by the next, or the last by `root`: names chain, each issuer is a
/// CA, and its signature verifies. The others' issuers are only named: a caller passes fewer
/// than all only for certificates whose exact bytes it verified before under the same root.
pub fn verify_issuers(certs: &[Cert], root: &Cert, signed: usize) -> Result<()> {
	if certs.is_empty() || certs.len() > 2 {
		return Err(Error::CertificateChainInvalid);
	}
	for (position, cert) in certs.iter().enumerate() {
		let issuer = certs.get(position + 1).unwrap_or(root);
		let outcome =
			if position < signed { cert.issued_by(issuer) } else { cert.named_by(issuer) };
		outcome.map_err(|error| match error {
			Error::CertificateChainInvalid if position + 1 == certs.len() => Error::UntrustedRoot,
			other => other,
		})?;
	}
	Ok(())
}

/// Checks that `certs` (leaf first, then at most one CA, issued by `root`) stand at `now`:
/// every one and the root valid, the root's lists current, none revoked: the one the root
/// issued by `root_crl`, the leaf below a CA by `ca_crl(ca)`. No signature is verified: the
/// lists' were when they were accepted, the certificates' by [`verify_issuers`]. Each list
/// must be its issuer's ([`issuer_id`]).
pub fn check_standing(
	certs: &[Cert],
	root: &Cert,
	root_crl: &Revocations,
	now: u64,
	ca_crl: impl FnOnce(&Cert) -> Result<Revocations>,
) -> Result<()> {
	let (top, _) = certs.split_last().ok_or(Error::CertificateChainInvalid)?;
	if certs.iter().chain([root]).any(|cert| !cert.valid_at(now)) {
		return Err(Error::CertificateExpired);
	}
	let root_crl = root_crl.of(root)?;
	if !root_crl.current_at(now) {
		return Err(Error::CrlExpired);
	}
	if root_crl.revokes(root) || root_crl.revokes(top) {
		return Err(Error::CertificateRevoked);
	}
	if let [leaf, ca] = certs {
		let crl = ca_crl(ca)?;
		let crl = crl.of(ca)?;
		if !crl.current_at(now) {
			return Err(Error::CrlExpired);
		}
		if crl.revokes(leaf) {
			return Err(Error::CertificateRevoked);
		}
	}
	Ok(())
}

/// The value of the extension `oid` of `cert`, if present.
pub(crate) fn extension<'c>(cert: &'c Cert, oid: &ObjectIdentifier) -> Option<&'c [u8]> {
	cert.parsed
		.tbs_certificate
		.extensions
		.iter()
		.flatten()
		.find(|extension| &extension.extn_id == oid)
		.map(|extension| extension.extn_value.as_bytes())
}

const SGX_EXTENSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1");
const SGX_TCB: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2");
const SGX_PCE_SVN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.17");
const SGX_CPU_SVN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.18");
const SGX_PCE_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.3");
const SGX_FMSPC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.4");

/// What a PCK certificate says about its platform.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
)]
pub struct Platform {
	/// FMSPC: the platform family, which selects its TCB info.
	pub fmspc: [u8; 6],
	/// CPUSVN: the SVNs of the platform's 16 SGX TCB components, as certified.
	pub cpu_svn: [u8; 16],
	/// PCESVN: the security version of the Provisioning Certification Enclave.
	pub pce_svn: u16,
	/// PCEID: which Provisioning Certification Enclave certified the key, as TCB info names it
	/// (`pceId`).
	pub pce_id: [u8; 2],
}

/// Reads the platform's family, TCB and PCE from a PCK certificate's Intel SGX extension: a
/// SEQUENCE of (OID, value) pairs, the TCB one itself such a SEQUENCE.
pub fn platform_of(pck: &Cert) -> Result<Platform> {
	let extension = extension(pck, &SGX_EXTENSION).ok_or(Error::PckExtensionMalformed)?;
	let fields = oid_values(extension).ok_or(Error::PckExtensionMalformed)?;
	fn field<'v>(
		oid: &ObjectIdentifier,
		fields: &[(ObjectIdentifier, AnyRef<'v>)],
	) -> Option<AnyRef<'v>> {
		fields.iter().find(|(id, _)| id == oid).map(|(_, value)| *value)
	}
	let parse = || -> Option<Platform> {
		let tcb_der = field(&SGX_TCB, &fields)?.to_der().ok()?;
		let tcb = oid_values(&tcb_der)?;
		let cpu_svn = field(&SGX_CPU_SVN, &tcb)?.decode_as::<OctetStringRef>().ok()?;
		let fmspc = field(&SGX_FMSPC, &fields)?.decode_as::<OctetStringRef>().ok()?;
		let pce_id = field(&SGX_PCE_ID, &fields)?.decode_as::<OctetStringRef>().ok()?;
		Some(Platform {
			fmspc: fmspc.as_bytes().try_into().ok()?,
			cpu_svn: cpu_svn.as_bytes().try_into().ok()?,
			pce_svn: field(&SGX_PCE_SVN, &tcb)?.decode_as::<u16>().ok()?,
			pce_id: pce_id.as_bytes().try_into().ok()?,
		})
	};
	parse().ok_or(Error::PckExtensionMalformed)
}

/// The (OID, value) pairs of a DER SEQUENCE OF SEQUENCE { OID, ANY }.
fn oid_values(der: &[u8]) -> Option<Vec<(ObjectIdentifier, AnyRef<'_>)>> {
	let outer = AnyRef::from_der(der).ok()?;
	let mut reader = SliceReader::new(outer.value()).ok()?;
	let mut pairs = Vec::new();
	while !reader.is_finished() {
		let pair = AnyRef::decode(&mut reader).ok()?;
		let mut inner = SliceReader::new(pair.value()).ok()?;
		let oid = ObjectIdentifier::decode(&mut inner).ok()?;
		let value = AnyRef::decode(&mut inner).ok()?;
		pairs.push((oid, value));
	}
	Some(pairs)
}
