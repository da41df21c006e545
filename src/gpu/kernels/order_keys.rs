//! Order-preserving `u32` keys of the `f32` pixels and the identity payload the sort carries
//! (`shaders/order_keys.wgsl`; CPU port `cpu::ports::order_keys`).

use super::{groups_of, ComputeKernel, KernelTimer};
use crate::layout::order_keys::{Bindings, SHADER};

#[derive(Debug)]
pub(crate) struct OrderKeys(ComputeKernel);

impl OrderKeys {
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(device, &SHADER, &[]))
    }

    pub fn bind(&self, device: &wgpu::Device, bindings: Bindings<'_>) -> wgpu::BindGroup {
        self.0.bind(device, &bindings.entries())
    }

    /// Keys of `pixels` values.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        pixels: u64,
        timer: Option<&KernelTimer>,
    ) {
        self.0
            .dispatch(pass, bind, groups_of(&SHADER, pixels), timer);
    }
}
