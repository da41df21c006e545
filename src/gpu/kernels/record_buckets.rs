//! A graph's pair records placed in their items' segments (`shaders/record_buckets.wgsl`; CPU port
//! `cpu::ports::record_buckets`).

super::kernel!(
    /// `record_buckets.wgsl`.
    RecordBuckets = record_buckets, per invocation
);
