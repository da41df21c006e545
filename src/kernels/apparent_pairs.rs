//! Apparent pairs of H1 of a volume, 4 bits per square (`shaders/apparent_pairs.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Apparent pairs (square, youngest facet) of H1 of a volume, 4 bits per square
/// (`shaders/apparent_pairs.wgsl`; CPU reference [`crate::cpu::apparent_pairs`]).
/// Bindings: params (of the dual graph), rank, apparent.
#[derive(Debug)]
pub struct ApparentPairs(pub ComputeKernel);

impl ApparentPairs {
    /// Compile the kernel (volume graphs only: override `VOLUME` set).
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.apparent_pairs",
            shader!("apparent_pairs"),
            &[Binding::Uniform, Binding::Read, Binding::ReadWrite],
            &[("VOLUME", 1.0)],
        ))
    }
}
