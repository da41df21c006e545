//! CPU port of `shaders/boruvka_select.wgsl` (its three modes together): each component's minimum outgoing
//! edge, as the lexicographic minimum of its 64-bit key (`atomicMin` on the high word, then on the low
//! word among the edges of that high word), then the root across it.

use super::BoruvkaState;
use crate::grid::{Grid, NONE};

/// `boruvka_select`, all three modes: each root's minimum outgoing edge and the root across it.
pub fn boruvka_select(grid: &Grid, rank: &[u32], s: &mut BoruvkaState) {
    s.best.fill((NONE, NONE));
    let ne = grid.edge_count();
    let ends = |s: &BoruvkaState, e: u32| {
        let (a, b) = grid.edge_vertices(e);
        (s.parent[a as usize], s.parent[b as usize])
    };
    for e in 0..ne {
        let (ra, rb) = ends(s, e);
        if ra != rb {
            let (hi, _) = grid.edge_key(e, rank);
            for r in [ra, rb] {
                let b = &mut s.best[r as usize].0;
                *b = (*b).min(hi);
            }
        }
    }
    for e in 0..ne {
        let (ra, rb) = ends(s, e);
        if ra != rb {
            let (hi, lo) = grid.edge_key(e, rank);
            for r in [ra, rb] {
                let b = &mut s.best[r as usize];
                if b.0 == hi {
                    b.1 = b.1.min(lo);
                }
            }
        }
    }
    for e in 0..ne {
        let (ra, rb) = ends(s, e);
        if ra != rb {
            let key = grid.edge_key(e, rank);
            if s.best[ra as usize] == key {
                s.target[ra as usize] = rb;
            }
            if s.best[rb as usize] == key {
                s.target[rb as usize] = ra;
            }
        }
    }
}
