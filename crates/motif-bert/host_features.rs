// The CPU-feature check both build scripts share (included by
// `crates/motif-bert/build.rs` and the workspace's `build.rs`): a native
// build sets `host_avx512`, `host_amx`, `host_amx_int8`, `host_avx512_vnni`,
// `host_avx512_bf16`, `host_avx_vnni` and `host_avx2` for the features this
// machine has, so a test of a kernel it cannot run is reported as ignored,
// with the reason, rather than passing without having run. Only for native
// builds: tests run where they are built.

/// Prints the `cargo::` lines declaring the `host_*` cfgs and setting those
/// the build machine has.
fn emit_host_cfgs() {
    println!("cargo::rustc-check-cfg=cfg(host_avx512)");
    println!("cargo::rustc-check-cfg=cfg(host_amx)");
    for cfg in ["host_amx_int8", "host_avx512_vnni", "host_avx512_bf16", "host_avx_vnni", "host_avx2"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    if std::env::var("TARGET").ok() != std::env::var("HOST").ok() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") {
            println!("cargo::rustc-cfg=host_avx512");
        }
        let avx512 = has!("avx512f") && has!("avx512bw");
        if avx512 && has!("avx512vnni") {
            println!("cargo::rustc-cfg=host_avx512_vnni");
        }
        if avx512 && has!("avx512bf16") {
            println!("cargo::rustc-cfg=host_avx512_bf16");
        }
        if has!("avxvnni") && has!("avx2") {
            println!("cargo::rustc-cfg=host_avx_vnni");
        }
        if has!("avx2") && has!("fma") {
            println!("cargo::rustc-cfg=host_avx2");
        }
        // CPUID leaf 7: AMX-BF16 (EDX bit 22) and AMX-TILE (bit 24).
        let leaf = std::arch::x86_64::__cpuid_count(7, 0);
        if leaf.edx & (1 << 22) != 0 && leaf.edx & (1 << 24) != 0 && cfg!(target_os = "linux") {
            println!("cargo::rustc-cfg=host_amx");
        }
        // AMX-INT8: EDX bit 25 (and an AVX-512 CPU, as every AMX one is).
        if leaf.edx & (1 << 25) != 0 && leaf.edx & (1 << 24) != 0 && avx512 && cfg!(target_os = "linux") {
            println!("cargo::rustc-cfg=host_amx_int8");
        }
    }
}
