//! Each pixel's rank within its image and each image's order, from the sorted payload (`shaders/rank_scatter.wgsl`; CPU port `cpu::ports::rank_scatter`).

use super::{groups_of, ComputeKernel, KernelTimer};
use crate::layout::rank_scatter::{Bindings, SHADER};

#[derive(Debug)]
pub(crate) struct RankScatter(ComputeKernel);

impl RankScatter {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[]))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// Ranks of `pixels` sorted pixels.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        pixels: u64,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch(pass, bind, groups_of(&SHADER, pixels), timer);
    }
}
