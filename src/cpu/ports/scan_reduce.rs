//! CPU port of `shaders/scan_reduce.wgsl`: the sum of each block of `SCAN_BLOCK` values (the reduce
//! step of the multi-level exclusive scan).

use crate::layout::SCAN_BLOCK;

/// `scan_reduce`: one sum per block of the first `count` values.
pub fn scan_reduce(data: &[u32], count: usize) -> Vec<u32> {
    data[..count.min(data.len())]
        .chunks(SCAN_BLOCK as usize)
        .map(|block| block.iter().fold(0u32, |s, &v| s.wrapping_add(v)))
        .collect()
}
