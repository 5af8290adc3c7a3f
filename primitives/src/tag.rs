//! Tags: a bit set of features, required by app, dataset and request orders, offered by
//! workerpools and announced by workers. Bits with a meaning the protocol relies on are named
//! here; the others are free for pools to advertise.

/// A bit set of features.
pub type Tag = u64;

/// The task must run in a trusted execution environment.
pub const TEE: Tag = 1 << 0;
/// Intel SGX.
pub const SGX: Tag = 1 << 1;
/// Reserved (was a second SGX framework in the reference protocol).
pub const RESERVED: Tag = 1 << 2;
/// Intel TDX.
pub const TDX: Tag = 1 << 3;
/// A GPU.
pub const GPU: Tag = 1 << 8;
/// The workers run OCI images through a container engine: a deal for an app that is an image
/// requires it of its workerpool.
pub const CONTAINER: Tag = 1 << 9;
/// The bits that name a TEE framework. A dataset's framework bits are ignored when orders are
/// matched, so that data encrypted for one framework can be used by another.
pub const TEE_FRAMEWORKS: Tag = SGX | RESERVED | TDX;
