//! What an order's signature covers, its hash, and who may sign it.
//!
//! An order is signed with the chain's `MultiSignature` over its *signing payload*:
//! `SCALE(("commons/order/v1", genesis hash, kind, order))`. The genesis hash stops an order
//! signed for one chain from being matched on another; the kind stops the bytes of one kind of
//! order from being read as another. The order's hash, which consumed volume, presignatures and
//! events refer to, is `blake2_256` of the same payload.
//!
//! A sponsor signs something else: `SCALE(("commons/sponsorship/v1", genesis hash, request
//! hash))`, so that a sponsor's signature and a requester's can never stand for one another.
//! Either the requester or the sponsor a request names may cancel it.

use alloc::vec::Vec;
use codec::Encode;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Verify;
use sp_runtime::traits::Zero;

use commons_primitives::domains;

use crate::{types::*, Apps, Config, Datasets, Error, Pallet, Presigned, Workerpools};

/// Something that can be signed as an order.
pub trait Signable: Encode {
	/// Its kind, part of the payload.
	const KIND: OrderKind;
}

impl<T: Config> Signable for AppOrder<T> {
	const KIND: OrderKind = OrderKind::App;
}
impl<T: Config> Signable for DatasetOrder<T> {
	const KIND: OrderKind = OrderKind::Dataset;
}
impl<T: Config> Signable for WorkerpoolOrder<T> {
	const KIND: OrderKind = OrderKind::Workerpool;
}
impl<T: Config> Signable for RequestOrder<T> {
	const KIND: OrderKind = OrderKind::Request;
}

impl<T: Config> Pallet<T> {
	/// The bytes an order's owner signs.
	pub fn signing_payload<O: Signable>(order: &O) -> Vec<u8> {
		let genesis_hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		(domains::ORDER, genesis_hash, O::KIND, order).encode()
	}

	/// The bytes a sponsor signs to pay for `request`: the sponsorship domain, the genesis hash
	/// and the request's hash.
	pub fn sponsorship_payload(request: &RequestOrder<T>) -> Vec<u8> {
		let genesis_hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		(domains::SPONSORSHIP, genesis_hash, Self::order_hash(request)).encode()
	}

	/// The order's hash.
	pub fn order_hash<O: Signable>(order: &O) -> OrderHash {
		sp_io::hashing::blake2_256(&Self::signing_payload(order)).into()
	}

	/// Whether `signer` authorised `order`: by `signature`, or, without one, by presigning it.
	pub(crate) fn is_authorised<O: Signable>(
		order: &O,
		hash: &OrderHash,
		signature: Option<&T::OrderSignature>,
		signer: &T::AccountId,
	) -> bool {
		match signature {
			Some(signature) => signature.verify(&Self::signing_payload(order)[..], signer),
			None => Presigned::<T>::get(hash).as_ref() == Some(signer),
		}
	}

	/// Who besides its owner may cancel `order`: the sponsor a request names to pay for it.
	pub(crate) fn sponsor_of(order: &Order<T>) -> Option<&T::AccountId> {
		match order {
			Order::Request(RequestOrder { payer: Payer::Sponsor(sponsor), .. }) => Some(sponsor),
			_ => None,
		}
	}

	/// The account that must sign `order`: the owner of what it sells, or its requester.
	pub(crate) fn owner_of(order: &Order<T>) -> Result<T::AccountId, Error<T>> {
		Ok(match order {
			Order::App(order) => Apps::<T>::get(order.app).ok_or(Error::<T>::UnknownApp)?.owner,
			Order::Dataset(order) => {
				Datasets::<T>::get(order.dataset).ok_or(Error::<T>::UnknownDataset)?.owner
			}
			Order::Workerpool(order) => {
				Workerpools::<T>::get(order.workerpool)
					.ok_or(Error::<T>::UnknownWorkerpool)?
					.owner
			}
			Order::Request(order) => order.requester.clone(),
		})
	}

	/// The account that must sign `order`, and the order's hash and volume.
	pub(crate) fn owner_hash_and_volume(
		order: &Order<T>,
	) -> Result<(T::AccountId, OrderHash, u32), DispatchError> {
		Ok((Self::owner_of(order)?, Self::any_order_hash(order), order.volume()))
	}

	/// The hash of any order.
	pub fn any_order_hash(order: &Order<T>) -> OrderHash {
		match order {
			Order::App(order) => Self::order_hash(order),
			Order::Dataset(order) => Self::order_hash(order),
			Order::Workerpool(order) => Self::order_hash(order),
			Order::Request(order) => Self::order_hash(order),
		}
	}

	/// The signing payload of any order.
	pub fn any_signing_payload(order: &Order<T>) -> Vec<u8> {
		match order {
			Order::App(order) => Self::signing_payload(order),
			Order::Dataset(order) => Self::signing_payload(order),
			Order::Workerpool(order) => Self::signing_payload(order),
			Order::Request(order) => Self::signing_payload(order),
		}
	}
}
