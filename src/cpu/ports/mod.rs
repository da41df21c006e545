//! The CPU port of every GPU kernel, under the shader's own name, step for step: the kernel tests
//! run a kernel and its port on the same inputs and compare. They are not the CPU backend (which
//! pairs only critical pixels: `cpu::image`, `cpu::volume`); `compact_pairs` also serves the GPU
//! path, where the pipeline compacts a pairing state on the host.

pub mod apparent_pairs;
pub mod boruvka_control;
pub mod boruvka_first_round;
pub mod boruvka_hook;
pub mod boruvka_init;
pub mod boruvka_select;
pub mod compact_pairs;
pub mod gradient_scatter;
pub mod loss_gather;
pub mod loss_reduce;
pub mod loss_scatter;
pub mod loss_select;
pub mod loss_terms;
pub mod order_keys;
pub mod pair_counts;
pub mod pointer_jump;
pub mod radix_histogram;
pub mod radix_scatter;
pub mod rank_scatter;
pub mod record_buckets;
pub mod scan_apply;
pub mod scan_reduce;

use crate::grid::{Grid, NONE};
use crate::layout::{SortParams, RADIX, TILE};

/// The state of the parallel pairing (`boruvka_*.wgsl`, `pointer_jump.wgsl`), one entry per vertex.
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

/// Runs rounds of the ports until one component is left (graphs here are connected); returns the
/// pairs like [`crate::cpu::union_find::elder_pairs`] (unordered) and the number of rounds.
pub fn boruvka_pairs(grid: &Grid, rank: &[u32]) -> (Vec<crate::cpu::union_find::ElderPair>, u32) {
    let mut s = boruvka_init::boruvka_init(grid, rank);
    let target = grid.vertex_count().saturating_sub(1);
    let mut rounds = 0;
    while s.hooks < target {
        boruvka_select::boruvka_select(grid, rank, &mut s);
        let before = s.hooks;
        boruvka_hook::boruvka_hook(&mut s);
        pointer_jump::pointer_jump(&mut s);
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

/// The GPU's whole ranking of a batch of `images` items of `pixels` pixels, pass for pass:
/// `order_keys`, the radix passes on the key (then on the image, for a batch), each pass a
/// `radix_histogram`, a scan and a `radix_scatter`, and `rank_scatter`. Returns `(rank, order)`.
pub fn ranking(
    values: &[f32],
    superlevel: bool,
    images: usize,
    pixels: usize,
) -> (Vec<u32>, Vec<u32>) {
    let (mut keys, mut payload) = order_keys::order_keys_with_payload(values, superlevel);
    let count = keys.len() as u32;
    let tiles = count.div_ceil(TILE);
    let radix_bits = RADIX.trailing_zeros();
    let image_bits = u32::BITS - (images as u32).saturating_sub(1).leading_zeros();
    let passes = (0..u32::BITS / radix_bits)
        .map(|i| (radix_bits * i, 0))
        .chain((0..image_bits.div_ceil(radix_bits)).map(|i| (radix_bits * i, 1)));
    for (shift, digit_source) in passes {
        let params = SortParams {
            count,
            shift,
            tiles,
            digit_source,
            pixels: pixels as u32,
        };
        let mut hist = radix_histogram::radix_histogram(&keys, &payload, &params);
        scan_apply::exclusive_scan(&mut hist);
        (keys, payload) = radix_scatter::radix_scatter(&keys, &payload, &hist, &params);
    }
    rank_scatter::rank_scatter(&payload, pixels)
}
