//! Confidential datasets: how a dataset is encrypted for storage, and how its key reaches one
//! enclave for one task and nobody else; and confidential results, sealed by the enclave to the
//! task's beneficiary.
//!
//! - **Stored dataset**: `nonce ‖ ChaCha20-Poly1305(dataset key, nonce, data)` with associated
//!   data [`domains::DATASET`] and a random 96-bit nonce. The registered checksum is the sha256 of
//!   this whole file, so anyone can check a download without the key.
//! - **Sealed key** ([`SealedDatasetKey`]): RFC 9180 HPKE in base mode with the suite
//!   DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305: one single-shot seal of the
//!   32-byte dataset key to the enclave's registered encryption key, with info
//!   [`domains::DATASET_KEY_SEAL`] ‖ task id and associated data the task id (its 32 bytes).
//!   `ephemeral` is HPKE's `enc`, and `ciphertext` its output (the sealed key and the 16-byte
//!   tag), so it interoperates with any RFC 9180 implementation: given the enclave's secret, that
//!   info and that associated data, any of them opens it. A sealed key opens only in the enclave
//!   holding the X25519 secret, and only for the task it was sealed for. Keys are never sealed to
//!   a low-order X25519 key ([`is_small_order_x25519`]), whose key agreement anyone can compute.
//!
//! Confidential results: how a TEE task's result reaches its beneficiary and nobody else.
//!
//! - **Result key** ([`ResultKey`]): the beneficiary's X25519 key pair; its public half is
//!   registered on chain (`marketplace.setResultEncryptionKey`), its secret stays in a key file.
//! - **Sealed result** ([`seal_result`], [`open_result`]): `enc (32 bytes) ‖ HPKE ciphertext`, an
//!   RFC 9180 single-shot base-mode seal in the same suite as dataset keys, to the beneficiary's
//!   registered key, with info [`domains::RESULT_SEAL`] ‖ task id and the task id as associated
//!   data. What is sealed is the whole output directory, packed ([`pack_output`]): the SCALE
//!   encoding of `Vec<(path, content)>`, each path relative to the directory (UTF-8, `/` between
//!   its parts), in the order the digest takes them. The enclave serves it as the one file
//!   [`SEALED_RESULT_FILE`] and no file of the output in the clear ([`seal_output`]).
//! - **Digest**: the digest on chain is of the output in the clear ([`crate::digest`]), not of
//!   what is sealed: each sealing draws a fresh ephemeral key, so replicated workers' sealed
//!   results differ while their outputs agree. The beneficiary opens the sealed result
//!   ([`open_output`]) and checks the digest of what it unpacked. The digest is public, so a
//!   result from few possible values can be confirmed by anyone who guesses it.

use std::{
	fs,
	path::{Component, Path},
};

use chacha20poly1305::{
	aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
	ChaCha20Poly1305, Key, Nonce,
};
use codec::{DecodeAll, Encode};
use commons_primitives::{domains, is_small_order_x25519, SealedDatasetKey, X25519PublicKey};
use hpke::{Deserializable, HpkeError, Kem, OpModeR, OpModeS, Serializable};
use pallet_contribution::TaskId;
use rand_core::{CryptoRng, RngCore};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::ClientError;

/// The bytes of a stored dataset before its ciphertext: the nonce.
const NONCE_LENGTH: usize = 12;

/// A dataset's symmetric key.
#[derive(Clone, PartialEq, Eq)]
pub struct DatasetKey([u8; 32]);

impl core::fmt::Debug for DatasetKey {
	fn fmt(&self, formatter: &mut core::fmt::Formatter) -> core::fmt::Result {
		formatter.write_str("DatasetKey(..)")
	}
}

impl DatasetKey {
	/// A fresh random key.
	pub fn generate() -> Self {
		Self(ChaCha20Poly1305::generate_key(&mut OsRng).into())
	}

	/// Reads a key file: the key in hex (`0x…`), one line.
	pub fn load(path: &Path) -> Result<Self, ClientError> {
		read_key_file(path).map(Self)
	}

	/// Writes a new key file readable by its owner only; refuses to replace an existing one,
	/// whose loss would make its dataset unreadable.
	pub fn save(&self, path: &Path) -> Result<(), ClientError> {
		create_key_file(path, &self.0)
	}

	fn cipher(&self) -> ChaCha20Poly1305 {
		ChaCha20Poly1305::new(Key::from_slice(&self.0))
	}
}

/// The 32-byte key in the key file `path`: in hex (`0x…`), one line.
fn read_key_file(path: &Path) -> Result<[u8; 32], ClientError> {
	let text = fs::read_to_string(path).map_err(|error| ClientError::Io {
		action: format!("cannot read the key file {}", path.display()),
		error,
	})?;
	let bad = |message: String| ClientError::Decode {
		what: format!("the key file {}", path.display()),
		message,
	};
	let bytes = sp_core::bytes::from_hex(text.trim())
		.map_err(|error| bad(format!("not a hex key: {error}")))?;
	bytes.try_into().map_err(|_| bad("it does not hold a 32-byte key".into()))
}

/// Writes `key` to a new key file `path`, readable by its owner only. An existing file is never
/// replaced: it may hold the only copy of a key that something is encrypted to.
fn create_key_file(path: &Path, key: &[u8; 32]) -> Result<(), ClientError> {
	use std::{io::Write, os::unix::fs::OpenOptionsExt};
	let mut file = fs::OpenOptions::new()
		.write(true)
		.create_new(true)
		.mode(0o600)
		.open(path)
		.map_err(|error| ClientError::Io {
			action: format!("cannot create the key file {}", path.display()),
			error,
		})?;
	writeln!(file, "{}", sp_core::bytes::to_hex(key, false)).map_err(|error| ClientError::Io {
		action: format!("cannot write the key file {}", path.display()),
		error,
	})
}

/// `data` encrypted with `key`, as it is stored and registered.
pub fn encrypt_dataset(key: &DatasetKey, data: &[u8]) -> Result<Vec<u8>, ClientError> {
	let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
	let ciphertext = key
		.cipher()
		.encrypt(&nonce, Payload { msg: data, aad: domains::DATASET })
		.map_err(|_| ClientError::Other("the dataset is too large to encrypt".into()))?;
	Ok([nonce.as_slice(), &ciphertext].concat())
}

/// The data of a stored dataset, if `key` is its key and the file is intact.
pub fn decrypt_dataset(key: &DatasetKey, stored: &[u8]) -> Result<Vec<u8>, ClientError> {
	if stored.len() < NONCE_LENGTH {
		return Err(ClientError::Other("the encrypted dataset is shorter than its nonce".into()));
	}
	let (nonce, ciphertext) = stored.split_at(NONCE_LENGTH);
	key.cipher()
		.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: domains::DATASET })
		.map_err(|_| {
			ClientError::Other("the dataset does not decrypt with the released key".into())
		})
}

/// The KEM of the HPKE suite dataset keys are sealed with (RFC 9180 §7.1): DHKEM(X25519,
/// HKDF-SHA256).
type SealKem = hpke::kem::X25519HkdfSha256;
/// The suite's KDF: HKDF-SHA256.
type SealKdf = hpke::kdf::HkdfSha256;
/// The suite's AEAD: ChaCha20-Poly1305.
type SealAead = hpke::aead::ChaCha20Poly1305;

/// The error for `what` (a dataset key, a result) that would be sealed to the low-order key
/// `recipient`.
fn low_order_recipient(what: &str, recipient: &X25519PublicKey) -> ClientError {
	ClientError::Other(format!(
		"refusing to seal {what} to {}: it is a low-order X25519 key, whose key agreement is \
		 all zeros, so anyone could open what is sealed to it",
		sp_core::bytes::to_hex(recipient, false)
	))
}

/// The HPKE `info` of a dataset key sealed for `task`: [`domains::DATASET_KEY_SEAL`] ‖ task id.
fn seal_info(task: &TaskId) -> Vec<u8> {
	[domains::DATASET_KEY_SEAL, task.as_bytes()].concat()
}

/// RFC 9180 single-shot base-mode seal of `plaintext` to `recipient` with the dataset keys'
/// suite, drawing the ephemeral key from `rng`: HPKE's `enc` and ciphertext.
fn hpke_seal<R: CryptoRng + RngCore>(
	recipient: &X25519PublicKey,
	info: &[u8],
	aad: &[u8],
	plaintext: &[u8],
	rng: &mut R,
) -> Result<(X25519PublicKey, Vec<u8>), HpkeError> {
	let recipient = <<SealKem as Kem>::PublicKey as Deserializable>::from_bytes(recipient)?;
	let (enc, ciphertext) = hpke::single_shot_seal::<SealAead, SealKdf, SealKem, R>(
		&OpModeS::Base,
		&recipient,
		info,
		plaintext,
		aad,
		rng,
	)?;
	let enc: X25519PublicKey = enc.to_bytes().into();
	Ok((enc, ciphertext))
}

/// RFC 9180 single-shot base-mode open of `ciphertext`, sent with `enc`, by the holder of the
/// X25519 `secret`, with the dataset keys' suite.
fn hpke_open(
	secret: &[u8; 32],
	enc: &X25519PublicKey,
	info: &[u8],
	aad: &[u8],
	ciphertext: &[u8],
) -> Result<Vec<u8>, HpkeError> {
	let secret = <<SealKem as Kem>::PrivateKey as Deserializable>::from_bytes(secret)?;
	let enc = <<SealKem as Kem>::EncappedKey as Deserializable>::from_bytes(enc)?;
	hpke::single_shot_open::<SealAead, SealKdf, SealKem>(
		&OpModeR::Base,
		&secret,
		&enc,
		info,
		ciphertext,
		aad,
	)
}

/// `key` sealed to the enclave whose encryption key is `recipient`, for `task`: an RFC 9180
/// HPKE base-mode seal with a fresh ephemeral key, in the suite and with the info and associated
/// data the module's documentation gives.
///
/// Refuses a low-order `recipient` ([`is_small_order_x25519`]).
pub fn seal_dataset_key(
	key: &DatasetKey,
	recipient: &X25519PublicKey,
	task: &TaskId,
) -> Result<SealedDatasetKey, ClientError> {
	// hpke refuses an all-zero agreement itself (RFC 9180 §7.1.4); checking first names the
	// reason instead of hpke's bare "Encapsulation failed".
	if is_small_order_x25519(recipient) {
		return Err(low_order_recipient("a dataset key", recipient));
	}
	// An operating system without randomness is beyond repair here: UnwrapErr panics on it, as
	// the dataset cipher's generator does.
	let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
	let (ephemeral, ciphertext) =
		hpke_seal(recipient, &seal_info(task), task.as_bytes(), &key.0, &mut rng).map_err(
			|error| match error {
				HpkeError::EncapError => low_order_recipient("a dataset key", recipient),
				error => ClientError::Other(format!("cannot seal the dataset key: {error}")),
			},
		)?;
	let ciphertext: [u8; 48] = ciphertext.try_into().map_err(|ciphertext: Vec<u8>| {
		ClientError::Other(format!(
			"the sealed dataset key is {} bytes, not a 32-byte key and a 16-byte tag",
			ciphertext.len()
		))
	})?;
	Ok(SealedDatasetKey { ephemeral, recipient: *recipient, ciphertext })
}

/// Opens `sealed` with the enclave's X25519 secret, if it was sealed to it for `task` (the RFC
/// 9180 HPKE base-mode open matching [`seal_dataset_key`]).
pub fn open_dataset_key(
	secret: &StaticSecret,
	sealed: &SealedDatasetKey,
	task: &TaskId,
) -> Result<DatasetKey, ClientError> {
	let recipient = PublicKey::from(secret).to_bytes();
	if sealed.recipient != recipient {
		return Err(ClientError::Other("the dataset key is sealed to another enclave key".into()));
	}
	let key = hpke_open(
		secret.as_bytes(),
		&sealed.ephemeral,
		&seal_info(task),
		task.as_bytes(),
		&sealed.ciphertext,
	)
	.map_err(|error| match error {
		HpkeError::DecapError => ClientError::Other(
			"the sealed dataset key's ephemeral key is a low-order X25519 key".into(),
		),
		HpkeError::OpenError => {
			ClientError::Other("the sealed dataset key does not open for this task".into())
		}
		error => ClientError::Other(format!("cannot open the sealed dataset key: {error}")),
	})?;
	let key = key
		.try_into()
		.map_err(|_| ClientError::Other("a sealed dataset key is 32 bytes".into()))?;
	Ok(DatasetKey(key))
}

/// The one file a confidential task's result is served as, sealed, in place of its output's
/// files.
pub const SEALED_RESULT_FILE: &str = "result.sealed";

/// The bytes of a sealed result before its HPKE ciphertext: HPKE's `enc`.
const ENC_LENGTH: usize = 32;

/// The bytes the suite's AEAD adds to what it seals: ChaCha20-Poly1305's tag.
const TAG_LENGTH: usize = 16;

/// A beneficiary's result key: the X25519 secret that opens the results sealed to its public
/// half, which the beneficiary registers on chain.
pub struct ResultKey {
	secret: StaticSecret,
}

impl core::fmt::Debug for ResultKey {
	fn fmt(&self, formatter: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(formatter, "ResultKey({})", sp_core::bytes::to_hex(&self.public(), false))
	}
}

impl ResultKey {
	/// A fresh random key. (A clamped random secret's public key never has small order.)
	pub fn generate() -> Self {
		Self { secret: StaticSecret::random_from_rng(OsRng) }
	}

	/// Reads a key file: the secret in hex (`0x…`), one line.
	pub fn load(path: &Path) -> Result<Self, ClientError> {
		read_key_file(path).map(|secret| Self { secret: StaticSecret::from(secret) })
	}

	/// Writes a new key file readable by its owner only; refuses to replace an existing one,
	/// whose loss would make the results sealed to it unreadable.
	pub fn save(&self, path: &Path) -> Result<(), ClientError> {
		create_key_file(path, self.secret.as_bytes())
	}

	/// The public key to register on chain, which results are sealed to.
	pub fn public(&self) -> X25519PublicKey {
		PublicKey::from(&self.secret).to_bytes()
	}

	/// The secret that opens what is sealed to [`ResultKey::public`].
	pub fn secret(&self) -> &StaticSecret {
		&self.secret
	}
}

/// The HPKE `info` of a result sealed for `task`: [`domains::RESULT_SEAL`] ‖ task id.
fn result_seal_info(task: &TaskId) -> Vec<u8> {
	[domains::RESULT_SEAL, task.as_bytes()].concat()
}

/// `plaintext`, `task`'s result, sealed to the beneficiary's result key `recipient`: HPKE's
/// `enc` (32 bytes) followed by its ciphertext, an RFC 9180 base-mode seal with a fresh ephemeral
/// key, in the dataset keys' suite, with info [`domains::RESULT_SEAL`] ‖ task id and the task
/// id as associated data.
///
/// Refuses a low-order `recipient` ([`is_small_order_x25519`]).
pub fn seal_result(
	recipient: &X25519PublicKey,
	task: &TaskId,
	plaintext: &[u8],
) -> Result<Vec<u8>, ClientError> {
	if is_small_order_x25519(recipient) {
		return Err(low_order_recipient("a result", recipient));
	}
	// As for dataset keys: an operating system without randomness is beyond repair here.
	let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
	let (enc, ciphertext) =
		hpke_seal(recipient, &result_seal_info(task), task.as_bytes(), plaintext, &mut rng)
			.map_err(|error| match error {
				HpkeError::EncapError => low_order_recipient("a result", recipient),
				error => ClientError::Other(format!("cannot seal the result: {error}")),
			})?;
	Ok([enc.as_slice(), &ciphertext].concat())
}

/// The plaintext of `sealed`, if it was sealed for `task` to the result key whose secret is
/// `secret` and is intact (the RFC 9180 HPKE base-mode open matching [`seal_result`]).
pub fn open_result(
	secret: &StaticSecret,
	task: &TaskId,
	sealed: &[u8],
) -> Result<Vec<u8>, ClientError> {
	if sealed.len() < ENC_LENGTH + TAG_LENGTH {
		return Err(ClientError::Other(format!(
			"a sealed result holds at least {} bytes (HPKE's enc and the AEAD's tag), this one {}",
			ENC_LENGTH + TAG_LENGTH,
			sealed.len()
		)));
	}
	let (enc, ciphertext) = sealed.split_at(ENC_LENGTH);
	let enc: X25519PublicKey = enc
		.try_into()
		.map_err(|_| ClientError::Other("a sealed result starts with 32 bytes of enc".into()))?;
	hpke_open(secret.as_bytes(), &enc, &result_seal_info(task), task.as_bytes(), ciphertext)
		.map_err(|error| match error {
			HpkeError::DecapError => {
				ClientError::Other("the sealed result's enc is a low-order X25519 key".into())
			}
			HpkeError::OpenError => ClientError::Other(
				"the sealed result does not open with this result key for this task: it was \
				 sealed to another key or for another task, or it was changed"
					.into(),
			),
			error => ClientError::Other(format!("cannot open the sealed result: {error}")),
		})
}

/// The files of the output directory `output`, packed to be sealed: the SCALE encoding of
/// `Vec<(path, content)>`, each path relative to `output` in UTF-8, in the order the digest
/// takes them ([`crate::digest::files`]).
pub fn pack_output(output: &Path) -> Result<Vec<u8>, ClientError> {
	let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
	for relative in crate::digest::files(output)? {
		let name = relative.to_str().ok_or_else(|| {
			ClientError::Other(format!(
				"the result file name {} is not UTF-8, so it cannot be packed",
				relative.display()
			))
		})?;
		let path = output.join(&relative);
		let content = fs::read(&path).map_err(|error| ClientError::Io {
			action: format!("cannot read {}", path.display()),
			error,
		})?;
		entries.push((name.as_bytes().to_vec(), content));
	}
	Ok(entries.encode())
}

/// Writes the files `packed` holds ([`pack_output`]) under `into`. Refuses a path that is not
/// plainly inside `into` (absolute, empty, or with `..`).
pub fn unpack_output(packed: &[u8], into: &Path) -> Result<(), ClientError> {
	let entries = Vec::<(Vec<u8>, Vec<u8>)>::decode_all(&mut &packed[..]).map_err(|error| {
		ClientError::Decode { what: "the opened result's files".into(), message: error.to_string() }
	})?;
	for (name, content) in entries {
		let name = String::from_utf8(name).map_err(|_| {
			ClientError::Other("the opened result names a file in other than UTF-8".into())
		})?;
		let relative = Path::new(&name);
		let inside = !name.is_empty()
			&& relative.components().all(|part| matches!(part, Component::Normal(_)));
		if !inside {
			return Err(ClientError::Other(format!(
				"the opened result names a path outside it: {name}"
			)));
		}
		let target = into.join(relative);
		if let Some(parent) = target.parent() {
			fs::create_dir_all(parent).map_err(|error| ClientError::Io {
				action: format!("cannot create {}", parent.display()),
				error,
			})?;
		}
		fs::write(&target, content).map_err(|error| ClientError::Io {
			action: format!("cannot write {}", target.display()),
			error,
		})?;
	}
	Ok(())
}

/// The output directory `output` of `task`, packed and sealed to `recipient`: the bytes of the
/// [`SEALED_RESULT_FILE`] served in its place.
pub fn seal_output(
	recipient: &X25519PublicKey,
	task: &TaskId,
	output: &Path,
) -> Result<Vec<u8>, ClientError> {
	seal_result(recipient, task, &pack_output(output)?)
}

/// Opens `sealed`, `task`'s sealed output, with the result key `key`, and writes its files under
/// `into`.
pub fn open_output(
	key: &ResultKey,
	task: &TaskId,
	sealed: &[u8],
	into: &Path,
) -> Result<(), ClientError> {
	unpack_output(&open_result(key.secret(), task, sealed)?, into)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn enclave() -> (StaticSecret, X25519PublicKey) {
		let secret = StaticSecret::random_from_rng(OsRng);
		let public = PublicKey::from(&secret).to_bytes();
		(secret, public)
	}

	#[test]
	fn a_dataset_round_trips_and_refuses_another_key_or_any_change() {
		let key = DatasetKey::generate();
		let data = b"age,weight\n41,70\n";
		let stored = encrypt_dataset(&key, data).unwrap();
		assert_eq!(stored.len(), NONCE_LENGTH + data.len() + 16);
		assert_eq!(decrypt_dataset(&key, &stored).unwrap(), data);
		assert!(decrypt_dataset(&DatasetKey::generate(), &stored).is_err());
		for position in [0, NONCE_LENGTH, stored.len() - 1] {
			let mut tampered = stored.clone();
			tampered[position] ^= 1;
			assert!(decrypt_dataset(&key, &tampered).is_err(), "byte {position} changed");
		}
		assert!(decrypt_dataset(&key, &stored[..5]).is_err());
		// Two encryptions of the same data differ (fresh nonces).
		assert_ne!(encrypt_dataset(&key, data).unwrap(), stored);
	}

	#[test]
	fn a_sealed_key_opens_only_in_its_enclave_for_its_task() {
		let key = DatasetKey::generate();
		let (secret, public) = enclave();
		let task = TaskId::repeat_byte(1);
		let sealed = seal_dataset_key(&key, &public, &task).unwrap();
		assert_eq!(sealed.recipient, public);
		assert_eq!(open_dataset_key(&secret, &sealed, &task).unwrap(), key);

		let (other_secret, other_public) = enclave();
		assert!(open_dataset_key(&other_secret, &sealed, &task).is_err());
		// Claiming another recipient does not help the other enclave either: HPKE binds the
		// recipient's key into the key schedule.
		let mut readdressed = sealed;
		readdressed.recipient = other_public;
		assert!(open_dataset_key(&other_secret, &readdressed, &task).is_err());
		assert!(open_dataset_key(&secret, &readdressed, &task).is_err());
		assert!(open_dataset_key(&secret, &sealed, &TaskId::repeat_byte(2)).is_err());
		for position in [0, 31, 32, 47] {
			let mut tampered = sealed;
			tampered.ciphertext[position] ^= 1;
			assert!(open_dataset_key(&secret, &tampered, &task).is_err(), "byte {position}");
		}
		let mut replaced = sealed;
		replaced.ephemeral = enclave().1;
		assert!(open_dataset_key(&secret, &replaced, &task).is_err());
		replaced.ephemeral[0] = sealed.ephemeral[0] ^ 1;
		replaced.ephemeral[1..].copy_from_slice(&sealed.ephemeral[1..]);
		assert!(open_dataset_key(&secret, &replaced, &task).is_err());
		// A low-order ephemeral key is refused by hpke's all-zero check, with a reason.
		replaced.ephemeral = [0; 32];
		let error = open_dataset_key(&secret, &replaced, &task).unwrap_err().to_string();
		assert!(error.contains("low-order"), "{error}");
		// Each sealing uses a fresh ephemeral key.
		assert_ne!(seal_dataset_key(&key, &public, &task).unwrap().ephemeral, sealed.ephemeral);
	}

	#[test]
	fn a_sealed_key_is_plain_rfc_9180_hpke_with_the_documented_info_and_aad() {
		let key = DatasetKey::generate();
		let (secret, public) = enclave();
		let task = TaskId::repeat_byte(7);
		let sealed = seal_dataset_key(&key, &public, &task).unwrap();
		// What another RFC 9180 implementation would be given: the enclave's secret, `enc`, info
		// `DATASET_KEY_SEAL ‖ task id`, aad `task id`.
		let info = [domains::DATASET_KEY_SEAL, task.as_bytes()].concat();
		let opened = hpke_open(
			secret.as_bytes(),
			&sealed.ephemeral,
			&info,
			task.as_bytes(),
			&sealed.ciphertext,
		)
		.unwrap();
		assert_eq!(opened, key.0);
		// Either one different, and it does not open.
		assert_eq!(
			hpke_open(
				secret.as_bytes(),
				&sealed.ephemeral,
				domains::DATASET_KEY_SEAL,
				task.as_bytes(),
				&sealed.ciphertext
			),
			Err(HpkeError::OpenError)
		);
		assert_eq!(
			hpke_open(secret.as_bytes(), &sealed.ephemeral, &info, &[], &sealed.ciphertext),
			Err(HpkeError::OpenError)
		);
	}

	/// RFC 9180, Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base
	/// mode, and its first encryption (sequence number 0). Copied from the RFC's text; the same
	/// values are in the CFRG's test-vectors file that hpke 0.13.0 ships
	/// (`test-vectors-5f503c5.json`, mode 0, kem_id 32, kdf_id 1, aead_id 3).
	mod rfc_9180_a_2_1 {
		pub const INFO: &str = "4f6465206f6e2061204772656369616e2055726e";
		pub const IKM_E: &str = "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b";
		pub const PK_EM: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
		pub const SK_EM: &str = "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600";
		pub const IKM_R: &str = "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df";
		pub const PK_RM: &str = "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a";
		pub const SK_RM: &str = "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb";
		pub const ENC: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
		pub const PT: &str = "4265617574792069732074727574682c20747275746820626561757479";
		pub const AAD_0: &str = "436f756e742d30";
		pub const CT_0: &str = "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db\
		                        21993c62ce81883d2dd1b51a28";
	}

	fn hex(text: &str) -> Vec<u8> {
		sp_core::bytes::from_hex(text).unwrap()
	}

	fn hex32(text: &str) -> [u8; 32] {
		hex(text).try_into().unwrap()
	}

	/// A generator that hands out fixed bytes: the RFC's vectors fix the sender's ephemeral key
	/// by its input keying material (ikmE), which hpke draws from the generator it is given.
	struct Replay(Vec<u8>);

	impl RngCore for Replay {
		fn next_u32(&mut self) -> u32 {
			rand_core::impls::next_u32_via_fill(self)
		}

		fn next_u64(&mut self) -> u64 {
			rand_core::impls::next_u64_via_fill(self)
		}

		fn fill_bytes(&mut self, destination: &mut [u8]) {
			assert!(destination.len() <= self.0.len(), "asked for more than the fixed bytes");
			let rest = self.0.split_off(destination.len());
			destination.copy_from_slice(&self.0);
			self.0 = rest;
		}
	}

	impl CryptoRng for Replay {}

	#[test]
	fn the_seal_and_open_reproduce_rfc_9180_a_2_1() {
		use rfc_9180_a_2_1::*;
		// DeriveKeyPair of both parties.
		let (sk_e, pk_e) = SealKem::derive_keypair(&hex(IKM_E));
		assert_eq!(sk_e.to_bytes().as_slice(), hex(SK_EM));
		assert_eq!(pk_e.to_bytes().as_slice(), hex(PK_EM));
		let (sk_r, pk_r) = SealKem::derive_keypair(&hex(IKM_R));
		assert_eq!(sk_r.to_bytes().as_slice(), hex(SK_RM));
		assert_eq!(pk_r.to_bytes().as_slice(), hex(PK_RM));
		// The enclave side holds an x25519-dalek secret: it must agree on the public key.
		assert_eq!(PublicKey::from(&StaticSecret::from(hex32(SK_RM))).to_bytes(), hex32(PK_RM));

		// The sender, with its ephemeral key fixed by ikmE: the same enc and ciphertext.
		let mut rng = Replay(hex(IKM_E));
		let (enc, ciphertext) =
			hpke_seal(&hex32(PK_RM), &hex(INFO), &hex(AAD_0), &hex(PT), &mut rng).unwrap();
		assert!(rng.0.is_empty(), "hpke drew exactly ikmE");
		assert_eq!(enc, hex32(ENC));
		assert_eq!(ciphertext, hex(CT_0));

		// The recipient opens the RFC's ciphertext, and nothing else.
		let opened = hpke_open(&hex32(SK_RM), &hex32(ENC), &hex(INFO), &hex(AAD_0), &hex(CT_0));
		assert_eq!(opened.unwrap(), hex(PT));
		let mut tampered = hex(CT_0);
		tampered[0] ^= 1;
		assert_eq!(
			hpke_open(&hex32(SK_RM), &hex32(ENC), &hex(INFO), &hex(AAD_0), &tampered),
			Err(HpkeError::OpenError)
		);
		assert!(!is_small_order_x25519(&hex32(PK_RM)));
	}

	#[test]
	fn nothing_is_sealed_to_a_low_order_key() {
		// The all-zero key, and u = 1 (libsodium's "order 1" entry; the point has order 4).
		let mut one = [0u8; 32];
		one[0] = 1;
		assert!(is_small_order_x25519(&[0; 32]));
		assert!(is_small_order_x25519(&one));
		let key = DatasetKey::generate();
		let task = TaskId::repeat_byte(3);
		for point in commons_primitives::enclave::SMALL_ORDER_X25519 {
			// X25519 ignores the top bit: both encodings are the same point.
			let mut high = point;
			high[31] |= 0x80;
			for recipient in [point, high] {
				assert!(is_small_order_x25519(&recipient), "{recipient:?}");
				let error = seal_dataset_key(&key, &recipient, &task).unwrap_err().to_string();
				assert!(error.contains("low-order"), "{error}");
				// hpke's own all-zero check (RFC 9180 §7.1.4) refuses it too, so the list
				// only makes the reason specific.
				let unchecked = hpke_seal(
					&recipient,
					&seal_info(&task),
					task.as_bytes(),
					&key.0,
					&mut rand_core::UnwrapErr(rand_core::OsRng),
				);
				assert_eq!(unchecked.map(|_| ()), Err(HpkeError::EncapError), "{recipient:?}");
			}
		}
		// An ordinary key is not low-order, whichever its top bit.
		let (_, mut public) = enclave();
		assert!(!is_small_order_x25519(&public));
		public[31] ^= 0x80;
		assert!(!is_small_order_x25519(&public));
	}

	#[test]
	fn a_key_file_round_trips_and_is_never_overwritten() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("7.key");
		let key = DatasetKey::generate();
		key.save(&path).unwrap();
		assert_eq!(DatasetKey::load(&path).unwrap(), key);
		assert!(DatasetKey::generate().save(&path).is_err());
		assert_eq!(DatasetKey::load(&path).unwrap(), key);
		fs::write(dir.path().join("short.key"), "0x0102").unwrap();
		assert!(DatasetKey::load(&dir.path().join("short.key")).is_err());
	}

	#[test]
	fn a_sealed_result_opens_only_with_its_key_for_its_task_and_unchanged() {
		let key = ResultKey::generate();
		let task = TaskId::repeat_byte(5);
		let result = b"{\"pi\":3.1416}\n";
		let sealed = seal_result(&key.public(), &task, result).unwrap();
		assert_eq!(sealed.len(), ENC_LENGTH + result.len() + TAG_LENGTH);
		assert!(!sealed.windows(result.len()).any(|window| window == result), "in the clear");
		assert_eq!(open_result(key.secret(), &task, &sealed).unwrap(), result);

		let error = open_result(key.secret(), &TaskId::repeat_byte(6), &sealed).unwrap_err();
		assert!(error.to_string().contains("does not open"), "{error}");
		let other = ResultKey::generate();
		assert!(open_result(other.secret(), &task, &sealed).is_err());
		for position in [0, ENC_LENGTH - 1, ENC_LENGTH, sealed.len() - 1] {
			let mut tampered = sealed.clone();
			tampered[position] ^= 1;
			assert!(open_result(key.secret(), &task, &tampered).is_err(), "byte {position}");
		}
		assert!(open_result(key.secret(), &task, &sealed[..ENC_LENGTH + TAG_LENGTH - 1]).is_err());
		let mut low_order = sealed.clone();
		low_order[..ENC_LENGTH].fill(0);
		let error = open_result(key.secret(), &task, &low_order).unwrap_err().to_string();
		assert!(error.contains("low-order"), "{error}");
		// Each sealing draws a fresh ephemeral key: replicated workers' sealed results differ.
		assert_ne!(seal_result(&key.public(), &task, result).unwrap(), sealed);
		// An empty result is sealed and opened too.
		let empty = seal_result(&key.public(), &task, b"").unwrap();
		assert!(open_result(key.secret(), &task, &empty).unwrap().is_empty());
	}

	#[test]
	fn a_sealed_result_is_plain_rfc_9180_hpke_with_the_documented_info_and_aad() {
		let key = ResultKey::generate();
		let task = TaskId::repeat_byte(8);
		let sealed = seal_result(&key.public(), &task, b"rows").unwrap();
		let (enc, ciphertext) = sealed.split_at(ENC_LENGTH);
		let info = [domains::RESULT_SEAL, task.as_bytes()].concat();
		let enc: X25519PublicKey = enc.try_into().unwrap();
		let opened =
			hpke_open(key.secret().as_bytes(), &enc, &info, task.as_bytes(), ciphertext).unwrap();
		assert_eq!(opened, b"rows");
		// Not a dataset key's label: what is sealed for one purpose does not open for another.
		let dataset_info = [domains::DATASET_KEY_SEAL, task.as_bytes()].concat();
		assert_eq!(
			hpke_open(key.secret().as_bytes(), &enc, &dataset_info, task.as_bytes(), ciphertext),
			Err(HpkeError::OpenError)
		);
	}

	#[test]
	fn nothing_is_sealed_to_a_low_order_result_key() {
		let task = TaskId::repeat_byte(3);
		for point in commons_primitives::enclave::SMALL_ORDER_X25519 {
			let mut high = point;
			high[31] |= 0x80;
			for recipient in [point, high] {
				let error = seal_result(&recipient, &task, b"secret").unwrap_err().to_string();
				assert!(error.contains("low-order"), "{error}");
			}
		}
	}

	#[test]
	fn a_sealed_output_opens_to_the_files_whose_digest_is_the_outputs() {
		let output = tempfile::tempdir().unwrap();
		fs::create_dir(output.path().join("plots")).unwrap();
		fs::write(output.path().join("result.json"), b"{\"mean\":9.5}").unwrap();
		fs::write(output.path().join("plots/histogram.csv"), b"1,2,3").unwrap();
		let digest = crate::digest::digest(output.path()).unwrap();
		let key = ResultKey::generate();
		let task = TaskId::repeat_byte(9);
		let sealed = seal_output(&key.public(), &task, output.path()).unwrap();

		let opened = tempfile::tempdir().unwrap();
		open_output(&key, &task, &sealed, opened.path()).unwrap();
		assert_eq!(crate::digest::digest(opened.path()).unwrap(), digest);
		assert_eq!(fs::read(opened.path().join("plots/histogram.csv")).unwrap(), b"1,2,3");
		let elsewhere = tempfile::tempdir().unwrap();
		assert!(open_output(&ResultKey::generate(), &task, &sealed, elsewhere.path()).is_err());
		assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0, "nothing written");
	}

	#[test]
	fn an_opened_result_writes_nothing_outside_its_directory() {
		let into = tempfile::tempdir().unwrap();
		for name in ["../escaped", "/etc/escaped", "", "a/../../escaped"] {
			let packed = vec![(name.as_bytes().to_vec(), b"x".to_vec())].encode();
			let error = unpack_output(&packed, &into.path().join("result")).unwrap_err();
			assert!(error.to_string().contains("outside"), "{name}: {error}");
		}
		assert!(!into.path().join("escaped").exists());
		// Trailing bytes after the files are refused: the packing is exact.
		let mut packed = vec![(b"a".to_vec(), b"x".to_vec())].encode();
		packed.push(0);
		assert!(unpack_output(&packed, into.path()).is_err());
	}

	#[test]
	fn a_result_key_file_round_trips_and_is_never_overwritten() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("result.key");
		let key = ResultKey::generate();
		key.save(&path).unwrap();
		assert_eq!(ResultKey::load(&path).unwrap().public(), key.public());
		assert!(ResultKey::generate().save(&path).is_err());
		assert_eq!(ResultKey::load(&path).unwrap().public(), key.public());
		assert!(!is_small_order_x25519(&key.public()));
		assert_ne!(ResultKey::generate().public(), key.public());
	}
}
