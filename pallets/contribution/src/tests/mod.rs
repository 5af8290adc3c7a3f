//! Tests of the contribution pallet: scenarios that follow the protocol, every refusal, a
//! property test over random interleavings, and adversarial histories across all the protocol's
//! pallets. Each checks every pallet's invariants at its end.

mod adversarial;
mod dataset_keys;
mod migrations;
mod properties;
mod refusals;
mod scenarios;
mod scheduler;
mod single_batch;
