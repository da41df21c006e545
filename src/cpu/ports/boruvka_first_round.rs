//! CPU port of `shaders/boruvka_first_round.wgsl`: the first round on singletons, vertex by vertex.

use super::BoruvkaState;
use crate::grid::Grid;

/// `boruvka_first_round`: on singletons, each vertex takes its minimum incident edge and hooks across
/// it if it is younger; the same result as `boruvka_select` then `boruvka_hook` in round one.
pub fn boruvka_first_round(grid: &Grid, rank: &[u32], s: &mut BoruvkaState) {
    let exterior = grid.kind.is_dual().then(|| grid.vertex_count() - 1);
    for v in 0..grid.vertex_count() {
        if Some(v) == exterior {
            continue;
        }
        let best = grid
            .incident_edges(v)
            .into_iter()
            .filter_map(|e| {
                let (a, b) = grid.edge_vertices(e);
                let u = if a == v { b } else { a };
                (u != v).then(|| (grid.edge_key(e, rank), u))
            })
            .min();
        if let Some((key, u)) = best {
            if s.vertex_key[v as usize] > s.vertex_key[u as usize] {
                s.parent[v as usize] = u;
                s.death[v as usize] = key;
                s.hooks += 1;
            }
        }
    }
}
