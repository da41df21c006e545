//! Dead vertices and essential roots to pair records (`shaders/compact_pairs.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Dead vertices and essential roots to pair records (`shaders/compact_pairs.wgsl`).
/// Bindings: params, rank, order, keys, vkey, best_hi, best_lo, records, control.
#[derive(Debug)]
pub struct CompactPairs(pub ComputeKernel);

impl CompactPairs {
    /// Compile the kernel for image graphs or (`volume`) for volume graphs (override `VOLUME`).
    pub fn new(device: &wgpu::Device, volume: bool) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.compact_pairs",
            shader!("compact_pairs"),
            &[
                Binding::Uniform,
                Binding::Read,
                Binding::Read,
                Binding::Read,
                Binding::Read,
                Binding::Read,
                Binding::Read,
                Binding::ReadWrite,
                Binding::ReadWrite,
            ],
            &[("VOLUME", volume as u8 as f64)],
        ))
    }
}
