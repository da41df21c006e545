//! The dense gradient from sorted contributions (`shaders/gradient_scatter.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Sums each pixel's run of contributions in order. Bindings: params, pixel, value, gradient.
#[derive(Debug)]
pub struct GradientScatter(pub ComputeKernel);

impl GradientScatter {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.gradient_scatter",
            shader!("gradient_scatter"),
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
