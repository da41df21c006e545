//! Per-image ranks and order from the sorted payload (`shaders/rank_scatter.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Per-image ranks and order from the sorted payload (`shaders/rank_scatter.wgsl`).
/// Bindings: params, sorted_payload, rank, order.
#[derive(Debug)]
pub struct RankScatter(pub ComputeKernel);

impl RankScatter {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.rank_scatter",
            shader!("rank_scatter"),
            &[
                Binding::Uniform,
                Binding::Read,
                Binding::ReadWrite,
                Binding::ReadWrite,
            ],
            &[],
        ))
    }
}
