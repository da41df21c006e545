//! Each pixel's gradient and share of the loss from its list, in key order
//! (`shaders/loss_gather.wgsl`; CPU port `cpu::ports::loss_gather`).

super::kernel!(
    /// `loss_gather.wgsl`.
    LossGather = loss_gather, per invocation
);
