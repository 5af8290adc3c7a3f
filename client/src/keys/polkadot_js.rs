//! Accounts exported from Polkadot-JS (Apps, the extension, `@polkadot/keyring`) as an encrypted
//! JSON file: `{"encoded": …, "encoding": {"content": ["pkcs8", "sr25519"], "type": ["scrypt",
//! "xsalsa20-poly1305"], "version": "3"}, "address": …}`, opened with the password it was
//! exported with.
//!
//! `encoded` is base64 of: the scrypt salt (32 bytes), then its N, p and r (little-endian u32),
//! then the secretbox nonce (24 bytes) and the XSalsa20-Poly1305 box, sealed with the 32 bytes
//! scrypt derives from the password. The box holds a PKCS#8 envelope of the sr25519 key: a fixed
//! header, the 64-byte secret key (in the Ed25519-expanded form Polkadot-JS writes), a fixed
//! divider and the public key. The public key and the file's address must both be the secret's,
//! so that a file edited or mis-decoded is refused rather than signing as someone else.

use base64::Engine as _;
use crypto_secretbox::{aead::Aead, KeyInit, XSalsa20Poly1305};
use serde::Deserialize;
use sp_core::{crypto::Ss58Codec, sr25519, Pair};

use super::scrypt::{scrypt, Cost};

/// The start of the PKCS#8 envelope of an sr25519 key, as Polkadot-JS writes it.
const PKCS8_HEADER: [u8; 16] = [48, 83, 2, 1, 1, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32];
/// What separates the secret key from the public key in the envelope.
const PKCS8_DIVIDER: [u8; 5] = [161, 35, 3, 33, 0];
const SALT_LENGTH: usize = 32;
const NONCE_LENGTH: usize = 24;
const SECRET_LENGTH: usize = 64;
const PUBLIC_LENGTH: usize = 32;
/// The scrypt cost every Polkadot-JS export states (N = 2^15, p = 1, r = 8: 32 MiB), the only one
/// Polkadot-JS itself opens. A file asking any other is refused: its N, p and r would otherwise
/// let it ask for any memory and time.
const POLKADOT_JS_SCRYPT: (u32, u32, u32) = (1 << 15, 1, 8);

/// A Polkadot-JS JSON export.
#[derive(Deserialize)]
struct Export {
	encoded: String,
	encoding: Encoding,
	address: Option<String>,
}

#[derive(Deserialize)]
struct Encoding {
	content: Vec<String>,
	#[serde(rename = "type")]
	kind: Vec<String>,
	version: String,
}

/// Whether `text` looks like a JSON export rather than a secret URI.
pub(super) fn is_json_export(text: &str) -> bool {
	text.trim_start().starts_with('{')
}

/// The sr25519 key in the Polkadot-JS export `text`, opened with `password`.
pub(super) fn open_json_export(text: &str, password: &str) -> Result<sr25519::Pair, String> {
	let export: Export = serde_json::from_str(text)
		.map_err(|error| format!("not a Polkadot-JS account export: {error}"))?;
	let encoding = &export.encoding;
	if encoding.version != "3"
		|| encoding.kind != ["scrypt", "xsalsa20-poly1305"]
		|| encoding.content.first().map(String::as_str) != Some("pkcs8")
	{
		return Err(format!(
			"an export encoded as {:?} {:?} version {} is not supported: export it again with \
			 a current Polkadot-JS (scrypt, xsalsa20-poly1305, version 3)",
			encoding.content, encoding.kind, encoding.version
		));
	}
	if encoding.content.get(1).map(String::as_str) != Some("sr25519") {
		return Err(format!(
			"the exported key is {:?}: Commons accounts are sr25519",
			encoding.content.get(1)
		));
	}
	let encoded = base64::engine::general_purpose::STANDARD
		.decode(export.encoded.trim())
		.map_err(|error| format!("the export's `encoded` is not base64: {error}"))?;
	let envelope = decrypt(&encoded, password)?;
	let pair = key_from_envelope(&envelope)?;
	if let Some(address) = &export.address {
		let named = sr25519::Public::from_ss58check(address)
			.map_err(|error| format!("the export's address {address} is not SS58: {error:?}"))?;
		if named != pair.public() {
			return Err(format!("the export's key is not that of its address {address}"));
		}
	}
	Ok(pair)
}

/// The plaintext of `encoded`: scrypt parameters, nonce and box, opened with `password`.
fn decrypt(encoded: &[u8], password: &str) -> Result<Vec<u8>, String> {
	let short = || "the export's `encoded` is too short".to_string();
	let (salt, rest) = encoded.split_at_checked(SALT_LENGTH).ok_or_else(short)?;
	let (parameters, rest) = rest.split_at_checked(12).ok_or_else(short)?;
	let (nonce, sealed) = rest.split_at_checked(NONCE_LENGTH).ok_or_else(short)?;
	let word = |at: usize| u32::from_le_bytes(parameters[at..at + 4].try_into().expect("4 bytes"));
	let (n, p, r) = (word(0), word(4), word(8));
	if (n, p, r) != POLKADOT_JS_SCRYPT {
		return Err(format!(
			"the export's scrypt parameters N={n} p={p} r={r} are not Polkadot-JS's (N=32768 \
			 p=1 r=8)"
		));
	}
	let mut key = [0u8; 32];
	scrypt(password.as_bytes(), salt, &Cost { n, r, p }, &mut key);
	XSalsa20Poly1305::new(&key.into())
		.decrypt(nonce.into(), sealed)
		.map_err(|_| "wrong password, or the export is damaged".to_string())
}

/// The key in a PKCS#8 envelope, refused unless its public key is the secret's.
fn key_from_envelope(envelope: &[u8]) -> Result<sr25519::Pair, String> {
	let bad = || "the export's key envelope is not an sr25519 PKCS#8 one".to_string();
	let rest = envelope.strip_prefix(&PKCS8_HEADER[..]).ok_or_else(bad)?;
	let (secret, rest) = rest.split_at_checked(SECRET_LENGTH).ok_or_else(bad)?;
	let public = rest.strip_prefix(&PKCS8_DIVIDER[..]).ok_or_else(bad)?;
	if public.len() != PUBLIC_LENGTH {
		return Err(bad());
	}
	let secret = schnorrkel::SecretKey::from_ed25519_bytes(secret).map_err(|_| bad())?;
	let pair = sr25519::Pair::from(secret);
	if pair.public().0[..] != *public {
		return Err("the export's public key is not its secret key's".into());
	}
	Ok(pair)
}

#[cfg(test)]
pub(super) mod tests {
	use super::*;

	/// An account exported from Polkadot-JS with the password `111`: a public test vector
	/// (scrypt N = 2^15, p = 1, r = 8).
	pub(crate) const EXPORT: &str = r#"{
		"encoded": "jC9MOH7OPYbHdJtiOWFW0lpMUCFO4nASKjzqHvXpEiYAgAAAAQAAAAgAAACm2Dm/CZ98R1uy34lMj7tr9+i3ERCFoeCSdNwOScsyDkvLwhVGv6qxOzmdiR7vzgRgEizMQbq17k0C1Tk59WyDnf9OfaGQTenQQpnFPiXxcmDa6TXQvF7Eq8VYw009ANLmDTIQ125JdQX6edYY85ZFpLiOltXiad44mhS1mC8OSCcOHsViVrk3Lk0eMsClYS1SUzv3QDCoHChFu6Za",
		"encoding": {"content": ["pkcs8", "sr25519"], "type": ["scrypt", "xsalsa20-poly1305"], "version": "3"},
		"address": "5Gc8bR5p9JeCY3dpCvdonRWn79UxhKycDb8aC7xfqQPqWhr8",
		"meta": {"name": "test"}
	}"#;
	pub(crate) const ADDRESS: &str = "5Gc8bR5p9JeCY3dpCvdonRWn79UxhKycDb8aC7xfqQPqWhr8";

	#[test]
	fn a_polkadot_js_export_opens_with_its_password_and_signs_as_its_address() {
		assert!(is_json_export(EXPORT));
		let pair = open_json_export(EXPORT, "111").unwrap();
		assert_eq!(pair.public().to_ss58check(), ADDRESS);
		let signature = pair.sign(b"commons");
		assert!(sr25519::Pair::verify(&signature, b"commons", &pair.public()));
	}

	#[test]
	fn a_wrong_password_or_a_changed_export_is_refused() {
		assert!(open_json_export(EXPORT, "112").err().unwrap().contains("wrong password"));
		let other_address =
			EXPORT.replace(ADDRESS, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
		let error = open_json_export(&other_address, "111").err().unwrap();
		assert!(error.contains("not that of its address"), "{error}");
		let ed25519 = EXPORT.replace(r#""pkcs8", "sr25519""#, r#""pkcs8", "ed25519""#);
		assert!(open_json_export(&ed25519, "111").err().unwrap().contains("sr25519"));
		let old = EXPORT.replace(r#""version": "3""#, r#""version": "2""#);
		assert!(open_json_export(&old, "111").err().unwrap().contains("not supported"));
		let truncated = EXPORT.replace("jC9MOH7OPYbHdJti", "");
		assert!(open_json_export(&truncated, "111").is_err());
	}

	#[test]
	fn scrypt_parameters_other_than_polkadot_js_are_refused_before_any_work() {
		let mut encoded = base64::engine::general_purpose::STANDARD
			.decode(serde_json::from_str::<Export>(EXPORT).unwrap().encoded)
			.unwrap();
		// N = 2^31, r = 2^26: 128·r·N is 2^64, which a careless bound wraps to nothing.
		encoded[SALT_LENGTH..SALT_LENGTH + 4].copy_from_slice(&(1u32 << 31).to_le_bytes());
		encoded[SALT_LENGTH + 8..SALT_LENGTH + 12].copy_from_slice(&(1u32 << 26).to_le_bytes());
		assert!(decrypt(&encoded, "111").unwrap_err().contains("not Polkadot-JS's"));
		encoded[SALT_LENGTH..SALT_LENGTH + 4].copy_from_slice(&2u32.to_le_bytes());
		encoded[SALT_LENGTH + 4..SALT_LENGTH + 8].copy_from_slice(&(1u32 << 24).to_le_bytes());
		encoded[SALT_LENGTH + 8..SALT_LENGTH + 12].copy_from_slice(&1u32.to_le_bytes());
		assert!(decrypt(&encoded, "111").unwrap_err().contains("not Polkadot-JS's"));
	}
}
