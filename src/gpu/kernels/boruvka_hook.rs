//! A root younger than the root across its best edge hooks onto it and dies there
//! (`shaders/boruvka_hook.wgsl`; CPU port `cpu::ports::boruvka_hook`). Sized by the roots entering
//! the round.

super::kernel!(
    /// `boruvka_hook.wgsl`.
    BoruvkaHook = boruvka_hook, indirect at crate::layout::SLOT_HOOK
);
