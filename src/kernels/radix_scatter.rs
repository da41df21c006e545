//! Stable scatter of one radix pass (`shaders/radix_scatter.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Stable scatter of one radix pass (`shaders/radix_scatter.wgsl`).
/// Bindings: params, keys_in, payload_in, offsets, keys_out, payload_out.
#[derive(Debug)]
pub struct RadixScatter(pub ComputeKernel);

impl RadixScatter {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.radix_scatter",
            shader!("radix_scatter"),
            &[
                Binding::Uniform,
                Binding::Read,
                Binding::Read,
                Binding::Read,
                Binding::ReadWrite,
                Binding::ReadWrite,
            ],
            &[],
        ))
    }
}
