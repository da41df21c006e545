//! The pair records of a finished pairing, appended with an atomic counter (`shaders/compact_pairs.wgsl`; CPU port `cpu::ports::compact_pairs`).

use super::{groups_of, ComputeKernel, KernelTimer};
use crate::input::Domain;
use crate::layout::compact_pairs::{Bindings, SHADER};

#[derive(Debug)]
pub(crate) struct CompactPairs(ComputeKernel);

impl CompactPairs {
    /// The kernel for the graphs of images or of volumes (override `VOLUME`).
    pub fn new(device: &wgpu::Device, domain: Domain) -> Self {
        Self(ComputeKernel::new(
            device,
            &SHADER,
            &[("VOLUME", domain.volume_override())],
        ))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// One invocation per vertex of the batch's graphs.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        vertices: u64,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch(pass, bind, groups_of(&SHADER, vertices), timer);
    }
}
