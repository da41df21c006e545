//! Times the GPU and CPU backends on one noise image and checks they agree pair for pair.
//! `cargo run --release --example compare_backends -- [SIZE]`

use std::time::Instant;
use wgpu_persistence::{BackendChoice, Construction, Context, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let size: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1024);
    let mut state = 0x2545_f491_u64;
    let values: Vec<f32> = (0..size * size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    let cpu = Context::cpu();
    let gpu = Context::with_backend(BackendChoice::Gpu)?;
    println!(
        "adapter: {}",
        gpu.adapter_info().map(|i| i.name.as_str()).unwrap_or("?")
    );
    for construction in [Construction::V, Construction::T, Construction::Freudenthal] {
        let options = Options::new(construction);
        let t = Instant::now();
        let a = cpu.compute_slice(&values, &[size, size], &options)?;
        let t_cpu = t.elapsed().as_secs_f64();
        gpu.compute_slice(&values, &[size, size], &options)?; // warm-up: workspace and pipelines
        let t = Instant::now();
        let b = gpu.compute_slice(&values, &[size, size], &options)?;
        let t_gpu = t.elapsed().as_secs_f64();
        let stats = gpu.last_run_stats();
        let same = a.pairs == b.pairs;
        println!(
            "{construction:?} {size}x{size}: cpu {t_cpu:.3} s, gpu {t_gpu:.3} s (ratio {:.1}), GPU time of ranking / H0 / H1 {:?} s, rounds {:?}, pairs {} / {}, identical: {same}",
            t_gpu / t_cpu,
            stats.stage_seconds,
            stats.rounds,
            a.dim(0).len(),
            a.dim(1).len()
        );
    }
    Ok(())
}
