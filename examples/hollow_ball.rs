//! The topological loss on a volume: a noisy probability map of a hollow ball whose shell has a
//! hole (so the void leaks out) and a few stray blobs, repaired by gradient descent on the loss of
//! Clough et al. (IEEE TPAMI 2022) with the prior of a hollow ball, `(b0, b1, b2) = (1, 0, 1)`.
//!
//! Each step computes the superlevel diagram of the whole volume (H0, H1, H2), the loss and its
//! gradient `dL/dp` (which reaches only the birth and death voxels of each pair), moves the map
//! against the gradient (the largest move is `--lr`) and clamps it to `[0, 1]`. It stops once the
//! 0.5-superlevel set has the prior's Betti numbers.
//!
//! `cargo run --release --example hollow_ball -- [--side N] [--steps N] [--lr X] [--gpu]`

use std::time::Instant;

use ndarray::Array3;
use wgpu_persistence::{BackendChoice, Context, TopologicalLoss};

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A shell of radius `0.35 * side` and thickness `0.12 * side`, with a round hole through it,
/// three stray blobs, and seeded noise.
fn broken_shell(side: usize) -> Array3<f32> {
    let c = (side as f32 - 1.0) / 2.0;
    let (radius, thickness) = (0.35 * side as f32, 0.12 * side as f32);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let blobs = [(0.1, 0.1, 0.15), (0.85, 0.2, 0.8), (0.15, 0.85, 0.5)];
    Array3::from_shape_fn((side, side, side), |(z, y, x)| {
        let (fz, fy, fx) = (z as f32 - c, y as f32 - c, x as f32 - c);
        let r = (fz * fz + fy * fy + fx * fx).sqrt();
        let mut p = (-((r - radius) / (0.5 * thickness)).powi(2)).exp();
        // the hole: a cylinder along z through the top of the shell
        if fz > 0.0 && (fy * fy + fx * fx).sqrt() < 0.07 * side as f32 {
            p *= 0.2;
        }
        for &(bz, by, bx) in &blobs {
            let s = side as f32;
            let d2 = (z as f32 - bz * s).powi(2)
                + (y as f32 - by * s).powi(2)
                + (x as f32 - bx * s).powi(2);
            p = p.max(0.8 * (-d2 / (0.002 * s * s)).exp());
        }
        (p + 0.15 * noise()).clamp(0.0, 1.0)
    })
}

fn main() -> Result<(), wgpu_persistence::Error> {
    let side: usize = arg("--side", 32);
    let steps: usize = arg("--steps", 500);
    let lr: f32 = arg("--lr", 0.1);
    let ctx = if std::env::args().any(|a| a == "--gpu") {
        Context::with_backend(BackendChoice::Auto)?
    } else {
        Context::cpu()
    };
    let prior = TopologicalLoss::new(&[1, 0, 1]);
    let mut map = broken_shell(side);
    let start = Instant::now();
    let first = ctx.topological_loss(map.view(), &prior)?;
    println!(
        "{side}^3 map: {} / {} / {} pairs in H0 / H1 / H2 (superlevel), computed on the {} backend",
        first.diagram.dim(0).len(),
        first.diagram.dim(1).len(),
        first.diagram.dim(2).len(),
        first.diagram.backend
    );
    for k in 0..3 {
        let mut persistence: Vec<f32> = first
            .diagram
            .dim(k)
            .iter()
            .map(|p| p.persistence().min(1.0))
            .collect();
        persistence.sort_by(|a, b| b.total_cmp(a));
        persistence.truncate(3);
        println!("  H{k}: most persistent {persistence:.3?}");
    }
    let prior_betti = vec![1, 0, 1];
    println!(
        "step 0: loss {:.4}, Betti numbers at 0.5 {:?} (prior {prior_betti:?})",
        first.loss,
        first.diagram.betti_at(0.5, true)
    );
    for step in 1..=steps {
        let result = ctx.topological_loss(map.view(), &prior)?;
        let betti = result.diagram.betti_at(0.5, true);
        if betti == prior_betti {
            println!(
                "step {step}: loss {:.4}, Betti numbers at 0.5 {betti:?}: the prior is reached \
                 ({:.2} s)",
                result.loss,
                start.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        let largest = result.gradient.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        if largest == 0.0 {
            break;
        }
        map.zip_mut_with(&result.gradient, |p, g| {
            *p = (*p - lr * g / largest).clamp(0.0, 1.0);
        });
        if step % 25 == 0 {
            println!(
                "step {step}: loss {:.4}, Betti numbers at 0.5 {betti:?}",
                result.loss
            );
        }
    }
    let last = ctx.topological_loss(map.view(), &prior)?;
    println!(
        "stopped after {steps} steps: loss {:.4}, Betti numbers at 0.5 {:?} (prior not reached)",
        last.loss,
        last.diagram.betti_at(0.5, true)
    );
    Ok(())
}
