//! The registry's tests: simulated evidence and what the registry answers, then hardware evidence
//! (collateral and DCAP quotes). Each checks the registry's invariants at its end.

mod quotes;
mod registry;
