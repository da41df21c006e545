use wgpu_persistence::{BackendChoice, Construction, Context, Options};
fn main() {
    let gpu = Context::with_backend(BackendChoice::Gpu).unwrap();
    let cpu = Context::cpu();
    for size in [64usize, 80, 100, 128, 160, 200, 256] {
        let mut s = 12345u64;
        let v: Vec<f32> = (0..size * size).map(|_| { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 40) as f32 }).collect();
        let img = wgpu_persistence::image::from_slice(&v, &[size, size]).unwrap();
        let o = Options::new(Construction::V);
        let r = gpu.compute_stack(&img, &o);
        match r {
            Ok((d, st)) => { let c = cpu.compute_stack(&img, &o).unwrap().0; println!("{size}: ok rounds {:?} same {}", st.rounds, d[0].pairs == c[0].pairs) }
            Err(e) => println!("{size}: {e}"),
        }
    }
}
