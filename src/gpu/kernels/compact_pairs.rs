//! The pair records of a finished pairing, appended with an atomic counter (`shaders/compact_pairs.wgsl`;
//! CPU port `cpu::ports::compact_pairs`).

super::kernel!(
    /// `compact_pairs.wgsl`.
    CompactPairs = compact_pairs, graphs, per invocation
);
