//! scrypt (RFC 7914), the password hash Polkadot-JS seals its account exports with.
//!
//! Written here over the PBKDF2, HMAC and SHA-256 crates the node already builds, rather than
//! taken from the `scrypt` crate: that crate turns on a feature of `pbkdf2` that sp-core shares,
//! and the changed feature set would compile sp-core and everything built on it a second time.

use hmac::Hmac;
use sha2::Sha256;

/// The words of one Salsa20 block (64 bytes).
const BLOCK_WORDS: usize = 16;

/// scrypt's cost parameters: `n` a power of two above 1, `r` and `p` at least 1. The caller
/// bounds them (memory is 128·r·n bytes per lane); this module only computes.
pub(super) struct Cost {
	pub n: u32,
	pub r: u32,
	pub p: u32,
}

/// The `output.len()` bytes scrypt derives from `password` and `salt` at `cost`.
pub(super) fn scrypt(password: &[u8], salt: &[u8], cost: &Cost, output: &mut [u8]) {
	let lane_bytes = 128 * cost.r as usize;
	let mut lanes = vec![0u8; lane_bytes * cost.p as usize];
	pbkdf2_sha256(password, salt, &mut lanes);
	for lane in lanes.chunks_exact_mut(lane_bytes) {
		let mut words: Vec<u32> = lane
			.chunks_exact(4)
			.map(|bytes| u32::from_le_bytes(bytes.try_into().expect("chunks of 4")))
			.collect();
		ro_mix(&mut words, cost.n);
		for (bytes, word) in lane.chunks_exact_mut(4).zip(words) {
			bytes.copy_from_slice(&word.to_le_bytes());
		}
	}
	pbkdf2_sha256(password, &lanes, output);
}

/// PBKDF2-HMAC-SHA256 with one iteration, as scrypt uses it.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], output: &mut [u8]) {
	pbkdf2::pbkdf2::<Hmac<Sha256>>(password, salt, 1, output)
		.expect("HMAC takes a key of any length");
}

/// scrypt's memory-hard mix of one lane (`32·r` words) over `n` stored states.
fn ro_mix(lane: &mut [u32], n: u32) {
	let mut states = Vec::with_capacity(lane.len() * n as usize);
	for _ in 0..n {
		states.extend_from_slice(lane);
		block_mix(lane);
	}
	let last_block = lane.len() - BLOCK_WORDS;
	for _ in 0..n {
		// Integerify: the first word of the last block, modulo n (a power of two).
		let chosen = (lane[last_block] & (n - 1)) as usize * lane.len();
		for (word, other) in lane.iter_mut().zip(&states[chosen..]) {
			*word ^= other;
		}
		block_mix(lane);
	}
}

/// BlockMix with Salsa20/8: each block chained through the core, even outputs first.
fn block_mix(lane: &mut [u32]) {
	let blocks = lane.len() / BLOCK_WORDS;
	let mut x: [u32; BLOCK_WORDS] =
		lane[lane.len() - BLOCK_WORDS..].try_into().expect("a whole block");
	let mut mixed = vec![0u32; lane.len()];
	for (index, block) in lane.chunks_exact(BLOCK_WORDS).enumerate() {
		for (word, input) in x.iter_mut().zip(block) {
			*word ^= input;
		}
		salsa20_8(&mut x);
		let at = if index % 2 == 0 { index / 2 } else { blocks / 2 + index / 2 };
		mixed[at * BLOCK_WORDS..(at + 1) * BLOCK_WORDS].copy_from_slice(&x);
	}
	lane.copy_from_slice(&mixed);
}

/// The Salsa20 core with 8 rounds, added to its input.
fn salsa20_8(block: &mut [u32; BLOCK_WORDS]) {
	let mut x = *block;
	let mut quarter = |a: usize, b: usize, c: usize, d: usize| {
		x[b] ^= x[a].wrapping_add(x[d]).rotate_left(7);
		x[c] ^= x[b].wrapping_add(x[a]).rotate_left(9);
		x[d] ^= x[c].wrapping_add(x[b]).rotate_left(13);
		x[a] ^= x[d].wrapping_add(x[c]).rotate_left(18);
	};
	for _ in 0..4 {
		// Columns, then rows.
		quarter(0, 4, 8, 12);
		quarter(5, 9, 13, 1);
		quarter(10, 14, 2, 6);
		quarter(15, 3, 7, 11);
		quarter(0, 1, 2, 3);
		quarter(5, 6, 7, 4);
		quarter(10, 11, 8, 9);
		quarter(15, 12, 13, 14);
	}
	for (word, mixed) in block.iter_mut().zip(x) {
		*word = word.wrapping_add(mixed);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn hex(bytes: &[u8]) -> String {
		bytes.iter().map(|byte| format!("{byte:02x}")).collect()
	}

	/// The test vectors of RFC 7914, section 12 (the two that run quickly).
	#[test]
	fn scrypt_gives_the_rfc_test_vectors() {
		let mut output = [0u8; 64];
		scrypt(b"", b"", &Cost { n: 16, r: 1, p: 1 }, &mut output);
		assert_eq!(
			hex(&output),
			"77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442\
			 fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
		);
		scrypt(b"password", b"NaCl", &Cost { n: 1024, r: 8, p: 16 }, &mut output);
		assert_eq!(
			hex(&output),
			"fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162\
			 2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
		);
	}
}
