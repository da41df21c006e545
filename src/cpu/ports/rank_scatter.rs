//! CPU port of `shaders/rank_scatter.wgsl`: from the sorted payload (pixel indices of the batch,
//! grouped by item), each pixel's rank within its item and each item's order (the item-local pixel
//! at each rank).

/// `rank_scatter`: `(rank, order)` of a batch of items of `pixels` pixels each.
pub fn rank_scatter(sorted_payload: &[u32], pixels: usize) -> (Vec<u32>, Vec<u32>) {
    let mut rank = vec![0u32; sorted_payload.len()];
    let mut order = vec![0u32; sorted_payload.len()];
    let pixels = pixels.max(1) as u32;
    for (i, &p) in sorted_payload.iter().enumerate() {
        let base = (p / pixels) * pixels;
        rank[p as usize] = i as u32 - base;
        order[i] = p - base;
    }
    (rank, order)
}
