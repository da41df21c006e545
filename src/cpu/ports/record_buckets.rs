//! CPU port of `shaders/record_buckets.wgsl`: a graph's records placed in their items' segments.

use crate::layout::PairRecord;

/// Places the index of every record of dimension `dim` at `offsets[2 * image + dim]` plus the next
/// slot of that segment (`cursor`, advanced). In record order here; the kernel's order within a
/// segment is any.
pub fn record_buckets(
    records: &[PairRecord],
    dim: usize,
    offsets: &[u32],
    cursor: &mut [u32],
    bucket: &mut [u32],
) {
    for (r, rec) in records.iter().enumerate() {
        let key = 2 * rec.image as usize + dim;
        let (Some(&offset), Some(c)) = (offsets.get(key), cursor.get_mut(key)) else {
            continue;
        };
        if let Some(slot) = bucket.get_mut((offset + *c) as usize) {
            *slot = r as u32;
        }
        *c += 1;
    }
}
