//! CPU port of `shaders/loss_terms.wgsl`: the numbers of one feature's term.

use crate::options::LossKind;

/// One feature's term: its share of the gradient at its birth and its death pixel, and its term of
/// the loss, in the kernel's operations (products here, sums only in `loss_gather` and
/// `loss_reduce`). `birth` and `death` are the map's values at the pair's pixels (different).
pub fn loss_terms(kind: LossKind, kept: bool, weight: f32, birth: f32, death: f32) -> [f32; 3] {
    let pers = (birth - death).abs();
    let squared = pers * pers;
    let (value, dpers) = match (kind, kept) {
        (LossKind::Squared, true) => (1.0 - squared, -2.0 * pers),
        (LossKind::Squared, false) => (squared, 2.0 * pers),
        (LossKind::L1, true) => (1.0 - pers, -1.0),
        (LossKind::L1, false) => (pers, 1.0),
    };
    let sign = if birth >= death { 1.0 } else { -1.0 };
    [
        weight * dpers * sign,
        -weight * dpers * sign,
        weight * value,
    ]
}
