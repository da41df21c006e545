//! Block sums of a multi-level exclusive scan (`shaders/scan_reduce.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Block sums of a multi-level exclusive scan (`shaders/scan_reduce.wgsl`).
/// Bindings: params, data, block_sums.
#[derive(Debug)]
pub struct ScanReduce(pub ComputeKernel);

impl ScanReduce {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.scan_reduce",
            shader!("scan_reduce"),
            &[Binding::Uniform, Binding::Read, Binding::ReadWrite],
            &[],
        ))
    }
}
