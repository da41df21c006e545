//! The loss's term of every record and the count of its pixels' entries (`shaders/loss_terms.wgsl`;
//! CPU port `cpu::ports::loss_terms`).

super::kernel!(
    /// `loss_terms.wgsl`.
    LossTerms = loss_terms, per invocation
);
