//! Confidential datasets: how a dataset is encrypted for storage, and how its key reaches one
//! enclave for one task and nobody else.
//!
//! - **Stored dataset**: `nonce ‖ ChaCha20-Poly1305(dataset key, nonce, data)` with associated
//!   data [`domains::DATASET`] and a random 96-bit nonce. The registered checksum is the sha256 of
//!   this whole file, so anyone can check a download without the key.
//! - **Sealed key** ([`SealedDatasetKey`]), built the way HPKE's base mode is (though not
//!   byte-compatible with RFC 9180): a fresh ephemeral X25519 key agrees a secret with the
//!   enclave's registered encryption key; HKDF-SHA256 (salt: ephemeral key ‖ enclave key, info:
//!   [`domains::DATASET_KEY_SEAL`] ‖ task id) turns it into a one-time ChaCha20-Poly1305 key, which encrypts the
//!   32-byte dataset key with a zero nonce (the key is never used twice) and the task id as
//!   associated data. A sealed key opens only in the enclave holding the X25519 secret, and only
//!   for the task it was sealed for.

use std::{fs, path::Path};

use chacha20poly1305::{
	aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
	ChaCha20Poly1305, Key, Nonce,
};
use commons_primitives::{domains, SealedDatasetKey, X25519PublicKey};
use hkdf::Hkdf;
use pallet_contribution::TaskId;
use sha2::Sha256;
use x25519_dalek::{EphemeralSecret, PublicKey, StaticSecret};

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
		let key = bytes.try_into().map_err(|_| bad("it does not hold a 32-byte key".into()))?;
		Ok(Self(key))
	}

	/// Writes a new key file readable by its owner only; refuses to replace an existing one,
	/// whose loss would make its dataset unreadable.
	pub fn save(&self, path: &Path) -> Result<(), ClientError> {
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
		writeln!(file, "{}", sp_core::bytes::to_hex(&self.0, false)).map_err(|error| {
			ClientError::Io {
				action: format!("cannot write the key file {}", path.display()),
				error,
			}
		})
	}

	fn cipher(&self) -> ChaCha20Poly1305 {
		ChaCha20Poly1305::new(Key::from_slice(&self.0))
	}
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

/// The one-time cipher of a sealed key: HKDF-SHA256 of the agreed secret, bound to both public
/// keys and the task.
fn seal_cipher(
	shared: &[u8; 32],
	ephemeral: &X25519PublicKey,
	recipient: &X25519PublicKey,
	task: &TaskId,
) -> ChaCha20Poly1305 {
	let salt = [ephemeral.as_slice(), recipient.as_slice()].concat();
	let info = [domains::DATASET_KEY_SEAL, task.as_bytes()].concat();
	let mut key = [0u8; 32];
	Hkdf::<Sha256>::new(Some(&salt), shared)
		.expand(&info, &mut key)
		.expect("32 bytes is a valid HKDF-SHA256 output length");
	ChaCha20Poly1305::new(Key::from_slice(&key))
}

/// `key` sealed to the enclave whose encryption key is `recipient`, for `task`.
pub fn seal_dataset_key(
	key: &DatasetKey,
	recipient: &X25519PublicKey,
	task: &TaskId,
) -> SealedDatasetKey {
	let secret = EphemeralSecret::random_from_rng(OsRng);
	let ephemeral = PublicKey::from(&secret).to_bytes();
	let shared = secret.diffie_hellman(&PublicKey::from(*recipient));
	let sealed = seal_cipher(shared.as_bytes(), &ephemeral, recipient, task)
		.encrypt(&Nonce::default(), Payload { msg: &key.0, aad: task.as_bytes() })
		.expect("a 32-byte message encrypts");
	let ciphertext = sealed.try_into().expect("32 bytes and a 16-byte tag");
	SealedDatasetKey { ephemeral, recipient: *recipient, ciphertext }
}

/// Opens `sealed` with the enclave's X25519 secret, if it was sealed to it for `task`.
pub fn open_dataset_key(
	secret: &StaticSecret,
	sealed: &SealedDatasetKey,
	task: &TaskId,
) -> Result<DatasetKey, ClientError> {
	let recipient = PublicKey::from(secret).to_bytes();
	if sealed.recipient != recipient {
		return Err(ClientError::Other("the dataset key is sealed to another enclave key".into()));
	}
	let shared = secret.diffie_hellman(&PublicKey::from(sealed.ephemeral));
	let key = seal_cipher(shared.as_bytes(), &sealed.ephemeral, &recipient, task)
		.decrypt(&Nonce::default(), Payload { msg: &sealed.ciphertext, aad: task.as_bytes() })
		.map_err(|_| {
			ClientError::Other("the sealed dataset key does not open for this task".into())
		})?;
	let key = key
		.try_into()
		.map_err(|_| ClientError::Other("a sealed dataset key is 32 bytes".into()))?;
	Ok(DatasetKey(key))
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
		let sealed = seal_dataset_key(&key, &public, &task);
		assert_eq!(sealed.recipient, public);
		assert_eq!(open_dataset_key(&secret, &sealed, &task).unwrap(), key);

		let (other_secret, _) = enclave();
		assert!(open_dataset_key(&other_secret, &sealed, &task).is_err());
		assert!(open_dataset_key(&secret, &sealed, &TaskId::repeat_byte(2)).is_err());
		let mut tampered = sealed;
		tampered.ciphertext[0] ^= 1;
		assert!(open_dataset_key(&secret, &tampered, &task).is_err());
		let mut replaced = sealed;
		replaced.ephemeral = enclave().1;
		assert!(open_dataset_key(&secret, &replaced, &task).is_err());
		// Each sealing uses a fresh ephemeral key.
		assert_ne!(seal_dataset_key(&key, &public, &task).ephemeral, sealed.ephemeral);
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
}
