//! What the CPU offers the model's matrix multiplies, read once from CPUID
//! (and, for AMX, from the Linux kernel's grant of tile state), less the
//! features a user chose to hide.
//!
//! Hiding is how the paths of CPUs without AMX are tested and benchmarked
//! on a machine that has it: `CpuFeatures::detect().hiding("amx")` makes
//! `--precision bf16` take AVX-512 BF16 and `--precision int8` take
//! AVX-512 VNNI, exactly as on an AMD Zen 4. Only the choice of the
//! precision kernels listens to it; the element-wise kernels keep their own
//! AVX-512/AVX2 choice.

use crate::error::Error;

/// The instruction sets the precision kernels choose between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuFeatures {
    /// AVX-512 F and BW (the base every AVX-512 kernel here needs).
    pub avx512: bool,
    /// `vdpbf16ps`: bf16 pairs multiplied into f32 lanes (Zen 4, Cooper Lake, Sapphire Rapids).
    pub avx512_bf16: bool,
    /// `vpdpbusd` on 512-bit vectors: u8 × i8 quadruples into i32 lanes.
    pub avx512_vnni: bool,
    /// `vpdpbusd` on 256-bit vectors with the VEX encoding (Intel client chips since Alder Lake).
    pub avx_vnni: bool,
    /// AVX2 and FMA: int8 through `vpmaddubsw` (every x86-64 CPU since about 2013).
    pub avx2: bool,
    /// AMX tiles with bf16 products, granted by the OS.
    pub amx_bf16: bool,
    /// AMX tiles with int8 products, granted by the OS.
    pub amx_int8: bool,
}

/// The names `hiding` takes, and what each one hides.
pub const HIDEABLE: &[(&str, &str)] = &[
    ("amx", "AMX tiles, bf16 and int8"),
    ("amx-bf16", "AMX bf16 tiles"),
    ("amx-int8", "AMX int8 tiles"),
    ("avx512-bf16", "AVX-512 BF16 (vdpbf16ps)"),
    ("avx512-vnni", "AVX-512 VNNI (512-bit vpdpbusd)"),
    ("avx-vnni", "AVX-VNNI (256-bit vpdpbusd)"),
    ("avx2", "AVX2 int8 (vpmaddubsw)"),
];

impl CpuFeatures {
    /// This CPU's features (all false off x86-64).
    pub fn detect() -> CpuFeatures {
        #[cfg(target_arch = "x86_64")]
        {
            use super::native::amx;
            use std::arch::is_x86_feature_detected as has;
            let avx512 = has!("avx512f") && has!("avx512bw");
            CpuFeatures {
                avx512,
                avx512_bf16: avx512 && has!("avx512bf16"),
                avx512_vnni: avx512 && has!("avx512vnni"),
                avx_vnni: has!("avxvnni") && has!("avx2"),
                avx2: has!("avx2") && has!("fma"),
                amx_bf16: amx::available(),
                amx_int8: amx::int8_available(),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        CpuFeatures::default()
    }

    /// These features without the ones named in `list` (comma-separated
    /// names from `HIDEABLE`; empty hides nothing).
    pub fn hiding(mut self, list: &str) -> Result<CpuFeatures, Error> {
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().replace('_', "-").as_str() {
                "amx" => (self.amx_bf16, self.amx_int8) = (false, false),
                "amx-bf16" => self.amx_bf16 = false,
                "amx-int8" => self.amx_int8 = false,
                "avx512-bf16" => self.avx512_bf16 = false,
                "avx512-vnni" => self.avx512_vnni = false,
                "avx-vnni" => self.avx_vnni = false,
                "avx2" => self.avx2 = false,
                _ => {
                    let known: Vec<&str> = HIDEABLE.iter().map(|(n, _)| *n).collect();
                    return Err(Error::Input(format!(
                        "cannot hide CPU feature {name:?}: the features that can be hidden are {}",
                        known.join(", ")
                    )));
                }
            }
        }
        Ok(self)
    }

    /// The features present, by their `HIDEABLE` names plus "avx512".
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.avx512, "avx512"),
            (self.avx512_bf16, "avx512-bf16"),
            (self.avx512_vnni, "avx512-vnni"),
            (self.avx_vnni, "avx-vnni"),
            (self.avx2, "avx2"),
            (self.amx_bf16, "amx-bf16"),
            (self.amx_int8, "amx-int8"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_removes_exactly_what_it_names() {
        let all = CpuFeatures {
            avx512: true,
            avx512_bf16: true,
            avx512_vnni: true,
            avx_vnni: true,
            avx2: true,
            amx_bf16: true,
            amx_int8: true,
        };
        let no_amx = all.hiding("amx").unwrap();
        assert!(!no_amx.amx_bf16 && !no_amx.amx_int8);
        assert_eq!(no_amx, CpuFeatures { amx_bf16: false, amx_int8: false, ..all });
        let bare = all.hiding(" AMX_INT8, avx512-vnni,avx-vnni ,amx-bf16,avx512-bf16,avx2").unwrap();
        assert_eq!(bare.names(), ["avx512"]);
        assert_eq!(all.hiding("").unwrap(), all);
        let err = all.hiding("amx,sse9").unwrap_err().to_string();
        assert!(err.contains("\"sse9\"") && err.contains("avx512-vnni"), "{err}");
    }

    #[test]
    fn detection_agrees_with_the_standard_library() {
        let f = CpuFeatures::detect();
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(
                f.avx512,
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw")
            );
            assert!(!f.avx512_vnni || std::arch::is_x86_feature_detected!("avx512vnni"));
        }
        assert_eq!(f.amx_int8, super::super::native::amx::int8_available());
    }
}
