//! CPU port of `shaders/boruvka_hook.wgsl`: the elder rule in parallel. A component hooks onto the
//! component across its minimum outgoing edge exactly when it is younger (its root's birth key is
//! larger); the pair (its root, that edge) is then final. See `docs/algorithms.md` for the proof.

use super::BoruvkaState;
use crate::grid::NONE;

/// `boruvka_hook`: a root younger than the root across its best edge hooks onto it and dies there.
pub fn boruvka_hook(s: &mut BoruvkaState) {
    for r in 0..s.parent.len() {
        if s.parent[r] != r as u32 || s.best[r] == (NONE, NONE) {
            continue;
        }
        let t = s.target[r] as usize;
        if s.vertex_key[r] > s.vertex_key[t] {
            s.parent[r] = t as u32;
            s.death[r] = s.best[r];
            s.hooks += 1;
        }
    }
}
