//! H1's apparent pairs of a volume, 4 bits per square (`shaders/apparent_pairs.wgsl`; CPU port
//! `cpu::ports::apparent_pairs`).

use super::{groups_of, ComputeKernel, KernelTimer};
use crate::layout::apparent_pairs::{Bindings, SHADER};

#[derive(Debug)]
pub(crate) struct ApparentPairs(ComputeKernel);

impl ApparentPairs {
    /// The kernel (volume graphs only: override `VOLUME` set).
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[("VOLUME", 1.0)]))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// One invocation per word (8 squares) of the batch.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        words: u64,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch(pass, bind, groups_of(&SHADER, words), timer);
    }
}
