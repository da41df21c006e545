//! Reduce step of the multi-level exclusive scan: the sum of each block of `SCAN_BLOCK` values (`shaders/scan_reduce.wgsl`;
//! CPU port `cpu::ports::scan_reduce`).

super::kernel!(
    /// `scan_reduce.wgsl`.
    ScanReduce = scan_reduce, per group crate::layout::SCAN_BLOCK
);
