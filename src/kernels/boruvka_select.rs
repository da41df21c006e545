//! Minimum outgoing edge of every component, in three passes (`shaders/boruvka_select.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// The three passes of `boruvka_select.wgsl` (`MODE` 0, 1, 2): best high word, best low word, target.
/// Bindings: params, rank, parent, best_hi, best_lo, far_root, control, edges_in, edges_out.
#[derive(Debug)]
pub struct BoruvkaSelect(pub [ComputeKernel; 3]);

impl BoruvkaSelect {
    /// Compile the three passes for image graphs or (`volume`) for volume graphs (override `VOLUME`).
    pub fn new(device: &wgpu::Device, volume: bool) -> Self {
        let make = |mode: f64| {
            ComputeKernel::new(
                device,
                "wgpu-persistence.boruvka_select",
                shader!("boruvka_select"),
                &[
                    Binding::Uniform,
                    Binding::Read,
                    Binding::ReadWrite,
                    Binding::ReadWrite,
                    Binding::ReadWrite,
                    Binding::ReadWrite,
                    Binding::ReadWrite,
                    Binding::Read,
                    Binding::ReadWrite,
                ],
                &[("MODE", mode), ("VOLUME", volume as u8 as f64)],
            )
        };
        Self([make(0.0), make(1.0), make(2.0)])
    }
}
