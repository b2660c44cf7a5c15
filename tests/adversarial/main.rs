//! The adversarial suite: motif used as a hostile or careless user would
//! use it. Malformed inputs of every kind, hostile documents rendered
//! through the report, closed pipes, read-only and damaged indexes and
//! model caches, and `kill -9` at seeded points of `motif index`. Each
//! module holds the regression tests of one area; every finding of
//! issue 19 has a test here that failed before its fix.

#[path = "../common/mod.rs"]
mod common;

mod input;
mod report;
mod store;
