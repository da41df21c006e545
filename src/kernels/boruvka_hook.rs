//! Younger roots hook onto the root across their best edge and die there (`shaders/boruvka_hook.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Younger roots hook onto the root across their best edge and die there (`shaders/boruvka_hook.wgsl`).
/// Bindings: params, parent, vkey, best_hi, best_lo, far_root, control, roots_in, roots_out.
#[derive(Debug)]
pub struct BoruvkaHook(pub ComputeKernel);

impl BoruvkaHook {
    /// Compile the kernel.
    pub fn new(device: &wgpu::Device) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.boruvka_hook",
            shader!("boruvka_hook"),
            &[
                Binding::Uniform,
                Binding::ReadWrite,
                Binding::Read,
                Binding::ReadWrite,
                Binding::ReadWrite,
                Binding::Read,
                Binding::ReadWrite,
                Binding::Read,
                Binding::ReadWrite,
            ],
            &[],
        ))
    }
}
