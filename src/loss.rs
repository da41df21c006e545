//! The topological loss of Clough et al. (IEEE TPAMI 2022) on a probability map, and its gradient.
//!
//! Superlevel filtration of the map `p`. For each dimension `k` with prior Betti number `beta_k`, pairs
//! sorted by persistence `|b - d|`, largest first (ties keep the diagram's order):
//! `L_k = w_k * (sum_{l <= beta_k} (1 - pers_l^2) + sum_{l > beta_k} pers_l^2)` (the squared form), or
//! with `pers` in place of `pers^2` (the L1 form). Essential classes take part with their death clamped
//! to the minimum of `p`, at the pixel that enters last. Zero-persistence pairs are left out (they carry
//! no gradient). The gradient reaches each pair's birth and death pixels only:
//! `grad[birth_index] += dL/db`, `grad[death_index] += dL/dd`, summed per pixel in a fixed order.

use crate::diagram::Diagram;
use crate::options::{Construction, Options};

/// Which penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossKind {
    /// `1 - pers^2` for the kept features, `pers^2` for the others (the paper's form).
    #[default]
    Squared,
    /// `1 - pers` and `pers`.
    L1,
}

/// A topological prior and how to penalise departures from it.
#[derive(Debug, Clone, PartialEq)]
pub struct TopologicalLoss {
    /// Prior Betti numbers `beta_0, beta_1` (more entries are ignored in 2D).
    pub betti: Vec<usize>,
    /// Squared (default) or L1.
    pub kind: LossKind,
    /// Weight per dimension (1 when absent).
    pub weights: Vec<f32>,
    /// Cell complex (V by default).
    pub construction: Construction,
}

impl TopologicalLoss {
    /// The squared loss with prior `betti`, unit weights, V construction.
    pub fn new(betti: &[usize]) -> Self {
        Self {
            betti: betti.to_vec(),
            kind: LossKind::Squared,
            weights: vec![],
            construction: Construction::V,
        }
    }

    /// The diagram options this loss needs (superlevel, zero-persistence pairs dropped).
    pub fn options(&self) -> Options {
        Options::new(self.construction).superlevel()
    }

    fn weight(&self, k: usize) -> f32 {
        self.weights.get(k).copied().unwrap_or(1.0)
    }
}

/// One pixel's share of the gradient: `(linear index, dL/dvalue)`.
pub type Contribution = (u32, f32);

/// Loss value and per-pixel contributions (in a fixed order: dimension, persistence rank, birth then
/// death) of one map's diagram. `values` is the map, row-major.
pub fn loss_contributions(
    diagram: &Diagram,
    values: &[f32],
    loss: &TopologicalLoss,
) -> (f32, Vec<Contribution>) {
    // the pixel that enters last in the superlevel order: the minimum, largest index among ties
    let last = values
        .iter()
        .enumerate()
        .fold(0, |best, (i, &v)| if v <= values[best] { i } else { best });
    let mut total = 0.0f32;
    let mut contributions = Vec::new();
    for (k, pairs) in diagram.pairs.iter().enumerate() {
        let beta = loss.betti.get(k).copied().unwrap_or(0);
        let weight = loss.weight(k);
        let mut features: Vec<(f32, f32, usize, usize)> = pairs
            .iter()
            .map(|p| match p.death_index {
                Some(d) => (p.birth, p.death, p.birth_index, d),
                None => (p.birth, values[last], p.birth_index, last),
            })
            .filter(|f| f.0 != f.1)
            .collect();
        features.sort_by(|a, b| (b.0 - b.1).abs().total_cmp(&(a.0 - a.1).abs()));
        for (l, &(b, d, bi, di)) in features.iter().enumerate() {
            let pers = (b - d).abs();
            let sign = if b >= d { 1.0 } else { -1.0 };
            let kept = l < beta;
            let (value, dpers) = match (loss.kind, kept) {
                (LossKind::Squared, true) => (1.0 - pers * pers, -2.0 * pers),
                (LossKind::Squared, false) => (pers * pers, 2.0 * pers),
                (LossKind::L1, true) => (1.0 - pers, -1.0),
                (LossKind::L1, false) => (pers, 1.0),
            };
            total += weight * value;
            contributions.push((bi as u32, weight * dpers * sign));
            contributions.push((di as u32, -weight * dpers * sign));
        }
    }
    (total, contributions)
}
