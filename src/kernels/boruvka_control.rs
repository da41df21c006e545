//! Writes the indirect dispatch sizes of the data-dependent loops (`shaders/boruvka_control.wgsl`).

use super::{shader, Binding, ComputeKernel};

/// `MODE` 0 (start of a round), 1 (after the first select pass), 2 (after the hook), 3 (start of
/// the first round). Bindings: control, args.
#[derive(Debug)]
pub struct BoruvkaControl(pub [ComputeKernel; 4]);

impl BoruvkaControl {
    /// Compile every mode.
    pub fn new(device: &wgpu::Device) -> Self {
        let make = |mode: f64| {
            ComputeKernel::new(
                device,
                "wgpu-persistence.boruvka_control",
                shader!("boruvka_control"),
                &[Binding::ReadWrite, Binding::ReadWrite],
                &[("MODE", mode)],
            )
        };
        Self([make(0.0), make(1.0), make(2.0), make(3.0)])
    }
}
