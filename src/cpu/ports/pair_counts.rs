//! CPU port of `shaders/pair_counts.wgsl`: a graph's pair records counted per item.

use crate::layout::PairRecord;

/// Adds the records of dimension `dim` to `counts[2 * image + dim]` (records of an item past
/// `counts` are not counted).
pub fn pair_counts(records: &[PairRecord], dim: usize, counts: &mut [u32]) {
    for r in records {
        if let Some(c) = counts.get_mut(2 * r.image as usize + dim) {
            *c += 1;
        }
    }
}
