//! Singleton components, birth keys, cleared edges (`shaders/boruvka_init.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Singleton components, birth keys, cleared edges (`shaders/boruvka_init.wgsl`).
/// Bindings: params, rank, parent, vkey, best_hi, best_lo.
#[derive(Debug)]
pub struct BoruvkaInit(pub ComputeKernel);

impl BoruvkaInit {
    /// Compile the kernel for image graphs or (`volume`) for volume graphs (override `VOLUME`).
    pub fn new(device: &wgpu::Device, volume: bool) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.boruvka_init",
            shader!("boruvka_init"),
            &[
                Binding::Uniform,
                Binding::Read,
                Binding::ReadWrite,
                Binding::ReadWrite,
                Binding::ReadWrite,
                Binding::ReadWrite,
            ],
            &[("VOLUME", volume as u8 as f64)],
        ))
    }
}
