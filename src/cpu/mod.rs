//! The native CPU backend: a port of every GPU stage (same names as the shaders) and the sequential
//! pipeline that answers when no adapter is present.

pub mod boruvka;
pub mod gradient_scatter;
pub mod order_keys;
pub mod radix_sort;
pub mod union_find;

use crate::diagram::RawPair;
use crate::grid::{GraphKind, Grid, NONE};
use crate::options::Options;

/// The pair record of dying vertex `vertex` of `grid`, killed by the edge with processing key `key`.
/// Mirrors `shaders/compact_pairs.wgsl`.
pub fn raw_pair(grid: &Grid, vertex: u32, key: (u32, u32), order: &[u32], rank: &[u32]) -> RawPair {
    // pairs are ordered by the rank of the death pixel, then of the birth pixel
    let (birth_rank, death_rank) = if !grid.kind.is_dual() {
        (rank[vertex as usize], key.0)
    } else {
        (!key.0, grid.cell_pixel_rank(grid.vertex_key(vertex, rank)))
    };
    RawPair {
        dim: grid.kind.is_dual() as u32,
        order: ((death_rank as u64) << 32) | birth_rank as u64,
        birth_index: order[birth_rank as usize],
        death_index: order[death_rank as usize],
    }
}

/// The raw pairs of one image (values already validated), by the sequential pipeline.
pub fn raw_pairs(values: &[f32], height: usize, width: usize, options: &Options) -> Vec<RawPair> {
    let keys = order_keys::order_keys(values, options.is_superlevel());
    let order = radix_sort::radix_sort(&keys);
    let rank = radix_sort::rank_scatter(&order);
    let (primal, dual) = GraphKind::of(options.construction);
    let mut out = Vec::with_capacity(values.len() * 2);
    for kind in [primal, dual] {
        let grid = Grid::new(kind, height, width);
        let (pairs, roots) = union_find::elder_pairs_by_pixel(&grid, &rank, &order);
        out.extend(
            pairs
                .into_iter()
                .map(|(v, key)| raw_pair(&grid, v, key, &order, &rank)),
        );
        if kind == primal {
            out.extend(roots.into_iter().map(|r| RawPair {
                dim: 0,
                order: u64::MAX,
                birth_index: r,
                death_index: NONE,
            }));
        }
    }
    out
}
