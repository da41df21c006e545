//! The native CPU backend: a port of every GPU stage (same names as the shaders) and the sequential
//! pipeline that answers when no adapter is present.

pub mod apparent_pairs;
pub mod boruvka;
pub mod compact_pairs;
pub mod critical;
pub mod cubical3d;
pub mod gradient_scatter;
pub mod order_keys;
pub mod radix_sort;
pub mod union_find;

use crate::diagram::{assemble, Backend, Diagram, RawPair};
use crate::grid::{GraphKind, Grid, NONE};
use crate::image::ImageStack;
use crate::options::Options;
use crate::Result;
use rayon::prelude::*;

/// Asks for the cache line of `data[index]`: only a hint (no load, no fault, even out of bounds).
/// Sweeps in filtration order read arrays all over memory; asking a few steps ahead overlaps the
/// misses instead of waiting for each in turn.
#[inline]
pub(crate) fn prefetch<T>(data: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let pointer = data.as_ptr().wrapping_add(index) as *const i8;
        // SAFETY: a prefetch never dereferences its address and cannot fault
        unsafe { _mm_prefetch::<_MM_HINT_T0>(pointer) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, index);
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
                cell_slot: 0,
            }));
        }
    }
    out
}

/// Every merge of volume graph `kind` (one of [`GraphKind::of_volume`]'s) of a `D x H x W` volume, by
/// the sequential reference ([`union_find::elder_pairs`]), as raw pairs: what the GPU pairing of a
/// volume hands to [`cubical3d::persistence_pairs_from_merges`].
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

/// The diagram of one 2D image (validated; `-0.0` may be left in) with zero-persistence pairs
/// dropped: the critical-pixel pipeline ([`critical`]).
pub(crate) fn image_diagram(values: &[f32], h: usize, w: usize, options: &Options) -> Diagram {
    Diagram {
        shape: vec![h, w],
        pairs: critical::persistence_pairs(values, h, w, options),
        backend: Backend::Cpu,
    }
}

/// The CPU backend: the diagram of every image (or volume) of a validated stack. For 2D images,
/// zero-persistence pairs are dropped by the critical-pixel pipeline ([`critical`]); keeping them
/// takes the reference pipeline ([`raw_pairs`]), which pairs every edge. Volumes take
/// [`cubical3d`]. The items of a batch are computed in parallel on all cores (rayon's global pool);
/// one item runs its two sweeps (H0 and H1 of an image, H0 and H2 of a volume) on two threads when
/// the pool has them and the item is large enough.
pub fn diagrams(stack: &ImageStack, options: &Options) -> Result<Vec<Diagram>> {
    let (h, w) = (stack.height, stack.width);
    let one = |b: usize| -> Result<Diagram> {
        let values = stack.image(b);
        let shape = stack.item_shape();
        if stack.volume {
            Ok(Diagram {
                pairs: cubical3d::persistence_pairs(values, [stack.depth, h, w], options)?,
                shape,
                backend: Backend::Cpu,
            })
        } else if options.keep_zero_persistence {
            Ok(assemble(
                values,
                shape,
                raw_pairs(values, h, w, options),
                options.is_superlevel(),
                true,
                Backend::Cpu,
            ))
        } else {
            Ok(image_diagram(values, h, w, options))
        }
    };
    if stack.count > 1 {
        (0..stack.count).into_par_iter().map(one).collect()
    } else {
        (0..stack.count).map(one).collect()
    }
}
