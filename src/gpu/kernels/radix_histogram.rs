//! Reduce step of one radix pass: the digit counts of each tile of `TILE` keys (`shaders/radix_histogram.wgsl`;
//! CPU port `cpu::ports::radix_histogram`).

super::kernel!(
    /// `radix_histogram.wgsl`.
    RadixHistogram = radix_histogram, per group crate::layout::TILE
);
