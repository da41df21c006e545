//! Reduce step of one radix pass: the digit counts of each tile (`shaders/radix_histogram.wgsl`;
//! CPU port `cpu::ports::radix_histogram`).

use super::{groups_for, ComputeKernel, KernelTimer};
use crate::layout::radix_histogram::{Bindings, SHADER};

#[derive(Debug)]
pub(crate) struct RadixHistogram(ComputeKernel);

impl RadixHistogram {
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
