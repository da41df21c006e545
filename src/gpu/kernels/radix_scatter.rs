//! Scatter step of one radix pass, stable: every key to its place (`shaders/radix_scatter.wgsl`;
//! CPU port `cpu::ports::radix_scatter`).

super::kernel!(
    /// `radix_scatter.wgsl`.
    RadixScatter = radix_scatter, per group crate::layout::TILE
);
