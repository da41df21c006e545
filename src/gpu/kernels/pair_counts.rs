//! A graph's pair records counted per item (`shaders/pair_counts.wgsl`; CPU port
//! `cpu::ports::pair_counts`).

super::kernel!(
    /// `pair_counts.wgsl`.
    PairCounts = pair_counts, per invocation
);
