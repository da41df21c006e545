//! The loss of every map from its pixels' shares, in a fixed order (`shaders/loss_reduce.wgsl`; CPU
//! port `cpu::ports::loss_reduce`).

super::kernel!(
    /// `loss_reduce.wgsl`.
    LossReduce = loss_reduce, per group 1
);
