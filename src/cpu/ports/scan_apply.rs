//! CPU port of `shaders/scan_apply.wgsl`: each block of `SCAN_BLOCK` values scanned in place
//! (exclusive), plus the block's offset (the scanned sums of the level above) when there is one; and
//! the whole multi-level scan the engine records, reduce steps down and apply steps back up.

use super::scan_reduce::scan_reduce;
use crate::layout::SCAN_BLOCK;

/// `scan_apply` on the first `count` values; `block_offsets` when `use_offsets` is set.
pub fn scan_apply(data: &mut [u32], count: usize, block_offsets: Option<&[u32]>) {
    let count = count.min(data.len());
    for (b, block) in data[..count].chunks_mut(SCAN_BLOCK as usize).enumerate() {
        let mut running = block_offsets.and_then(|o| o.get(b)).copied().unwrap_or(0);
        for v in block {
            let x = *v;
            *v = running;
            running = running.wrapping_add(x);
        }
    }
}

/// The multi-level exclusive scan of `data`, level by level as the engine records it.
pub fn exclusive_scan(data: &mut [u32]) {
    let count = data.len();
    if count <= SCAN_BLOCK as usize {
        scan_apply(data, count, None);
        return;
    }
    let mut sums = scan_reduce(data, count);
    exclusive_scan(&mut sums);
    scan_apply(data, count, Some(&sums));
}
