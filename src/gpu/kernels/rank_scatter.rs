//! Each pixel's rank within its item and each item's order, from the sorted payload (`shaders/rank_scatter.wgsl`;
//! CPU port `cpu::ports::rank_scatter`).

super::kernel!(
    /// `rank_scatter.wgsl`.
    RankScatter = rank_scatter, per invocation
);
