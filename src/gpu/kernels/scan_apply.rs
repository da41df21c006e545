//! Scan step of the multi-level exclusive scan: each block of `SCAN_BLOCK` values scanned in place, plus its offset (`shaders/scan_apply.wgsl`;
//! CPU port `cpu::ports::scan_apply`).

super::kernel!(
    /// `scan_apply.wgsl`.
    ScanApply = scan_apply, per group crate::layout::SCAN_BLOCK
);
