//! Reduce step of the multi-level exclusive scan: the sum of each block of `SCAN_BLOCK` values
//! (`shaders/scan_reduce.wgsl`; CPU port `cpu::ports::scan_reduce`).

use super::{groups_for, ComputeKernel, KernelTimer};
use crate::layout::scan_reduce::{Bindings, SHADER};
use crate::layout::SCAN_BLOCK;

#[derive(Debug)]
pub(crate) struct ScanReduce(ComputeKernel);

impl ScanReduce {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[]))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// One workgroup per block of `SCAN_BLOCK` of the `count` values.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        count: u32,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch(pass, bind, groups_for(count as u64, SCAN_BLOCK), timer);
    }
}
