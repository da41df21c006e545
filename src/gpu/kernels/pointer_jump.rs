//! Every root that hooked this round points straight at its new root
//! (`shaders/pointer_jump.wgsl`; CPU port `cpu::ports::pointer_jump`). Sized by the roots that
//! hooked.

super::kernel!(
    /// `pointer_jump.wgsl`.
    PointerJump = pointer_jump, indirect at crate::layout::SLOT_JUMP
);
