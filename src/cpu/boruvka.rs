//! CPU port of the GPU's parallel elder-rule pairing (`shaders/boruvka_select.wgsl`,
//! `boruvka_hook.wgsl`, `pointer_jump.wgsl`), step for step. It is slower than [`super::union_find`]
//! and exists to test the kernels (and the algorithm) against the sequential reference.
//!
//! Each round, every component finds its minimum outgoing edge (three passes of `atomicMin` on the
//! 64-bit key split in two 32-bit halves, then the edge writes its far root). A component *hooks* onto
//! its target exactly when it is younger (its root's birth key is larger); the pair (its root, that
//! edge) is then final. Pointer jumping compresses the forest. See `docs/algorithms.md` for the proof.

use crate::grid::{Grid, NONE};

/// State of the pairing, one entry per vertex.
#[derive(Debug, Clone)]
pub struct BoruvkaState {
    /// Parent pointer; compressed (points at the root) at the start of each round.
    pub parent: Vec<u32>,
    /// Birth key of each vertex.
    pub vertex_key: Vec<u32>,
    /// Best outgoing edge key of each root (`(NONE, NONE)` when none).
    pub best: Vec<(u32, u32)>,
    /// Root at the far end of the best edge.
    pub target: Vec<u32>,
    /// Key of the edge that killed the vertex's component, `(NONE, NONE)` while alive.
    pub death: Vec<(u32, u32)>,
    /// Hooks performed so far.
    pub hooks: u32,
}

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

/// `boruvka_first_round`: on singletons, each vertex takes its minimum incident edge and hooks across
/// it if it is younger; the same result as [`boruvka_select`] then [`boruvka_hook`] in round one.
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

/// Run rounds until one component is left (graphs here are connected); returns the pairs like
/// [`super::union_find::elder_pairs`] (unordered) and the number of rounds.
pub fn boruvka_pairs(grid: &Grid, rank: &[u32]) -> (Vec<super::union_find::ElderPair>, u32) {
    let mut s = boruvka_init(grid, rank);
    let target = grid.vertex_count().saturating_sub(1);
    let mut rounds = 0;
    while s.hooks < target {
        boruvka_select(grid, rank, &mut s);
        let before = s.hooks;
        boruvka_hook(&mut s);
        pointer_jump(&mut s);
        rounds += 1;
        if s.hooks == before {
            break; // disconnected graph: nothing left to merge
        }
    }
    let pairs = (0..s.parent.len() as u32)
        .filter(|&v| s.death[v as usize] != (NONE, NONE))
        .map(|v| (v, s.death[v as usize]))
        .collect();
    (pairs, rounds)
}
