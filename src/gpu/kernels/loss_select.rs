//! The loss's selection, one workgroup per map: the last pixel, the values' check, each record's
//! persistence, the beta_k most persistent features (`shaders/loss_select.wgsl`; CPU port
//! `cpu::ports::loss_select`).

super::kernel!(
    /// `loss_select.wgsl`.
    LossSelect = loss_select, per group 1
);
