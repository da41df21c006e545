//! CPU port of `shaders/radix_scatter.wgsl`: one stable radix pass's scatter. Each key goes to its
//! tile's offset for its digit (the scanned histogram) plus the number of keys of that digit before
//! it in the tile.

use super::radix_histogram::digit;
use crate::layout::{SortParams, RADIX, TILE};

/// `radix_scatter`: the keys and payload in this pass's order, from the scanned histogram `offsets`.
pub fn radix_scatter(
    keys: &[u32],
    payload: &[u32],
    offsets: &[u32],
    params: &SortParams,
) -> (Vec<u32>, Vec<u32>) {
    let count = (params.count as usize).min(keys.len());
    let tiles = params.tiles as usize;
    let (mut keys_out, mut payload_out) = (vec![0; count], vec![0; count]);
    for (tile, start) in (0..count).step_by(TILE as usize).enumerate() {
        let mut seen = [0u32; RADIX as usize];
        for i in start..(start + TILE as usize).min(count) {
            let d = digit(keys[i], payload[i], params);
            let dest = (offsets[d * tiles + tile] + seen[d]) as usize;
            seen[d] += 1;
            keys_out[dest] = keys[i];
            payload_out[dest] = payload[i];
        }
    }
    (keys_out, payload_out)
}
