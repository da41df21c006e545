//! Writes the indirect dispatch sizes of the data-dependent loops from the counters the kernels keep
//! (`shaders/boruvka_control.wgsl`; CPU port `cpu::ports::boruvka_control`).

use super::{ComputeKernel, KernelTimer};
use crate::layout::boruvka_control::SHADER;

/// When in a round the control kernel runs (`MODE` of the shader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ControlStep {
    /// The start of a round after the first: the lists of the last round become this round's input.
    RoundStart = 0,
    /// After the first select pass: the size of the other two.
    AfterSelect = 1,
    /// After the hook: the size of the pointer jump.
    AfterHook = 2,
    /// The start of the first round.
    FirstRound = 3,
}

super::kernel!(
    /// `boruvka_control.wgsl`.
    BoruvkaControl = boruvka_control
);

impl BoruvkaControl {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::variants(
            device,
            &SHADER,
            &[
                &[("MODE", 0.0)],
                &[("MODE", 1.0)],
                &[("MODE", 2.0)],
                &[("MODE", 3.0)],
            ],
        ))
    }

    /// One invocation.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        step: ControlStep,
        bind: &wgpu::BindGroup,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch_variant(pass, step as usize, bind, (1, 1), timer);
    }
}
