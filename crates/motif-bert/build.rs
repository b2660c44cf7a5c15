//! Tells the tests which of the CPU features the kernels use the build
//! machine has (see `host_features.rs`).

include!("host_features.rs");

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=host_features.rs");
    emit_host_cfgs();
}
