//! Every feature's two entries placed in its pixels' lists (`shaders/loss_scatter.wgsl`; CPU port
//! `cpu::ports::loss_scatter`).

super::kernel!(
    /// `loss_scatter.wgsl`.
    LossScatter = loss_scatter, per invocation
);
