//! Singleton components, birth keys, cleared best keys (`shaders/boruvka_init.wgsl`;
//! CPU port `cpu::ports::boruvka_init`).

super::kernel!(
    /// `boruvka_init.wgsl`.
    BoruvkaInit = boruvka_init, graphs, per invocation
);
