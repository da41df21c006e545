//! The one union-find of the CPU side ([`find`], over any [`Forest`]: the backends keep their parent
//! pointers in their own records), and the sequential elder-rule pairing (Kruskal) that the
//! reference pipeline and every test of a pairing compare against.

use crate::grid::Grid;

/// A union-find forest: every node names its parent; a root is its own parent.
pub(crate) trait Forest {
    /// The parent of node `v`.
    fn parent(&self, v: u32) -> u32;
    /// Points node `v` at `parent`.
    fn set_parent(&mut self, v: u32, parent: u32);
}

impl Forest for [u32] {
    #[inline(always)]
    fn parent(&self, v: u32) -> u32 {
        self[v as usize]
    }
    #[inline(always)]
    fn set_parent(&mut self, v: u32, parent: u32) {
        self[v as usize] = parent;
    }
}

/// `(dying vertex, processing key (hi, lo) of the edge that kills its class)`.
pub type ElderPair = (u32, (u32, u32));

/// The root of `v`, halving the path to it.
#[inline]
pub(crate) fn find<F: Forest + ?Sized>(forest: &mut F, mut v: u32) -> u32 {
    loop {
        let up = forest.parent(v);
        if up == v {
            return v;
        }
        let grand = forest.parent(up);
        forest.set_parent(v, grand);
        v = grand;
    }
}

/// Merges the components of `a` and `b` by the elder rule (roots are the oldest vertex, by `vkey`);
/// returns the root of the younger component, which dies, or `None` when they were one component.
#[inline]
pub(crate) fn elder_union(parent: &mut [u32], vkey: &[u32], a: u32, b: u32) -> Option<u32> {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra == rb {
        return None;
    }
    let (young, old) = if vkey[ra as usize] > vkey[rb as usize] {
        (ra, rb)
    } else {
        (rb, ra)
    };
    parent[young as usize] = old;
    Some(young)
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
        if let Some(young) = elder_union(&mut parent, &vkey, a, b) {
            pairs.push((young, ((key >> 32) as u32, key as u32)));
        }
    }
    let roots = (0..nv).filter(|&v| parent[v as usize] == v).collect();
    (pairs, roots)
}

/// Image-local neighbours of pixel `p` that share an edge of `grid`'s primal graph (4, 6 or 8 of
/// them), with the id of that edge (as numbered by [`Grid::edge_vertices`]).
fn neighbours(grid: &Grid, p: u32, out: &mut Vec<(u32, u32)>) {
    let (h, w) = (grid.height, grid.width);
    let (y, x) = (p / w, p % w);
    let nh = h * w.saturating_sub(1);
    let nv = h.saturating_sub(1) * w;
    let ns = h.saturating_sub(1) * w.saturating_sub(1);
    let sq = |yy: u32, xx: u32| yy * (w - 1) + xx;
    out.clear();
    if x + 1 < w {
        out.push((p + 1, sq(y, x)));
    }
    if x > 0 {
        out.push((p - 1, sq(y, x - 1)));
    }
    if y + 1 < h {
        out.push((p + w, nh + p));
    }
    if y > 0 {
        out.push((p - w, nh + p - w));
    }
    use crate::grid::GraphKind::*;
    if matches!(grid.kind, FPrimal | FDual | TPrimal) {
        if y + 1 < h && x + 1 < w {
            out.push((p + w + 1, nh + nv + sq(y, x)));
        }
        if y > 0 && x > 0 {
            out.push((p - w - 1, nh + nv + sq(y - 1, x - 1)));
        }
    }
    if grid.kind == TPrimal {
        if y + 1 < h && x > 0 {
            out.push((p + w - 1, nh + nv + ns + sq(y, x - 1)));
        }
        if y > 0 && x + 1 < w {
            out.push((p - w + 1, nh + nv + ns + sq(y - 1, x)));
        }
    }
}

/// The same pairs as [`elder_pairs`] (same order, same keys) without sorting the edges: edges are
/// visited pixel by pixel in rank order (reversed for the dual graphs), each pixel's few edges sorted
/// locally, which is exactly the order of their keys. `order` is the pixel order (`order[rank] = pixel`).
pub fn elder_pairs_by_pixel(
    grid: &Grid,
    rank: &[u32],
    order: &[u32],
) -> (Vec<ElderPair>, Vec<u32>) {
    use crate::grid::GraphKind::*;
    if grid.kind.is_volume() {
        return elder_pairs(grid, rank);
    }
    let nv = grid.vertex_count();
    let n = grid.height * grid.width;
    let vkey: Vec<u32> = if grid.kind.is_dual() {
        (0..nv).map(|v| grid.vertex_key(v, rank)).collect()
    } else {
        rank.to_vec()
    };
    let mut parent: Vec<u32> = (0..nv).collect();
    let mut pairs = Vec::with_capacity(nv as usize);
    let mut nbrs = Vec::with_capacity(8);
    let mut edges: Vec<(u32, u32)> = Vec::with_capacity(8); // (lo of the key, edge id)
    let (h, w) = (grid.height, grid.width);
    let boundary_base = h * w.saturating_sub(1) + h.saturating_sub(1) * w;
    let mut union = |a: u32, b: u32, key: (u32, u32), parent: &mut Vec<u32>| {
        if let Some(young) = elder_union(parent, &vkey, a, b) {
            pairs.push((young, key));
        }
    };
    match grid.kind {
        VPrimal | TPrimal | FPrimal => {
            for r in 0..n {
                let p = order[r as usize];
                neighbours(grid, p, &mut nbrs);
                edges.clear();
                edges.extend(
                    nbrs.iter()
                        .filter(|&&(q, _)| rank[q as usize] < r)
                        .map(|&(q, _)| (rank[q as usize], q)),
                );
                edges.sort_unstable();
                for &(lo, q) in &edges {
                    union(p, q, (r, lo), &mut parent);
                }
            }
        }
        VDual | FDual => {
            for r in (0..n).rev() {
                let p = order[r as usize];
                neighbours(grid, p, &mut nbrs);
                edges.clear();
                edges.extend(
                    nbrs.iter()
                        .filter(|&&(q, _)| rank[q as usize] < r)
                        .map(|&(q, e)| (rank[q as usize], e)),
                );
                edges.sort_unstable_by(|a, b| b.cmp(a));
                for &(lo, e) in &edges {
                    let (a, b) = grid.edge_vertices(e);
                    union(a, b, (!r, !lo), &mut parent);
                }
            }
        }
        TDual => {
            for r in (0..n).rev() {
                let p = order[r as usize];
                let (y, x) = (p / w, p % w);
                neighbours(grid, p, &mut nbrs);
                edges.clear();
                // boundary sides first: their keys' low words (n + side) are the largest
                for (side, on) in [(3, x + 1 == w), (2, x == 0), (1, y + 1 == h), (0, y == 0)] {
                    if on {
                        let e = boundary_base
                            + match side {
                                0 => x,
                                1 => w + x,
                                2 => 2 * w + y,
                                _ => 2 * w + h + y,
                            };
                        edges.push((n + side, e));
                    }
                }
                let boundary = edges.len();
                edges.extend(
                    nbrs.iter()
                        .filter(|&&(q, _)| rank[q as usize] > r)
                        .map(|&(q, e)| (rank[q as usize], e)),
                );
                edges[boundary..].sort_unstable_by(|a, b| b.cmp(a));
                for &(lo, e) in &edges {
                    let (a, b) = grid.edge_vertices(e);
                    union(a, b, (!r, !lo), &mut parent);
                }
            }
        }
        V3Primal | V3Dual | T3Primal | T3Dual => {} // answered by `elder_pairs` above
    }
    let roots = (0..nv).filter(|&v| parent[v as usize] == v).collect();
    (pairs, roots)
}
