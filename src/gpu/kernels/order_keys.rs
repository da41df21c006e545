//! Order-preserving `u32` keys of the `f32` pixels and the identity payload the sort carries (`shaders/order_keys.wgsl`;
//! CPU port `cpu::ports::order_keys`).

super::kernel!(
    /// `order_keys.wgsl`.
    OrderKeys = order_keys, per invocation
);
