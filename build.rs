//! Tells the end-to-end tests which CPU features the build machine has
//! (`host_avx512`, `host_amx`; the same check as `crates/motif-bert`'s), so
//! a test this CPU cannot run (bf16 on the CPU needs AMX) is reported as
//! ignored, with the reason, rather than passing without having run.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(host_avx512)");
    println!("cargo::rustc-check-cfg=cfg(host_amx)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("TARGET").ok() != std::env::var("HOST").ok() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            println!("cargo::rustc-cfg=host_avx512");
        }
        // CPUID leaf 7: AMX-BF16 (EDX bit 22) and AMX-TILE (bit 24).
        let leaf = std::arch::x86_64::__cpuid_count(7, 0);
        if leaf.edx & (1 << 22) != 0 && leaf.edx & (1 << 24) != 0 && cfg!(target_os = "linux") {
            println!("cargo::rustc-cfg=host_amx");
        }
    }
}
