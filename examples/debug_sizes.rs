use std::time::Instant;
use wgpu_persistence::{BackendChoice, Construction, Context, Options};
fn main() {
    let gpu = Context::with_backend(BackendChoice::Gpu).unwrap();
    let size = 1024usize;
    let mut s = 12345u64;
    let v: Vec<f32> = (0..size * size)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32
        })
        .collect();
    let img = wgpu_persistence::image::from_slice(&v, &[size, size]).unwrap();
    let o = Options::new(Construction::V);
    let e = gpu.engine().unwrap();
    e.ranks(&img, &o).unwrap();
    let t = Instant::now();
    e.ranks(&img, &o).unwrap();
    println!(
        "ranks (incl. 8 MB readback) {:.3}",
        t.elapsed().as_secs_f64()
    );
    gpu.compute_stack(&img, &o).unwrap();
    let t = Instant::now();
    gpu.compute_stack(&img, &o).unwrap();
    println!("full {:.3}", t.elapsed().as_secs_f64());
}
