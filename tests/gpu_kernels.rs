//! Each GPU stage against its CPU port on seeded random inputs with heavy ties, odd sizes, and sizes
//! that need multi-level scans and dispatches tiled past 65535 workgroups.

mod common;

use rand::{Rng, SeedableRng};
use wgpu_persistence::cpu::{order_keys, radix_sort};
use wgpu_persistence::image::from_slice;
use wgpu_persistence::{Construction, Options};

fn random(n: usize, levels: u32, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| match levels {
            0 => rng.gen::<f32>() * 2.0 - 1.0,
            l => rng.gen_range(0..l) as f32 - (l / 2) as f32,
        })
        .collect()
}

#[test]
fn sort_and_ranks_equal_cpu() {
    let Some(ctx) = common::gpu() else { return };
    let engine = ctx.engine().expect("gpu context");
    // (images, height, width, levels)
    let cases = [
        (1, 1, 1, 0),
        (1, 1, 9, 3),
        (1, 37, 29, 0),
        (1, 64, 64, 4),
        (3, 33, 65, 5),
        (1, 300, 301, 0),
        (1, 1024, 1100, 7), // 1.1M keys: 1100 tiles, two scan levels
        (17, 20, 20, 2),    // 17 images: two image passes
    ];
    for (i, &(b, h, w, levels)) in cases.iter().enumerate() {
        let values = random(b * h * w, levels, i as u64);
        let stack = from_slice(&values, &[b, h, w]).unwrap();
        for superlevel in [false, true] {
            let mut options = Options::new(Construction::V);
            if superlevel {
                options = options.superlevel();
            }
            let (rank, order) = engine.ranks(&stack, &options).unwrap();
            let n = h * w;
            for img in 0..b {
                let keys = order_keys::order_keys(stack.image(img), superlevel);
                let want_order = radix_sort::radix_sort(&keys);
                let want_rank = radix_sort::rank_scatter(&want_order);
                assert_eq!(
                    &order[img * n..(img + 1) * n],
                    &want_order[..],
                    "order {b}x{h}x{w} image {img}"
                );
                assert_eq!(
                    &rank[img * n..(img + 1) * n],
                    &want_rank[..],
                    "rank {b}x{h}x{w} image {img}"
                );
            }
        }
    }
}
