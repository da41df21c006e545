//! CPU port of `shaders/compact_pairs.wgsl`: the pair records of a finished pairing, from each
//! vertex's birth key and best key (which, once the pairing is done, is the key of the edge the vertex
//! died at, or `NONE` for a root). The pipeline also runs it on the host for the graphs whose records
//! would not fit one storage binding (every graph of a volume: they keep every merge), from the state
//! it reads back.

use crate::diagram::RawPair;
use crate::grid::{Grid, NONE};
use crate::{Error, Result};

/// The state of one graph of a batch after the pairing, as the kernels leave it, and the ranking.
#[derive(Debug, Clone, Copy)]
pub struct PairingState<'a> {
    /// Birth key of every vertex of the batch (`images * vertices`).
    pub vkey: &'a [u32],
    /// High and low words of every vertex's best key.
    pub best_hi: &'a [u32],
    /// See `best_hi`.
    pub best_lo: &'a [u32],
    /// Pixel of each rank, per image (`images * pixels`).
    pub order: &'a [u32],
    /// Order key of each pixel, per image.
    pub keys: &'a [u32],
}

/// `compact_pairs`: the records of every dead vertex (and in a primal graph every root, as an
/// essential class), per image, in vertex order; pairs whose two pixels have equal keys are dropped
/// unless `keep_zero`.
pub fn compact_pairs(
    grid: &Grid,
    images: usize,
    keep_zero: bool,
    state: PairingState<'_>,
) -> Result<Vec<Vec<RawPair>>> {
    let nv = grid.vertex_count() as usize;
    let pixels = grid.pixel_count();
    let total = images * nv;
    if [state.vkey.len(), state.best_hi.len(), state.best_lo.len()]
        .iter()
        .any(|&n| n < total)
        || state.order.len() < images * pixels
        || state.keys.len() < images * pixels
    {
        return Err(Error::Internal(
            "compact_pairs: the pairing state is shorter than the batch".into(),
        ));
    }
    let dual = grid.kind.is_dual();
    let volume = grid.kind.is_volume();
    let mut out = vec![Vec::new(); images];
    for (v, list) in (0..total).map(|v| (v, v / nv)) {
        let base = list * pixels;
        let (hi, lo) = (state.best_hi[v], state.best_lo[v]);
        let own_rank = grid.vertex_rank(state.vkey[v]) as usize;
        let pixel = |rank: usize| {
            state.order.get(base + rank).copied().ok_or_else(|| {
                Error::Internal(format!("compact_pairs: vertex {v} names rank {rank}"))
            })
        };
        if hi == NONE && lo == NONE {
            if !dual {
                out[list].push(RawPair {
                    dim: 0,
                    order: u64::MAX,
                    birth_index: pixel(own_rank)?,
                    death_index: NONE,
                    cell_slot: 0,
                });
            }
            continue;
        }
        // ordered by the rank of the death pixel, then of the birth pixel
        let (birth_rank, death_rank, dim, cell_slot) = match (dual, volume) {
            (false, _) => (own_rank, hi as usize, 0, if volume { lo } else { 0 }),
            (true, false) => (!hi as usize, own_rank, 1, 0),
            (true, true) => (!hi as usize, own_rank, 2, !lo),
        };
        let (birth_index, death_index) = (pixel(birth_rank)?, pixel(death_rank)?);
        let key = |index: u32| {
            state.keys.get(base + index as usize).ok_or_else(|| {
                Error::Internal(format!("compact_pairs: vertex {v} names pixel {index}"))
            })
        };
        if !keep_zero && key(birth_index)? == key(death_index)? {
            continue;
        }
        out[list].push(RawPair {
            dim,
            order: ((death_rank as u64) << 32) | birth_rank as u64,
            birth_index,
            death_index,
            cell_slot,
        });
    }
    Ok(out)
}
