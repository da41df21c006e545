//! One pointer-jumping step (`shaders/pointer_jump.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// One pointer-jumping step (`shaders/pointer_jump.wgsl`).
/// Bindings: params, parent, control.
#[derive(Debug)]
pub struct PointerJump(pub ComputeKernel);

impl PointerJump {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.pointer_jump",
            shader!("pointer_jump"),
            &[Binding::Uniform, Binding::ReadWrite, Binding::ReadWrite],
            &[],
        ))
    }
}
