//! Times the CPU backend's stages on a 1024x1024 noise image: `cargo run --release --example cpu_stages`.

use std::time::Instant;
use wgpu_persistence::internals::ports::order_keys;
use wgpu_persistence::internals::reference::{ranks_of, total_order};
use wgpu_persistence::internals::{elder_pairs_by_pixel, GraphKind, Grid};
use wgpu_persistence::Construction;

fn main() {
    let size = 1024usize;
    let mut s = 7u64;
    let values: Vec<f32> = (0..size * size)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32
        })
        .collect();
    let t = Instant::now();
    let keys = order_keys::order_keys(&values, false);
    let t_keys = t.elapsed();
    let t = Instant::now();
    let order = total_order(&keys);
    let t_sort = t.elapsed();
    let t = Instant::now();
    let rank = ranks_of(&order);
    let t_rank = t.elapsed();
    println!("keys {t_keys:?}, sort {t_sort:?}, ranks {t_rank:?}");
    for construction in [Construction::V, Construction::T, Construction::Freudenthal] {
        let (p, d) = GraphKind::of(construction);
        for kind in [p, d] {
            let grid = Grid::new(kind, size, size);
            let t = Instant::now();
            let (pairs, _) = elder_pairs_by_pixel(&grid, &rank, &order);
            println!("{kind:?}: {:?} ({} pairs)", t.elapsed(), pairs.len());
        }
    }
}
