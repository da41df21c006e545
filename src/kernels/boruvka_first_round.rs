//! The first hooking round, vertex by vertex (`shaders/boruvka_first_round.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// Every vertex takes its minimum incident edge and hooks across it if it is younger.
/// Bindings: params, rank, parent, vkey, best_hi, best_lo, control, roots_out.
#[derive(Debug)]
pub struct BoruvkaFirstRound(pub ComputeKernel);

impl BoruvkaFirstRound {
    /// Compile the kernel for image graphs or (`volume`) for volume graphs (override `VOLUME`).
    pub fn new(device: &wgpu::Device, volume: bool) -> Self {
        Self(ComputeKernel::new(
            device,
            "wgpu-persistence.boruvka_first_round",
            shader!("boruvka_first_round"),
            &[
                Binding::Uniform,
                Binding::Read,
                Binding::ReadWrite,
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
