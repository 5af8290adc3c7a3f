//! [`MetadataOnly`]: a reader of the chain's storage and runtime API answers that knows nothing
//! but the chain's metadata, as @polkadot/api, subxt or an explorer do. It walks each value by
//! the type the metadata gives it and requires every byte to be accounted for, so a type whose
//! metadata does not describe its encoding (a hand-written `TypeInfo` gone wrong, a field added
//! to a type without its metadata) is found, and so is a type the ecosystem's clients cannot
//! name.

use codec::{Compact, Decode, Encode};
use commons_client::{rpc_params, Chain};
use frame_metadata::{
	v15::{RuntimeMetadataV15, StorageEntryType, StorageHasher},
	RuntimeMetadata, RuntimeMetadataPrefixed,
};
use frame_support::storage::storage_prefix;
use scale_info::{TypeDef, TypeDefPrimitive};
use sp_core::bytes::{from_hex, to_hex};

/// Types of `primitive_types` the standard clients know by name; any other one (such as `U512`)
/// makes @polkadot/api fail on the whole value ("Unable to resolve type").
const NAMED_BY_CLIENTS: [&str; 3] =
	["primitive_types::H160", "primitive_types::H256", "primitive_types::H512"];

/// How many keys one `state_getKeysPaged` call returns at most.
const PAGE: u32 = 1000;

/// The chain's metadata (v15), and nothing else about its types.
pub struct MetadataOnly {
	metadata: RuntimeMetadataV15,
}

/// What [`MetadataOnly::decode_storage`] read.
#[derive(Debug, Default)]
pub struct StorageRead {
	/// The storage items that had a value.
	pub items: usize,
	/// The values read (one per key).
	pub values: usize,
}

impl MetadataOnly {
	/// Reads the metadata of the runtime `chain` runs (v15, through the `Metadata` runtime API).
	pub async fn read(chain: &Chain) -> Result<Self, String> {
		let bytes: Option<Vec<u8>> =
			chain.runtime_api("Metadata_metadata_at_version", 15u32).await?;
		let bytes = bytes.ok_or("the runtime offers no metadata v15")?;
		let prefixed = RuntimeMetadataPrefixed::decode(&mut &bytes[..])
			.map_err(|error| format!("the metadata does not decode: {error}"))?;
		match prefixed.1 {
			RuntimeMetadata::V15(metadata) => Ok(Self { metadata }),
			_ => Err("metadata_at_version(15) returned another version".into()),
		}
	}

	/// Reads every value of every storage item of `pallet` at the best block and decodes each,
	/// key and value, by the metadata's types alone.
	pub async fn decode_storage(&self, chain: &Chain, pallet: &str) -> Result<StorageRead, String> {
		let storage = self
			.metadata
			.pallets
			.iter()
			.find(|candidate| candidate.name == pallet)
			.ok_or(format!("no pallet {pallet}"))?
			.storage
			.as_ref()
			.ok_or(format!("{pallet} has no storage"))?;
		let mut read = StorageRead::default();
		for entry in &storage.entries {
			let what = format!("{pallet}::{}", entry.name);
			let prefix = storage_prefix(storage.prefix.as_bytes(), entry.name.as_bytes());
			let keys = keys_with_prefix(chain, &prefix).await?;
			read.items += usize::from(!keys.is_empty());
			for key in keys {
				let value: Option<String> =
					chain.rpc("state_getStorage", rpc_params![to_hex(&key, false)]).await?;
				let value = from_hex(&value.ok_or(format!("{what}: a listed key has no value"))?)
					.map_err(|error| format!("{what}: bad hex: {error}"))?;
				let (key_types, value_type) = match &entry.ty {
					StorageEntryType::Plain(value) => (Vec::new(), value.id),
					StorageEntryType::Map { hashers, key, value } => {
						(self.key_parts(hashers, key.id)?, value.id)
					}
				};
				let mut rest = &key[prefix.len()..];
				for (hasher, ty) in key_types {
					self.skip_hashed(hasher, ty, &mut rest)
						.map_err(|e| format!("{what} key: {e}"))?;
				}
				ensure_consumed(rest, &format!("{what}: a key"))?;
				self.decode_whole(value_type, &value)
					.map_err(|error| format!("{what}: {error}"))?;
				read.values += 1;
			}
		}
		Ok(read)
	}

	/// Decodes `value` as a value of storage item `pallet::entry`, every byte of it.
	pub fn decode_value(&self, pallet: &str, entry: &str, value: &[u8]) -> Result<(), String> {
		let entry = self
			.metadata
			.pallets
			.iter()
			.find(|candidate| candidate.name == pallet)
			.and_then(|pallet| pallet.storage.as_ref())
			.and_then(|storage| storage.entries.iter().find(|candidate| candidate.name == entry))
			.ok_or(format!("no storage item {pallet}::{entry}"))?;
		let value_type = match &entry.ty {
			StorageEntryType::Plain(value) | StorageEntryType::Map { value, .. } => value.id,
		};
		self.decode_whole(value_type, value)
	}

	/// Calls `method` of runtime API `api` with `arguments` and decodes its answer by the type
	/// the metadata gives it.
	pub async fn decode_api_answer(
		&self,
		chain: &Chain,
		api: &str,
		method: &str,
		arguments: impl Encode,
	) -> Result<(), String> {
		let output = self
			.metadata
			.apis
			.iter()
			.find(|candidate| candidate.name == api)
			.and_then(|api| api.methods.iter().find(|candidate| candidate.name == method))
			.ok_or(format!("the metadata has no {api}::{method}"))?
			.output
			.id;
		let answer: String = chain
			.rpc(
				"state_call",
				rpc_params![format!("{api}_{method}"), to_hex(&arguments.encode(), false)],
			)
			.await?;
		let bytes = from_hex(&answer).map_err(|error| format!("bad hex: {error}"))?;
		self.decode_whole(output, &bytes)
			.map_err(|error| format!("{api}::{method}: {error}"))
	}

	/// The hasher and key type of each part of a map's key.
	fn key_parts(
		&self,
		hashers: &[StorageHasher],
		key: u32,
	) -> Result<Vec<(StorageHasher, u32)>, String> {
		if hashers.len() == 1 {
			return Ok(vec![(hashers[0].clone(), key)]);
		}
		match &self.resolve(key)?.type_def {
			TypeDef::Tuple(parts) if parts.fields.len() == hashers.len() => {
				Ok(hashers.iter().cloned().zip(parts.fields.iter().map(|part| part.id)).collect())
			}
			_ => Err(format!("a key of {} hashers is not a tuple of as many", hashers.len())),
		}
	}

	/// Skips one part of a map's key: its hash, then the key itself where the hasher keeps it.
	fn skip_hashed(&self, hasher: StorageHasher, ty: u32, input: &mut &[u8]) -> Result<(), String> {
		match hasher {
			StorageHasher::Blake2_128 | StorageHasher::Twox128 => take(input, 16).map(drop),
			StorageHasher::Blake2_256 | StorageHasher::Twox256 => take(input, 32).map(drop),
			StorageHasher::Blake2_128Concat => {
				take(input, 16)?;
				self.skip(ty, input)
			}
			StorageHasher::Twox64Concat => {
				take(input, 8)?;
				self.skip(ty, input)
			}
			StorageHasher::Identity => self.skip(ty, input),
		}
	}

	/// Decodes `bytes` as one value of type `ty`, every byte of it.
	fn decode_whole(&self, ty: u32, bytes: &[u8]) -> Result<(), String> {
		let mut input = bytes;
		self.skip(ty, &mut input)?;
		ensure_consumed(input, "a value")
	}

	/// The type with id `ty`, refused if the ecosystem's clients cannot name it.
	fn resolve(
		&self,
		ty: u32,
	) -> Result<&scale_info::Type<scale_info::form::PortableForm>, String> {
		let found = self.metadata.types.resolve(ty).ok_or(format!("no type {ty}"))?;
		let path = found.path.segments.join("::");
		if path.starts_with("primitive_types::") && !NAMED_BY_CLIENTS.contains(&path.as_str()) {
			return Err(format!("type {path}: the standard clients cannot resolve it"));
		}
		Ok(found)
	}

	/// Moves `input` past one value of type `ty`.
	fn skip(&self, ty: u32, input: &mut &[u8]) -> Result<(), String> {
		let found = self.resolve(ty)?;
		let name = || found.path.segments.join("::");
		match &found.type_def {
			TypeDef::Composite(composite) => {
				composite.fields.iter().try_for_each(|field| self.skip(field.ty.id, input))
			}
			TypeDef::Variant(variants) => {
				let index = take(input, 1)?[0];
				let variant = variants
					.variants
					.iter()
					.find(|variant| variant.index == index)
					.ok_or(format!("{} has no variant {index}", name()))?;
				variant.fields.iter().try_for_each(|field| self.skip(field.ty.id, input))
			}
			TypeDef::Sequence(sequence) => {
				let length = compact_length(input)?;
				(0..length).try_for_each(|_| self.skip(sequence.type_param.id, input))
			}
			TypeDef::Array(array) => {
				(0..array.len).try_for_each(|_| self.skip(array.type_param.id, input))
			}
			TypeDef::Tuple(tuple) => {
				tuple.fields.iter().try_for_each(|field| self.skip(field.id, input))
			}
			TypeDef::Primitive(primitive) => skip_primitive(primitive, input),
			TypeDef::Compact(_) => Compact::<u128>::decode(input)
				.map(drop)
				.map_err(|error| format!("a compact integer: {error}")),
			TypeDef::BitSequence(_) => {
				let bits = compact_length(input)?;
				take(input, bits.div_ceil(8)).map(drop)
			}
		}
	}
}

/// Moves `input` past one value of a primitive type.
fn skip_primitive(primitive: &TypeDefPrimitive, input: &mut &[u8]) -> Result<(), String> {
	let width = match primitive {
		TypeDefPrimitive::Bool => {
			return match take(input, 1)?[0] {
				0 | 1 => Ok(()),
				other => Err(format!("{other} is not a bool")),
			}
		}
		TypeDefPrimitive::Str => {
			let length = compact_length(input)?;
			return std::str::from_utf8(take(input, length)?)
				.map(drop)
				.map_err(|error| format!("a string: {error}"));
		}
		TypeDefPrimitive::U8 | TypeDefPrimitive::I8 => 1,
		TypeDefPrimitive::U16 | TypeDefPrimitive::I16 => 2,
		TypeDefPrimitive::Char | TypeDefPrimitive::U32 | TypeDefPrimitive::I32 => 4,
		TypeDefPrimitive::U64 | TypeDefPrimitive::I64 => 8,
		TypeDefPrimitive::U128 | TypeDefPrimitive::I128 => 16,
		TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => 32,
	};
	take(input, width).map(drop)
}

/// A compact-encoded length.
fn compact_length(input: &mut &[u8]) -> Result<usize, String> {
	let length = Compact::<u32>::decode(input).map_err(|error| format!("a length: {error}"))?;
	usize::try_from(length.0).map_err(|error| error.to_string())
}

/// The next `count` bytes of `input`, which moves past them.
fn take<'a>(input: &mut &'a [u8], count: usize) -> Result<&'a [u8], String> {
	if input.len() < count {
		return Err(format!("{count} bytes expected, {} left", input.len()));
	}
	let (taken, rest) = input.split_at(count);
	*input = rest;
	Ok(taken)
}

/// An error if bytes are left over after `what` was read.
fn ensure_consumed(rest: &[u8], what: &str) -> Result<(), String> {
	match rest.len() {
		0 => Ok(()),
		left => Err(format!("{what} has {left} bytes its type does not account for")),
	}
}

/// The keys of storage item `pallet::entry` at the best block, each without the item's prefix:
/// the hashed (and, for concatenating hashers, encoded) map key.
pub async fn storage_keys(
	chain: &Chain,
	pallet: &str,
	entry: &str,
) -> Result<Vec<Vec<u8>>, String> {
	let prefix = storage_prefix(pallet.as_bytes(), entry.as_bytes());
	let keys = keys_with_prefix(chain, &prefix).await?;
	Ok(keys.into_iter().map(|key| key[prefix.len()..].to_vec()).collect())
}

/// Every key under `prefix` at the best block.
async fn keys_with_prefix(chain: &Chain, prefix: &[u8]) -> Result<Vec<Vec<u8>>, String> {
	let mut keys = Vec::new();
	let mut start: Option<String> = None;
	loop {
		let page: Vec<String> = chain
			.rpc("state_getKeysPaged", rpc_params![to_hex(prefix, false), PAGE, start.clone()])
			.await?;
		let full = page.len() == PAGE as usize;
		start = page.last().cloned();
		for key in page {
			keys.push(from_hex(&key).map_err(|error| format!("bad key hex: {error}"))?);
		}
		if !full {
			return Ok(keys);
		}
	}
}
