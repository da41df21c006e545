//! Minimum outgoing edge of every component, in three passes (`shaders/boruvka_select.wgsl`; CPU
//! port `cpu::ports::boruvka_select`).

use super::{ComputeKernel, KernelTimer};
use crate::input::Domain;
use crate::layout::boruvka_select::SHADER;

/// The three passes of a round's selection (`MODE` of the shader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SelectPass {
    /// Each root's best key's high word (and the list of live edges).
    High = 0,
    /// Its low word, among the edges of that high word.
    Low = 1,
    /// The root across the best edge.
    Target = 2,
}

super::kernel!(
    /// `boruvka_select.wgsl`.
    BoruvkaSelect = boruvka_select
);

impl BoruvkaSelect {
    /// The three passes for the graphs of images or of volumes (override `VOLUME`).
    pub fn new(device: &wgpu::Device, domain: Domain) -> Self {
        let volume = domain.volume_override();
        Self(ComputeKernel::variants(
            device,
            &SHADER,
            &[
                &[("MODE", 0.0), ("VOLUME", volume)],
                &[("MODE", 1.0), ("VOLUME", volume)],
                &[("MODE", 2.0), ("VOLUME", volume)],
            ],
        ))
    }

    /// One pass, sized by the indirect slot `slot` of `args`.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        which: SelectPass,
        bind: &wgpu::BindGroup,
        args: &wgpu::Buffer,
        slot: u32,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch_indirect(pass, which as usize, bind, args, slot, timer);
    }
}
