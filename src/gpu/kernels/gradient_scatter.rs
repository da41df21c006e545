//! The dense gradient from contributions sorted by pixel, summed per pixel in order (`shaders/gradient_scatter.wgsl`; CPU port `cpu::ports::gradient_scatter`).

use super::{groups_of, ComputeKernel, KernelTimer};
use crate::layout::gradient_scatter::{Bindings, SHADER};

#[derive(Debug)]
pub(crate) struct GradientScatter(ComputeKernel);

impl GradientScatter {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[]))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// Adds up `contributions` sorted contributions.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        contributions: u64,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch(pass, bind, groups_of(&SHADER, contributions), timer);
    }
}
