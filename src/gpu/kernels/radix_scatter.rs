//! Scatter step of one radix pass, stable: every key to its place (`shaders/radix_scatter.wgsl`;
//! CPU port `cpu::ports::radix_scatter`).

use super::{groups_for, ComputeKernel, KernelTimer};
use crate::layout::radix_scatter::{Bindings, SHADER};

#[derive(Debug)]
pub(crate) struct RadixScatter(ComputeKernel);

impl RadixScatter {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[]))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// One workgroup per tile of `TILE` keys.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        tiles: u32,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch(pass, bind, groups_for(tiles as u64, 1), timer);
    }
}
