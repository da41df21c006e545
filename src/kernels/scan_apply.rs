//! In-place block scan plus block offsets (`shaders/scan_apply.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// In-place block scan plus block offsets (`shaders/scan_apply.wgsl`).
/// Bindings: params, data, block_offsets.
#[derive(Debug)]
pub struct ScanApply(pub ComputeKernel);

impl ScanApply {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.scan_apply",
            shader!("scan_apply"),
            &[Binding::Uniform, Binding::ReadWrite, Binding::Read],
            &[],
        ))
    }
}
