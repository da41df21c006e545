//! Sequential elder-rule pairing (Kruskal with union-find): the CPU backend's pairing and the
//! reference every GPU pairing result is tested against.

use crate::grid::Grid;

/// `(dying vertex, processing key (hi, lo) of the edge that kills its class)`.
pub type ElderPair = (u32, (u32, u32));

/// Find with path halving; roots are always the oldest vertex of their component.
#[inline]
pub fn find(parent: &mut [u32], mut v: u32) -> u32 {
    while parent[v as usize] != v {
        let grand = parent[parent[v as usize] as usize];
        parent[v as usize] = grand;
        v = grand;
    }
    v
}

/// Elder-rule H0 pairs of `grid`: `(dying vertex, processing key of the killing edge)` in processing
/// order, and the roots left at the end (the essential classes).
pub fn elder_pairs(grid: &Grid, rank: &[u32]) -> (Vec<ElderPair>, Vec<u32>) {
    let nv = grid.vertex_count();
    let ne = grid.edge_count();
    let vkey: Vec<u32> = (0..nv).map(|v| grid.vertex_key(v, rank)).collect();
    let mut edges: Vec<(u64, u32)> = (0..ne)
        .map(|e| {
            let (hi, lo) = grid.edge_key(e, rank);
            (((hi as u64) << 32) | lo as u64, e)
        })
        .collect();
    edges.sort_unstable();
    let mut parent: Vec<u32> = (0..nv).collect();
    let mut pairs = Vec::with_capacity(nv as usize);
    for (key, e) in edges {
        let (a, b) = grid.edge_vertices(e);
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra == rb {
            continue;
        }
        let (young, old) = if vkey[ra as usize] > vkey[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        parent[young as usize] = old;
        pairs.push((young, ((key >> 32) as u32, key as u32)));
    }
    let roots = (0..nv).filter(|&v| parent[v as usize] == v).collect();
    (pairs, roots)
}
