//! CPU port of `shaders/radix_histogram.wgsl`: the digit counts of each tile of `TILE` keys, stored
//! digit-major (`hist[d * tiles + t]`), so that one exclusive scan gives every tile's output offset
//! for every digit.

use crate::layout::{SortParams, RADIX, TILE};

/// The digit of a key (or, for the image passes, of its payload's image) in this pass.
pub fn digit(key: u32, payload: u32, params: &SortParams) -> usize {
    let source = match params.digit_source {
        1 => payload / params.pixels,
        _ => key,
    };
    ((source >> params.shift) & (RADIX - 1)) as usize
}

/// `radix_histogram`: `RADIX * tiles` counts.
pub fn radix_histogram(keys: &[u32], payload: &[u32], params: &SortParams) -> Vec<u32> {
    let tiles = params.tiles as usize;
    let mut hist = vec![0u32; RADIX as usize * tiles];
    let count = (params.count as usize).min(keys.len());
    for (i, (&k, &p)) in keys.iter().zip(payload).take(count).enumerate() {
        let tile = i / TILE as usize;
        hist[digit(k, p, params) * tiles + tile] += 1;
    }
    hist
}
