//! CPU port of `shaders/loss_reduce.wgsl`: one map's loss from its pixels' shares, in the kernel's
//! order.

use crate::layout::WG;

/// Lane `i` adds up the shares of pixels `i, i + WG, ...` in turn; then the `WG` sums are added in
/// order, then the missing features' costs, dimension by dimension.
pub fn loss_reduce(share: &[f32], missing: &[f32]) -> f32 {
    let lanes = WG as usize;
    let mut total = 0.0f32;
    for lane in 0..lanes {
        let mut sum = 0.0f32;
        for s in share.iter().skip(lane).step_by(lanes) {
            sum += s;
        }
        total += sum;
    }
    for m in missing {
        total += m;
    }
    total
}
