//! Prints how many hooking rounds the parallel pairing needs on several kinds of images (CPU port of
//! the GPU kernels, so no adapter is needed): `cargo run --release --example rounds`.

use wgpu_persistence::internals::ports::{boruvka_pairs, order_keys};
use wgpu_persistence::internals::reference::{ranks_of, total_order};
use wgpu_persistence::internals::{GraphKind, Grid};

fn rounds(values: &[f32], h: usize, w: usize) -> Vec<u32> {
    let rank = ranks_of(&total_order(&order_keys::order_keys(values, false)));
    [
        GraphKind::VPrimal,
        GraphKind::VDual,
        GraphKind::TPrimal,
        GraphKind::TDual,
        GraphKind::FPrimal,
        GraphKind::FDual,
    ]
    .iter()
    .map(|&k| boruvka_pairs(&Grid::new(k, h, w), &rank).1)
    .collect()
}

fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32
        })
        .collect()
}

fn blur(v: &[f32], h: usize, w: usize, passes: usize) -> Vec<f32> {
    let mut a = v.to_vec();
    for _ in 0..passes {
        let b = a.clone();
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                let mut c = 0.0;
                for dy in -2i64..=2 {
                    for dx in -2i64..=2 {
                        let (yy, xx) = (y as i64 + dy, x as i64 + dx);
                        if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                            s += b[yy as usize * w + xx as usize];
                            c += 1.0;
                        }
                    }
                }
                a[y * w + x] = s / c;
            }
        }
    }
    a
}

fn main() {
    println!("image                  VPrimal VDual TPrimal TDual FPrimal FDual");
    for size in [64usize, 256, 512] {
        let n = noise(size * size, 7);
        println!("noise {size:>4}^2            {:?}", rounds(&n, size, size));
        let s = blur(&n, size, size, 3);
        println!("smoothed noise {size:>4}^2   {:?}", rounds(&s, size, size));
    }
    let ramp: Vec<f32> = (0..256 * 256).map(|i| i as f32).collect();
    println!("ramp 256^2             {:?}", rounds(&ramp, 256, 256));
    // adversarial staircase: minima 0,1,2,... separated by saddles 2k, 2k-1, ...: every round only the
    // last two basins of the chain can be paired, so rounds grow with the number of minima
    for k in [16usize, 64] {
        let mut row = vec![];
        for i in 0..k {
            row.push(i as f32);
            row.push((2 * k - i) as f32);
        }
        row.push(k as f32);
        println!(
            "staircase 1x{:<4}       {:?}",
            row.len(),
            rounds(&row, 1, row.len())
        );
    }
}
