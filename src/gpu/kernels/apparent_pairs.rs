//! H1's apparent pairs of a volume, 4 bits per square (`shaders/apparent_pairs.wgsl`; CPU port
//! `cpu::ports::apparent_pairs`). Volumes only: compiled with `VOLUME` set.

use super::{ComputeKernel, KernelTimer};
use crate::layout::apparent_pairs::SHADER;

super::kernel!(
    /// `apparent_pairs.wgsl`.
    ApparentPairs = apparent_pairs
);

impl ApparentPairs {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[("VOLUME", 1.0)]))
    }

    /// One invocation per word (8 squares) of the batch.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        words: u64,
        timer: Option<&KernelTimer>,
    ) {
        let groups = super::groups_for(words, SHADER.workgroup_size[0]);
        self.0.dispatch(pass, bind, groups, timer);
    }
}
