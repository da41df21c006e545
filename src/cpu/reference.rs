//! The reference pipeline: every pixel ranked by a global sort, then the elder rule by union-find,
//! edge after edge, on the graphs of `crate::grid`. Slower than the CPU backend (which pairs only
//! critical pixels), and simple enough to trust: it answers `keep_zero_persistence` (every pair of
//! the complex), and the tests hold the backends and the kernels against it.

use super::ports::order_keys::order_keys;
use super::union_find;
use crate::diagram::RawPair;
use crate::grid::{GraphKind, Grid, NONE};
use crate::options::Options;

/// The total order of the contract (`docs/conventions.md`): pixel indices sorted by `(key, index)`.
/// The GPU's stable LSD radix sort of the keys, with the indices as payload, gives the same
/// permutation.
pub fn total_order(keys: &[u32]) -> Vec<u32> {
    let mut packed: Vec<u64> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| ((k as u64) << 32) | i as u64)
        .collect();
    packed.sort_unstable();
    packed.into_iter().map(|v| v as u32).collect()
}

/// `rank[order[i]] = i`.
pub fn ranks_of(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; order.len()];
    for (i, &p) in order.iter().enumerate() {
        rank[p as usize] = i as u32;
    }
    rank
}

/// The pair record of dying vertex `vertex` of `grid`, killed by the edge with processing key `key`.
/// Mirrors `shaders/compact_pairs.wgsl`.
pub fn raw_pair(grid: &Grid, vertex: u32, key: (u32, u32), order: &[u32], rank: &[u32]) -> RawPair {
    // pairs are ordered by the rank of the death pixel, then of the birth pixel
    let vertex_rank = grid.vertex_rank(grid.vertex_key(vertex, rank));
    let dual = grid.kind.is_dual();
    let (birth_rank, death_rank) = if dual {
        (!key.0, vertex_rank)
    } else {
        (vertex_rank, key.0)
    };
    RawPair {
        // H1 of an image, H2 of a volume
        dim: dual as u32 * (1 + grid.kind.is_volume() as u32),
        order: ((death_rank as u64) << 32) | birth_rank as u64,
        birth_index: order[birth_rank as usize],
        death_index: order[death_rank as usize],
        cell_slot: match (grid.kind.is_volume(), dual) {
            (false, _) => 0,
            (true, false) => key.1,
            (true, true) => !key.1,
        },
    }
}

/// The raw pairs of one image (values already validated).
pub fn raw_pairs(values: &[f32], height: usize, width: usize, options: &Options) -> Vec<RawPair> {
    let keys = order_keys(values, options.is_superlevel());
    let order = total_order(&keys);
    let rank = ranks_of(&order);
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
                cell_slot: 0,
            }));
        }
    }
    out
}

/// Every merge of volume graph `kind` (one of [`GraphKind::of_volume`]'s) of a `D x H x W` volume, by
/// the sequential reference ([`union_find::elder_pairs`]), as raw pairs: what the GPU pairing of a
/// volume hands to [`super::volume::persistence_pairs_from_merges`].
pub fn volume_merges(
    kind: GraphKind,
    [d, h, w]: [usize; 3],
    rank: &[u32],
    order: &[u32],
) -> Vec<RawPair> {
    let grid = Grid::volume(kind, d, h, w);
    let (pairs, _) = union_find::elder_pairs(&grid, rank);
    pairs
        .into_iter()
        .map(|(v, key)| raw_pair(&grid, v, key, order, rank))
        .collect()
}
