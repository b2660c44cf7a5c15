//! Tells the end-to-end tests which CPU features the build machine has,
//! with the same check as `crates/motif-bert`'s (`host_features.rs`), so a
//! test this CPU cannot run (int8 on the CPU needs AVX2, VNNI or AMX-INT8)
//! is reported as ignored, with the reason, rather than passing without
//! having run.

include!("crates/motif-bert/host_features.rs");

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=crates/motif-bert/host_features.rs");
    emit_host_cfgs();
}
