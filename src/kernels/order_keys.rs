//! Order-preserving keys of the pixels and the identity payload (`shaders/order_keys.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Order-preserving keys of the pixels and the identity payload (`shaders/order_keys.wgsl`).
/// Bindings: params, values, keys, payload.
#[derive(Debug)]
pub struct OrderKeys(pub ComputeKernel);

impl OrderKeys {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.order_keys",
            shader!("order_keys"),
            &[
                Binding::Uniform,
                Binding::Read,
                Binding::ReadWrite,
                Binding::ReadWrite,
            ],
            &[],
        ))
    }
}
