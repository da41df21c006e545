//! CPU port of `shaders/gradient_scatter.wgsl`: the dense gradient from per-pixel contributions.

use crate::loss::Contribution;

/// Contributions sorted by pixel, stably (equal pixels keep their order): the order in which both the
/// CPU and the GPU add them up, so the sums have the same bits on both and on every run.
pub fn sort_contributions(contributions: &[Contribution]) -> Vec<Contribution> {
    let mut sorted = contributions.to_vec();
    sorted.sort_by_key(|c| c.0);
    sorted
}

/// `grad[p]` = the sum, in order, of the contributions to pixel `p` (0 where there are none).
/// `sorted` must come from [`sort_contributions`].
pub fn gradient_scatter(sorted: &[Contribution], pixels: usize) -> Vec<f32> {
    let mut grad = vec![0.0f32; pixels];
    let mut i = 0;
    while i < sorted.len() {
        let p = sorted[i].0;
        let mut sum = 0.0f32;
        while i < sorted.len() && sorted[i].0 == p {
            sum += sorted[i].1;
            i += 1;
        }
        grad[p as usize] = sum;
    }
    grad
}
