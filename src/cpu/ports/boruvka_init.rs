//! CPU port of `shaders/boruvka_init.wgsl`: every vertex a singleton component with its birth key, no best edge, not dead.

use super::BoruvkaState;
use crate::grid::{Grid, NONE};

/// `boruvka_init`.
pub fn boruvka_init(grid: &Grid, rank: &[u32]) -> BoruvkaState {
    let nv = grid.vertex_count();
    BoruvkaState {
        parent: (0..nv).collect(),
        vertex_key: (0..nv).map(|v| grid.vertex_key(v, rank)).collect(),
        best: vec![(NONE, NONE); nv as usize],
        target: vec![NONE; nv as usize],
        death: vec![(NONE, NONE); nv as usize],
        hooks: 0,
    }
}
