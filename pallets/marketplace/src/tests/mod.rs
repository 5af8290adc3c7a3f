//! The marketplace's tests, one module per part of the protocol.

mod matching;
mod migrations;
mod orders;
mod properties;
mod registry;
