//! The model runtimes behind one trait, and the choices that pick one.
//!
//! A `Backend` turns a padded batch of token ids into one pooled vector per
//! row; it knows nothing of text. Two exist: `native::CpuBert` (f32 GEMM and
//! fused, multiversioned kernels; bf16 and int8 on AMX tiles or AVX-512,
//! AVX-VNNI and AVX2 dot products, as `cpu::CpuFeatures` allow) for the
//! CPU, and
//! `candle::CandleBert` for CUDA or, when asked for, the CPU to compare. Both
//! read the same `weights::BertConfig` and `weights::Weights`.

pub mod arch;
pub mod candle;
pub mod cpu;
pub mod native;
pub mod weights;

use candle_core::Device;

use crate::error::{chain, Error};

/// One padded batch of token ids, row-major `rows × len`.
pub struct TokenBatch {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    pub mask: Vec<u32>,
    pub rows: usize,
    pub len: usize,
    /// Leading tokens of every row that pooling leaves out: the prompt
    /// when the pooling config says `include_prompt: false`; else 0.
    pub pool_skip: usize,
}

/// A model runtime: turns a padded batch into one pooled vector per row.
pub trait Backend: Send + Sync {
    fn embed_batch(&self, batch: &TokenBatch) -> Result<Vec<Vec<f32>>, Error>;
    fn device_name(&self) -> String;
    /// Which multiply computes it: "f32", "int8 on AVX-512 VNNI", "candle bf16".
    fn kernels(&self) -> String;
    /// The precision it computes in (`Auto` resolved).
    fn precision(&self) -> Precision;
}

/// How token vectors become one passage vector (from the model folder's
/// `1_Pooling/config.json`; mean when the folder has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
    Max,
    /// The last real token (decoder-style embedders).
    LastToken,
    /// The sum divided by √length.
    MeanSqrtLen,
}

impl Pooling {
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
            Pooling::Max => "max",
            Pooling::LastToken => "lasttoken",
            Pooling::MeanSqrtLen => "mean_sqrt_len",
        }
    }

    /// One vector from a sequence's token vectors (`rows`: len × h, row-major);
    /// `skip` leading tokens are left out where the mode averages or picks
    /// (sentence-transformers' Pooling zeroes their mask; CLS reads token 0 regardless).
    pub fn pool(self, rows: &[f32], h: usize, skip: usize) -> Vec<f32> {
        let len = rows.len() / h;
        // A text no longer than its prompt keeps its last token, as a mask of zeros
        // would leave nothing (sentence-transformers then divides by its 1e-9 clamp).
        let skip = skip.min(len.saturating_sub(1));
        let kept = rows[skip * h..].chunks_exact(h);
        match self {
            Pooling::Cls => rows[..h].to_vec(),
            Pooling::LastToken => rows[(len - 1) * h..].to_vec(),
            Pooling::Mean | Pooling::MeanSqrtLen => {
                let mut sum = vec![0.0f32; h];
                for row in kept {
                    sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                }
                let n = (len - skip) as f32;
                let by = if self == Pooling::Mean { n } else { n.sqrt() };
                sum.iter_mut().for_each(|s| *s /= by);
                sum
            }
            Pooling::Max => {
                let mut max = vec![f32::NEG_INFINITY; h];
                for row in kept {
                    max.iter_mut().zip(row).for_each(|(m, v)| *m = m.max(*v));
                }
                max
            }
        }
    }
}

/// Where the model runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The CPU (always available).
    #[default]
    Cpu,
    /// The first CUDA GPU (needs a build with the `cuda` feature).
    Cuda,
    /// A CUDA GPU when one is usable, else the CPU (`SelectedDevice::fallback` says why).
    Auto,
}

/// Number format of the model's matrix multiplies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats: the reference, in parity with sentence-transformers.
    #[default]
    F32,
    /// bfloat16 products with f32 sums: on CPUs with AMX (Intel Sapphire
    /// Rapids and newer) or AVX-512 BF16 (AMD Zen 4 and newer) and on CUDA
    /// GPUs. Faster, slightly different vectors.
    Bf16,
    /// int8 weights (per output column) times activations quantised per
    /// row, summed in i32: on CPUs with AMX-INT8, AVX-512 VNNI, AVX-VNNI or
    /// AVX2.
    Int8,
    /// The fastest of these the device offers within int8's quality bound
    /// (int8 on AMX or VNNI, then bf16, then f32 on a CPU; bf16 on a GPU),
    /// resolved at load: a loaded model never reports `Auto`.
    Auto,
}

impl Precision {
    /// As `--precision` and the serialised form spell it.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
            Precision::Auto => "auto",
        }
    }
}

/// Which runtime computes the model on the CPU. On a GPU it is always
/// candle's (the native kernels are CPU code).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackendKind {
    /// The native kernels: about twice candle's CPU speed here.
    #[default]
    Native,
    /// candle's CPU backend, to compare against.
    Candle,
}

/// The device a `DeviceChoice` came to.
#[derive(Debug, Clone)]
pub struct SelectedDevice {
    pub device: Device,
    /// Why `DeviceChoice::Auto` ended on the CPU (None when it found a GPU,
    /// or for an explicit choice).
    pub fallback: Option<String>,
}

pub fn select_device(choice: DeviceChoice) -> Result<SelectedDevice, Error> {
    match choice {
        DeviceChoice::Cpu => Ok(SelectedDevice { device: Device::Cpu, fallback: None }),
        DeviceChoice::Cuda => Ok(SelectedDevice { device: cuda_device()?, fallback: None }),
        DeviceChoice::Auto => Ok(match cuda_device() {
            Ok(device) => SelectedDevice { device, fallback: None },
            Err(e) => SelectedDevice { device: Device::Cpu, fallback: Some(chain(&e)) },
        }),
    }
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device, Error> {
    Device::new_cuda(0).map_err(|e| Error::Cuda(Box::new(e)))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device, Error> {
    Err(Error::Device(
        "this motif was built without CUDA; rebuild with `cargo build --release --features cuda` (needs the CUDA toolkit)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_names_are_their_serialised_form() {
        for p in [Precision::F32, Precision::Bf16, Precision::Int8, Precision::Auto] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.name());
        }
    }

    #[test]
    fn auto_falls_back_to_the_cpu_and_says_why() {
        let cpu = select_device(DeviceChoice::Cpu).unwrap();
        assert!(cpu.device.is_cpu() && cpu.fallback.is_none());
        let auto = select_device(DeviceChoice::Auto).unwrap();
        if auto.device.is_cpu() {
            let why = auto.fallback.expect("a fallback to the CPU carries its reason");
            assert!(why.contains("CUDA"), "{why}");
        } else {
            assert!(auto.fallback.is_none());
        }
    }
}
