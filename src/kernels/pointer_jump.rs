//! Pointer jumping (`shaders/pointer_jump.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// `MODE` 0: one step over the roots that hooked this round; 1: one step over every vertex.
/// Bindings: params, parent, control, hooked.
#[derive(Debug)]
pub struct PointerJump(pub [ComputeKernel; 2]);

impl PointerJump {
    /// Compile both modes.
    pub fn new(device: &wgpu::Device) -> Self {
        let make = |mode: f64| {
            ComputeKernel::new(
                device,
                "wgpu-persistence.pointer_jump",
                shader!("pointer_jump"),
                &[
                    Binding::Uniform,
                    Binding::ReadWrite,
                    Binding::ReadWrite,
                    Binding::Read,
                ],
                &[("MODE", mode)],
            )
        };
        Self([make(0.0), make(1.0)])
    }
}
