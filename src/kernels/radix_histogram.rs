//! Per-tile digit counts of one radix pass (`shaders/radix_histogram.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Per-tile digit counts of one radix pass (`shaders/radix_histogram.wgsl`).
/// Bindings: params, keys, payload, hist.
#[derive(Debug)]
pub struct RadixHistogram(pub ComputeKernel);

impl RadixHistogram {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.radix_histogram",
            shader!("radix_histogram"),
            &[
                Binding::Uniform,
                Binding::Read,
                Binding::Read,
                Binding::ReadWrite,
            ],
            &[],
        ))
    }
}
