//! CPU port of `shaders/pointer_jump.wgsl`: pointer jumping compresses the forest.

use super::BoruvkaState;

/// `pointer_jump`: every vertex points straight at its root (the GPU visits only the roots that
/// hooked this round; `boruvka_select` points the others at their roots when it meets them, so the
/// roots seen by the next round are the same).
pub fn pointer_jump(s: &mut BoruvkaState) {
    for v in 0..s.parent.len() {
        let mut r = s.parent[v];
        while s.parent[r as usize] != r {
            r = s.parent[r as usize];
        }
        s.parent[v] = r;
    }
}
