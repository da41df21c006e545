//! A root younger than the root across its best edge hooks onto it and dies there
//! (`shaders/boruvka_hook.wgsl`; CPU port `cpu::ports::boruvka_hook`).

use super::{ComputeKernel, KernelTimer};
use crate::layout::boruvka_hook::{Bindings, SHADER};
use crate::layout::SLOT_HOOK;

#[derive(Debug)]
pub(crate) struct BoruvkaHook(ComputeKernel);

impl BoruvkaHook {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[]))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// Sized by the roots entering the round (indirect slot `SLOT_HOOK` of `args`).
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        args: &wgpu::Buffer,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch_indirect(pass, 0, bind, args, SLOT_HOOK, timer);
    }
}
