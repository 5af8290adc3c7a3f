//! Tests of the contribution pallet: scenarios that follow the protocol, every refusal, and a
//! property test over random interleavings. Each checks every pallet's invariants at its end.

mod dataset_keys;
mod properties;
mod refusals;
mod scenarios;
mod scheduler;
