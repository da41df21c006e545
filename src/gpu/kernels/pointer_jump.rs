//! Every root that hooked this round points straight at its new root
//! (`shaders/pointer_jump.wgsl`; CPU port `cpu::ports::pointer_jump`).

use super::{ComputeKernel, KernelTimer};
use crate::layout::pointer_jump::{Bindings, SHADER};
use crate::layout::SLOT_JUMP;

#[derive(Debug)]
pub(crate) struct PointerJump(ComputeKernel);

impl PointerJump {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[]))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// Sized by the roots that hooked this round (indirect slot `SLOT_JUMP` of `args`).
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        args: &wgpu::Buffer,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch_indirect(pass, 0, bind, args, SLOT_JUMP, timer);
    }
}
