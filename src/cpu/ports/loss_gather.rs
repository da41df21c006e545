//! CPU port of `shaders/loss_gather.wgsl`: each pixel's gradient and share of the loss, its entries
//! added in turn in key order (dimension, role, other pixel, kept first), from 0.

use super::loss_scatter::Entry;

/// Sorts the entries by pixel and key, then adds up each pixel's run: `(gradient, share)` of `len`
/// pixels. Entries of equal pixel and key are equal, so their order is no matter.
pub fn loss_gather(entries: &mut [Entry], len: usize) -> (Vec<f32>, Vec<f32>) {
    entries.sort_unstable_by_key(|e| (e.pixel, e.key));
    let mut gradient = vec![0.0f32; len];
    let mut share = vec![0.0f32; len];
    for e in entries.iter() {
        if let (Some(g), Some(s)) = (
            gradient.get_mut(e.pixel as usize),
            share.get_mut(e.pixel as usize),
        ) {
            *g += e.gradient;
            if e.key.0 % 2 == 1 {
                *s += e.loss;
            }
        }
    }
    (gradient, share)
}

/// The entries sorted as [`loss_gather`] sorts them, as the pixels and gradients that
/// `gradient_scatter` adds up in the same order.
pub fn sorted_contributions(entries: &mut [Entry]) -> (Vec<u32>, Vec<f32>) {
    entries.sort_unstable_by_key(|e| (e.pixel, e.key));
    entries.iter().map(|e| (e.pixel, e.gradient)).unzip()
}
