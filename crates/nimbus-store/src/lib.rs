//! nimbus-store: see README of the crate.
