//! Pointer jumping over the roots that hooked in a round (`shaders/pointer_jump.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Points the roots that hooked this round straight at their new roots.
/// Bindings: params, parent, control, hooked.
#[derive(Debug)]
pub struct PointerJump(pub ComputeKernel);

impl PointerJump {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.pointer_jump",
            shader!("pointer_jump"),
            &[
                Binding::Uniform,
                Binding::ReadWrite,
                Binding::ReadWrite,
                Binding::Read,
            ],
            &[],
        ))
    }
}
