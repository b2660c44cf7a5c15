//! Adversarial tests: store.

#[allow(unused_imports)]
use crate::common::*;
