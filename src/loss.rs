//! The topological loss of Clough et al. (IEEE TPAMI 2022) on a probability map, and its gradient.
//!
//! Superlevel filtration of the map `p`. For each dimension `k` with prior Betti number `beta_k`, pairs
//! sorted by persistence `|b - d|`, largest first (ties keep the diagram's order):
//! `L_k = w_k * (sum_{l <= beta_k} (1 - pers_l^2) + sum_{l > beta_k} pers_l^2)` (the squared form), or
//! with `pers` in place of `pers^2` (the L1 form). Essential classes take part with their death clamped
//! to the minimum of `p`, at the pixel that enters last. Zero-persistence pairs are left out (they carry
//! no gradient). Where dimension `k` has fewer than `beta_k` features, each missing one is a bar of
//! length zero: it costs `w_k` (`1 - 0^2`, `1 - 0`) and moves no pixel. The gradient reaches each pair's birth and death pixels only:
//! `grad[birth_index] += dL/db`, `grad[death_index] += dL/dd`, summed per pixel in a fixed order.

use ndarray::{Array, ArrayView, Dimension, Ix2, Ix3, IxDyn, RemoveAxis};

use crate::cpu::ports::loss_gather::{loss_gather, sorted_contributions};
use crate::cpu::ports::loss_reduce::loss_reduce;
use crate::cpu::ports::loss_scatter::{loss_scatter, Entry};
use crate::cpu::ports::loss_select::{last_pixel, missing};
use crate::cpu::ports::loss_terms::loss_terms;
use crate::diagram::Diagram;
use crate::input::{Pixel, Stack};
use crate::options::TopologicalLoss;
use crate::pipeline::Pipeline;
use crate::{Error, Result};

/// One feature the loss acts on: a pair of the map's superlevel diagram, with persistence
/// `|f[birth_index] - f[death_index]|` (an essential class dies at the pixel that enters last: the
/// map's minimum, the largest index among ties).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossTerm {
    /// Homology dimension.
    pub dim: usize,
    /// Row-major index of the pixel that creates the feature.
    pub birth_index: usize,
    /// Row-major index of the pixel that kills it.
    pub death_index: usize,
    /// Whether the feature is one of the `beta_k` most persistent of its dimension (pushed to full
    /// persistence: `1 - pers^2`) or not (pushed to zero: `pers^2`).
    pub kept: bool,
    /// The weight of its dimension.
    pub weight: f32,
}

/// What the loss of one map is made of: the features it acts on, in a fixed order (dimension, then
/// persistence, largest first, ties in the diagram's order), and per dimension the constant cost of the
/// features the prior asks for and the map lacks (`w_k * max(0, beta_k - features_k)`). Frameworks
/// that compute the loss themselves from pixel values (the Python package's torch layer) take these.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LossTerms {
    /// The features, in the order the loss adds them up.
    pub terms: Vec<LossTerm>,
    /// The cost of the missing features, per dimension of the diagram.
    pub missing: Vec<f32>,
}

impl TopologicalLoss {
    /// The features of `diagram` (the superlevel diagram of `map`, row-major, with this loss's
    /// [`Self::options`]) that the loss acts on, and the cost of the missing ones. Pairs of zero
    /// persistence are left out: they carry no gradient.
    pub fn terms(&self, diagram: &Diagram, map: &[f32]) -> LossTerms {
        // the pixel that enters last in the superlevel order: the minimum, largest index among ties
        let last = last_pixel(map);
        let value = |i: usize| map.get(i).copied().unwrap_or(0.0);
        let mut out = LossTerms::default();
        for (k, pairs) in diagram.pairs.iter().enumerate() {
            let beta = self.betti.get(k).copied().unwrap_or(0);
            let weight = self.weight(k);
            let mut features: Vec<(f32, usize, usize)> = pairs
                .iter()
                .map(|p| (p.birth_index, p.death_index.unwrap_or(last)))
                .filter(|&(b, d)| value(b) != value(d))
                .map(|(b, d)| ((value(b) - value(d)).abs(), b, d))
                .collect();
            features.sort_by(|a, b| b.0.total_cmp(&a.0));
            // the prior asks for more features than there are: each missing one is a bar of length 0,
            // which costs 1 in either form (TopologyLayer's TopKBarcodeLengths pads the same way) and
            // moves no pixel
            out.missing.push(missing(weight, beta, features.len()));
            out.terms
                .extend(features.iter().enumerate().map(|(l, &(_, b, d))| LossTerm {
                    dim: k,
                    birth_index: b,
                    death_index: d,
                    kept: l < beta,
                    weight,
                }));
        }
        out
    }
}

/// The entries of one map's features in the lists of their pixels (`base`: the map's first pixel in
/// the batch), and the costs of its missing features per dimension. `values` is the map, row-major.
pub(crate) fn loss_entries(
    diagram: &Diagram,
    values: &[f32],
    loss: &TopologicalLoss,
    base: usize,
) -> (Vec<Entry>, Vec<f32>) {
    let LossTerms { terms, missing } = loss.terms(diagram, values);
    let mut entries = Vec::with_capacity(2 * terms.len());
    for t in terms {
        let (b, d) = (values[t.birth_index], values[t.death_index]);
        let numbers = loss_terms(loss.kind, t.kept, t.weight, b, d);
        entries.extend(loss_scatter(
            base,
            t.dim,
            t.birth_index,
            t.death_index,
            t.kept,
            numbers,
        ));
    }
    (entries, missing)
}

/// The topological loss of one map: value, dense gradient (the map's shape) and the diagram it
/// came from. `LossResult` is a 2D map's; `LossResult<Ix3>` a volume's.
#[derive(Debug, Clone)]
pub struct LossResult<D: Dimension = Ix2> {
    /// The loss.
    pub loss: f32,
    /// `dL/dp` for every pixel.
    pub gradient: Array<f32, D>,
    /// The superlevel diagram the loss was computed on.
    pub diagram: Diagram,
}

impl<D: Dimension> LossResult<D> {
    /// The framework contract's backward step: `dL_total/dp = upstream * dL/dp`, where `upstream` is
    /// the gradient of the training objective with respect to this loss (for example its weight).
    pub fn backward(&self, upstream: f32) -> Array<f32, D> {
        self.gradient.mapv(|g| g * upstream)
    }
}

/// The topological loss of a batch of maps. `BatchLossResult` is for 2D maps (gradient
/// `B x H x W`); `BatchLossResult<Ix4>` for volumes (`B x D x H x W`).
#[derive(Debug, Clone)]
pub struct BatchLossResult<D: Dimension = Ix3> {
    /// One loss per map.
    pub losses: Vec<f32>,
    /// `dL_b/dp` for every map `b` and pixel.
    pub gradient: Array<f32, D>,
    /// One diagram per map.
    pub diagrams: Vec<Diagram>,
}

impl<D: Dimension + RemoveAxis> BatchLossResult<D> {
    /// The backward step for the batch objective `sum_b upstream[b] * L_b` (`upstream` of length 1
    /// applies to every map): `upstream[b] * dL_b/dp` per map. Any other length is an error.
    pub fn backward(&self, upstream: &[f32]) -> Result<Array<f32, D>> {
        let maps = self.losses.len();
        if upstream.len() != 1 && upstream.len() != maps {
            return Err(Error::InvalidArgument(format!(
                "backward takes one upstream gradient for all {maps} maps or one per map, got {}",
                upstream.len()
            )));
        }
        let mut out = self.gradient.clone();
        for (b, mut map) in out.outer_iter_mut().enumerate() {
            let u = upstream[if upstream.len() == 1 { 0 } else { b }];
            map.mapv_inplace(|g| g * u);
        }
        Ok(out)
    }

    /// The result of map `b` alone.
    pub(crate) fn into_item(mut self, b: usize) -> Result<LossResult<D::Smaller>> {
        if b >= self.losses.len() {
            return Err(Error::Internal(format!("no map {b} in the batch")));
        }
        let gradient = self.gradient.index_axis_move(ndarray::Axis(0), b);
        Ok(LossResult {
            loss: self.losses[b],
            gradient,
            diagram: self.diagrams.swap_remove(b),
        })
    }
}

/// The loss of each map of a stack (one prior for all, or one per map), the dense gradient in the
/// stack's layout (`D`: the batch's dimensionality), and the diagrams.
pub(crate) fn batch_loss<D: Dimension>(
    pipeline: &Pipeline<'_>,
    stack: &Stack,
    priors: &[TopologicalLoss],
) -> Result<BatchLossResult<D>> {
    let diagrams = checked_diagrams(pipeline, stack, priors)?;
    let n = stack.shape().pixels();
    let len = stack.values().len();
    let mut entries = Vec::new();
    let mut missing = Vec::with_capacity(stack.count());
    for (b, d) in diagrams.iter().enumerate() {
        let prior = &priors[if priors.len() == 1 { 0 } else { b }];
        let (e, m) = loss_entries(d, stack.item_rounded(b), prior, b * n);
        entries.extend(e);
        missing.push(m);
    }
    // each pixel's shares added up in key order (the resident plan's kernels add them in the same
    // order), then each map's in the order of loss_reduce
    let (_, share) = loss_gather(&mut entries, len);
    let values: Vec<f32> = missing
        .iter()
        .enumerate()
        .map(|(b, m)| loss_reduce(&share[b * n..(b + 1) * n], m))
        .collect();
    let (pixels, grads) = sorted_contributions(&mut entries);
    let gradient = pipeline.gradient_scatter(&pixels, &grads, len)?;
    let gradient = Array::from_shape_vec(IxDyn(&stack.dims()), gradient)
        .and_then(|g| g.into_dimensionality::<D>())
        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    Ok(BatchLossResult {
        losses: values,
        gradient,
        diagrams,
    })
}

/// The checks of the priors of a batch of `maps` maps: one, or one per map; weights; one
/// construction for all.
pub(crate) fn check_priors(priors: &[TopologicalLoss], maps: usize) -> Result<()> {
    if priors.len() != 1 && priors.len() != maps {
        return Err(Error::InvalidArgument(format!(
            "{} priors for {maps} maps (give one, or one per map)",
            priors.len(),
        )));
    }
    for prior in priors {
        prior.check()?;
    }
    if priors.iter().any(|p| p.options() != priors[0].options()) {
        return Err(Error::InvalidArgument(
            "all priors of a batch must use the same construction".into(),
        ));
    }
    Ok(())
}

/// The superlevel diagrams of a stack of maps for a loss with these priors (one for all, or one per
/// map), after the checks every loss call makes: the priors (see [`check_priors`]) and the maps'
/// values.
fn checked_diagrams(
    pipeline: &Pipeline<'_>,
    stack: &Stack,
    priors: &[TopologicalLoss],
) -> Result<Vec<Diagram>> {
    check_priors(priors, stack.count())?;
    check_probabilities(stack.rounded().iter().map(|&v| f64::from(v)))?;
    pipeline.diagrams(stack, &priors[0].options())
}

/// The loss terms of each map of a stack (see [`TopologicalLoss::terms`]), with their diagrams.
pub(crate) fn batch_terms(
    pipeline: &Pipeline<'_>,
    stack: &Stack,
    priors: &[TopologicalLoss],
) -> Result<Vec<(LossTerms, Diagram)>> {
    let diagrams = checked_diagrams(pipeline, stack, priors)?;
    Ok(diagrams
        .into_iter()
        .enumerate()
        .map(|(b, d)| {
            let prior = &priors[if priors.len() == 1 { 0 } else { b }];
            (prior.terms(&d, stack.item_rounded(b)), d)
        })
        .collect())
}

/// A probability map holds values in `[0, 1]`, none infinite: the first value that is not gives an
/// error that says how to get one.
pub(crate) fn check_probabilities(values: impl IntoIterator<Item = f64>) -> Result<()> {
    match values
        .into_iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(v))
    {
        Some((index, value)) => Err(Error::NotAProbability { index, value }),
        None => Ok(()),
    }
}

/// [`check_probabilities`] on the map's own values, for a pixel type that `f32` does not hold
/// exactly (a `f64` of `1 + 1e-12` is no probability, though it rounds to `1.0`); for the others
/// the check on the rounded values is the same. A NaN was refused before (the stack names it).
pub(crate) fn check_exact_probabilities<T: Pixel, D: Dimension>(
    map: &ArrayView<'_, T, D>,
) -> Result<()> {
    if T::EXACT_IN_F32 {
        return Ok(());
    }
    check_probabilities(map.iter().map(|v| v.to_f64()))
}
