//! The marketplace's tests, one module per part of the protocol.

mod matching;
mod orders;
mod properties;
mod registry;
