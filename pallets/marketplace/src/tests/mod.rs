//! The marketplace's tests, one module per part of the protocol.

mod book;
mod deposits;
mod matching;
mod migrations;
mod orders;
mod properties;
mod registry;
