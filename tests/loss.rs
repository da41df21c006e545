//! The topological loss and its gradient: against an independent evaluation of the formula, against
//! finite differences, batched against one by one, GPU against CPU (same bits).

mod common;

use ndarray::{Array2, Array3};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use wgpu_persistence::{Construction, Context, LossKind, TopologicalLoss};

/// A tie-free map: a random permutation of evenly spaced values in [0.05, 0.95].
fn tie_free(h: usize, w: usize, seed: u64) -> Array2<f32> {
    let n = h * w;
    let mut v: Vec<f32> = (0..n)
        .map(|i| 0.05 + 0.9 * i as f32 / (n - 1) as f32)
        .collect();
    v.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    Array2::from_shape_vec((h, w), v).unwrap()
}

/// The formula, written out again from the paper without the library's helpers: every (birth, death,
/// birth pixel, death pixel) per dimension, the essential class clamped to the minimum.
fn reference(map: &Array2<f32>, ctx: &Context, loss: &TopologicalLoss) -> (f64, Vec<f64>) {
    let d = ctx.compute(map.view(), &loss.options()).unwrap();
    let values = map.as_slice().unwrap();
    let (argmin, min) =
        values.iter().enumerate().fold(
            (0, f32::INFINITY),
            |a, (i, &v)| if v < a.1 { (i, v) } else { a },
        );
    let mut grad = vec![0.0f64; values.len()];
    let mut total = 0.0f64;
    for (k, pairs) in d.pairs.iter().enumerate() {
        let mut feats: Vec<(f64, f64, usize, usize)> = pairs
            .iter()
            .map(|p| {
                let (death, di) = p.death_index.map(|i| (p.death, i)).unwrap_or((min, argmin));
                (p.birth as f64, death as f64, p.birth_index, di)
            })
            .collect();
        feats.sort_by(|a, b| (b.0 - b.1).partial_cmp(&(a.0 - a.1)).unwrap());
        let beta = loss.betti.get(k).copied().unwrap_or(0);
        let w = loss.weights.get(k).copied().unwrap_or(1.0) as f64;
        for (l, (b, dd, bi, di)) in feats.into_iter().enumerate() {
            let pers = b - dd; // superlevel: births above deaths
            let (val, g) = match (loss.kind, l < beta) {
                (LossKind::Squared, true) => (1.0 - pers * pers, -2.0 * pers),
                (LossKind::Squared, false) => (pers * pers, 2.0 * pers),
                (LossKind::L1, true) => (1.0 - pers, -1.0),
                (LossKind::L1, false) => (pers, 1.0),
            };
            total += w * val;
            grad[bi] += w * g;
            grad[di] -= w * g;
        }
    }
    (total, grad)
}

fn losses() -> Vec<TopologicalLoss> {
    let mut v = vec![];
    for construction in [Construction::V, Construction::T, Construction::Freudenthal] {
        for betti in [[1usize, 0], [1, 1], [2, 3]] {
            for kind in [LossKind::Squared, LossKind::L1] {
                v.push(TopologicalLoss {
                    betti: betti.to_vec(),
                    kind,
                    weights: vec![1.0, 0.5],
                    construction,
                });
            }
        }
    }
    v
}

#[test]
fn loss_and_gradient_match_the_formula() {
    for ctx in common::contexts() {
        for (i, loss) in losses().iter().enumerate() {
            let map = tie_free(9, 11, i as u64);
            let r = ctx.topological_loss(map.view(), loss).unwrap();
            let (want, want_grad) = reference(&map, &Context::cpu(), loss);
            assert!(
                (r.loss as f64 - want).abs() < 1e-4,
                "{loss:?}: {} vs {want}",
                r.loss
            );
            for (g, w) in r.gradient.iter().zip(&want_grad) {
                assert!(
                    (*g as f64 - w).abs() < 1e-5,
                    "{loss:?} on {}: {g} vs {w}",
                    ctx.backend()
                );
            }
            // the gradient reaches exactly the pixels named by the pairs
            let touched = r.gradient.iter().filter(|g| **g != 0.0).count();
            assert!(touched <= 2 * r.diagram.pairs.iter().map(Vec::len).sum::<usize>());
        }
    }
}

#[test]
fn gradient_matches_finite_differences() {
    let ctx = Context::cpu();
    let eps = 1e-3f32; // values are 0.9/79 apart: a step this small keeps every pair
    for (i, loss) in losses()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.kind == LossKind::Squared)
    {
        let map = tie_free(8, 10, 50 + i as u64);
        let r = ctx.topological_loss(map.view(), loss).unwrap();
        for p in 0..map.len() {
            let mut plus = map.clone();
            let mut minus = map.clone();
            plus.as_slice_mut().unwrap()[p] += eps;
            minus.as_slice_mut().unwrap()[p] -= eps;
            let lp = ctx.topological_loss(plus.view(), loss).unwrap().loss as f64;
            let lm = ctx.topological_loss(minus.view(), loss).unwrap().loss as f64;
            let fd = (lp - lm) / (2.0 * eps as f64);
            let g = r.gradient.as_slice().unwrap()[p] as f64;
            assert!(
                (fd - g).abs() < 2e-2,
                "{loss:?} pixel {p}: finite difference {fd}, gradient {g}"
            );
        }
    }
}

#[test]
fn batch_equals_one_by_one_and_gpu_equals_cpu() {
    let maps: Vec<Array2<f32>> = (0..5).map(|s| tie_free(12, 7, 100 + s)).collect();
    let mut batch = Array3::<f32>::zeros((5, 12, 7));
    for (b, m) in maps.iter().enumerate() {
        batch.index_axis_mut(ndarray::Axis(0), b).assign(m);
    }
    let priors: Vec<TopologicalLoss> = (0..5).map(|b| TopologicalLoss::new(&[1, b % 3])).collect();
    let cpu = Context::cpu();
    let want = cpu.topological_loss_batch(batch.view(), &priors).unwrap();
    for ctx in common::contexts() {
        let got = ctx.topological_loss_batch(batch.view(), &priors).unwrap();
        assert_eq!(got.losses, want.losses, "{}", ctx.backend());
        // the same bits, GPU or CPU
        assert!(got
            .gradient
            .iter()
            .zip(want.gradient.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        for (b, m) in maps.iter().enumerate() {
            let one = ctx.topological_loss(m.view(), &priors[b]).unwrap();
            assert_eq!(one.loss, got.losses[b]);
            assert_eq!(one.gradient, got.gradient.index_axis(ndarray::Axis(0), b));
        }
    }
    // one shared prior
    let shared = cpu
        .topological_loss_batch(batch.view(), &[TopologicalLoss::new(&[1, 0])])
        .unwrap();
    assert_eq!(shared.losses.len(), 5);
    assert!(cpu
        .topological_loss_batch(batch.view(), &priors[..2])
        .is_err());
}

#[test]
fn a_broken_ring_is_pushed_to_close() {
    // an annulus with a gap: the prior (1 component, 1 hole) wants the gap's pixels raised
    let (h, w) = (21, 21);
    let mut map = Array2::<f32>::from_elem((h, w), 0.05);
    for y in 0..h {
        for x in 0..w {
            let r = ((y as f32 - 10.0).powi(2) + (x as f32 - 10.0).powi(2)).sqrt();
            if (5.0..8.0).contains(&r) {
                map[[y, x]] = 0.9 + 0.001 * (y * w + x) as f32 / (h * w) as f32;
            }
        }
    }
    for x in 9..12 {
        for y in 0..h {
            if y > 12 {
                map[[y, x]] = 0.1; // the gap, at the bottom of the ring
            }
        }
    }
    let r = Context::cpu()
        .topological_loss(map.view(), &TopologicalLoss::new(&[1, 1]))
        .unwrap();
    let gap_push: f32 = (13..h)
        .flat_map(|y| (9..12).map(move |x| (y, x)))
        .map(|(y, x)| r.gradient[[y, x]])
        .sum();
    assert!(
        gap_push < 0.0,
        "descending the loss raises the gap: {gap_push}"
    );
}

/// The contract a training framework needs: forward is `loss`; backward scales the gradient map by
/// the incoming scalar gradient, which is the chain rule for `objective = upstream * loss`.
#[test]
fn forward_and_backward_follow_the_chain_rule() {
    let ctx = Context::cpu();
    let map = tie_free(10, 10, 7);
    let prior = TopologicalLoss::new(&[1, 1]);
    let r = ctx.topological_loss(map.view(), &prior).unwrap();
    let upstream = 0.25f32;
    let g = r.backward(upstream);
    // finite difference of the objective upstream * L on the pixel with the largest gradient
    let p = r
        .gradient
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .unwrap()
        .0;
    let eps = 1e-3f32;
    let mut plus = map.clone();
    let mut minus = map.clone();
    plus.as_slice_mut().unwrap()[p] += eps;
    minus.as_slice_mut().unwrap()[p] -= eps;
    let objective = |m: &Array2<f32>| {
        upstream as f64 * ctx.topological_loss(m.view(), &prior).unwrap().loss as f64
    };
    let fd = (objective(&plus) - objective(&minus)) / (2.0 * eps as f64);
    assert!(
        (fd - g.as_slice().unwrap()[p] as f64).abs() < 1e-2,
        "{fd} vs {}",
        g.as_slice().unwrap()[p]
    );
    assert!(g
        .iter()
        .zip(r.gradient.iter())
        .all(|(a, b)| *a == b * upstream));
    // batched: one upstream gradient per map
    let batch = ndarray::stack(ndarray::Axis(0), &[map.view(), map.t()]).unwrap();
    let br = ctx.topological_loss_batch(batch.view(), &[prior]).unwrap();
    let bg = br.backward(&[1.0, -2.0]).unwrap();
    // one upstream gradient for all maps, or one per map: any other length is an error
    assert!(br.backward(&[]).is_err());
    assert!(br.backward(&[1.0, 2.0, 3.0]).is_err());
    assert_eq!(
        bg.index_axis(ndarray::Axis(0), 0),
        br.gradient.index_axis(ndarray::Axis(0), 0)
    );
    assert_eq!(
        bg.index_axis(ndarray::Axis(0), 1),
        br.gradient
            .index_axis(ndarray::Axis(0), 1)
            .mapv(|v| -2.0 * v)
    );
}

/// The terms a framework computes the loss from (`loss_terms_batch`) rebuild the loss the crate
/// computes, value for value, and touch exactly the pixels its gradient reaches; with missing
/// features in the count.
#[test]
fn loss_terms_rebuild_the_loss() {
    let mut batch = Array3::<f32>::zeros((4, 9, 11));
    for b in 0..4 {
        batch
            .index_axis_mut(ndarray::Axis(0), b)
            .assign(&tie_free(9, 11, 300 + b as u64));
    }
    // b = 3: a flat map, where every feature the prior asks for is missing
    batch.index_axis_mut(ndarray::Axis(0), 3).fill(0.5);
    for loss in losses() {
        let priors = [loss.clone()];
        for ctx in common::contexts() {
            let result = ctx.topological_loss_batch(batch.view(), &priors).unwrap();
            let terms = ctx.loss_terms_batch(batch.view(), &priors).unwrap();
            assert_eq!(terms.len(), 4);
            for (b, (t, diagram)) in terms.iter().enumerate() {
                assert_eq!(*diagram, result.diagrams[b]);
                let map = batch.index_axis(ndarray::Axis(0), b);
                let values = map.as_slice().unwrap();
                let mut total = 0.0f64;
                let mut touched = std::collections::BTreeSet::new();
                for (k, missing) in t.missing.iter().enumerate() {
                    let beta = loss.betti.get(k).copied().unwrap_or(0);
                    let count = t.terms.iter().filter(|x| x.dim == k).count();
                    let weight = loss.weights.get(k).copied().unwrap_or(1.0);
                    assert_eq!(*missing, weight * beta.saturating_sub(count) as f32);
                    total += f64::from(*missing);
                }
                for x in &t.terms {
                    let pers = f64::from((values[x.birth_index] - values[x.death_index]).abs());
                    assert!(pers > 0.0);
                    let value = match (loss.kind, x.kept) {
                        (LossKind::Squared, true) => 1.0 - pers * pers,
                        (LossKind::Squared, false) => pers * pers,
                        (LossKind::L1, true) => 1.0 - pers,
                        (LossKind::L1, false) => pers,
                    };
                    total += f64::from(x.weight) * value;
                    touched.insert(x.birth_index);
                    touched.insert(x.death_index);
                }
                let want = f64::from(result.losses[b]);
                assert!(
                    (total - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "{total} {want}"
                );
                let grad = result.gradient.index_axis(ndarray::Axis(0), b);
                for (i, g) in grad.iter().enumerate() {
                    if *g != 0.0 {
                        assert!(touched.contains(&i), "gradient at {i} outside the terms");
                    }
                }
            }
            // the flat map: nothing to act on, every prior feature missing
            assert!(terms[3].0.terms.is_empty());
        }
    }
}
