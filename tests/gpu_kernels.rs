//! Each GPU stage against its CPU port on seeded random inputs with heavy ties, odd sizes, and sizes
//! that need multi-level scans and dispatches tiled past 65535 workgroups.

mod common;

use common::Items;
use rand::{Rng, SeedableRng};
use wgpu_persistence::internals::ports::{self, order_keys};
use wgpu_persistence::internals::reference::{ranks_of, total_order};
use wgpu_persistence::internals::{self, Grid};
use wgpu_persistence::{Construction, Context, Options};

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
        let stack = Items::images(&values, &[b, h, w]);
        for superlevel in [false, true] {
            let mut options = Options::new(Construction::V);
            if superlevel {
                options = options.superlevel();
            }
            let (rank, order) =
                internals::gpu_ranks(&ctx, &stack.values, stack.count, stack.shape, &options)
                    .unwrap();
            let n = h * w;
            for img in 0..b {
                let keys = order_keys::order_keys(stack.item(img), superlevel);
                let want_order = total_order(&keys);
                let want_rank = ranks_of(&want_order);
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

/// One GPU run of the items, before values are attached (the pairs, H1's apparent pairs, the
/// statistics).
fn raw_pairs(ctx: &Context, stack: &Items, options: &Options) -> internals::GpuRaw {
    internals::gpu_raw_pairs(ctx, &stack.values, stack.count, stack.shape, options).unwrap()
}

/// Follows parents to the root.
fn root(parent: &[u32], mut v: u32) -> u32 {
    while parent[v as usize] != v {
        v = parent[v as usize];
    }
    v
}

/// After each of the first `rounds` hooking rounds of graph `which`, the GPU's roots and deaths
/// equal the CPU port's after the same rounds.
#[allow(clippy::too_many_arguments)]
fn compare_rounds(
    ctx: &Context,
    stack: &Items,
    options: &Options,
    which: usize,
    grid: &Grid,
    rank: &[u32],
    rounds: u32,
    label: &str,
) {
    let mut state = ports::boruvka_init::boruvka_init(grid, rank);
    for round in 1..=rounds {
        // the CPU port, one more round
        ports::boruvka_select::boruvka_select(grid, rank, &mut state);
        ports::boruvka_hook::boruvka_hook(&mut state);
        ports::pointer_jump::pointer_jump(&mut state);
        let (parent, death) = internals::gpu_pairing_state(
            ctx,
            &stack.values,
            stack.count,
            stack.shape,
            options,
            which,
            round,
        )
        .unwrap();
        for v in 0..grid.vertex_count() {
            let at = format!("{label} round {round} vertex {v}");
            assert_eq!(root(&parent, v), state.parent[v as usize], "{at}: root");
            let d = (death[2 * v as usize], death[2 * v as usize + 1]);
            assert_eq!(d, state.death[v as usize], "{at}: death");
        }
    }
}

#[test]
fn hooking_rounds_equal_cpu_port_round_by_round() {
    use wgpu_persistence::internals::GraphKind;
    let Some(ctx) = common::gpu() else { return };
    for (i, &(h, w, levels)) in [(1, 1, 0), (7, 1, 3), (19, 23, 3), (64, 48, 0)]
        .iter()
        .enumerate()
    {
        let values = random(h * w, levels, 100 + i as u64);
        let stack = Items::images(&values, &[h, w]);
        let keys = order_keys::order_keys(&values, false);
        let rank = ranks_of(&total_order(&keys));
        for construction in [Construction::V, Construction::T, Construction::Freudenthal] {
            let options = Options::new(construction);
            let (primal, dual) = GraphKind::of(construction);
            for (which, kind) in [(0, primal), (1, dual)] {
                let grid = Grid::new(kind, h, w);
                let label = format!("{kind:?} {h}x{w}");
                compare_rounds(&ctx, &stack, &options, which, &grid, &rank, 4, &label);
            }
        }
    }
}

/// The same round-by-round check on the four volume graphs (cells of the V and T complexes).
#[test]
fn volume_hooking_rounds_equal_cpu_port_round_by_round() {
    use wgpu_persistence::internals::GraphKind;
    let Some(ctx) = common::gpu() else { return };
    for (i, &(shape, levels)) in [
        ([1, 1, 1], 0),
        ([5, 1, 4], 3),
        ([6, 7, 5], 3),
        ([9, 8, 10], 0),
    ]
    .iter()
    .enumerate()
    {
        let [d, h, w] = shape;
        let values = random(d * h * w, levels, 200 + i as u64);
        let stack = Items::volumes(&values, &shape);
        let keys = order_keys::order_keys(&values, false);
        let rank = ranks_of(&total_order(&keys));
        for construction in [Construction::V, Construction::T] {
            let options = Options::new(construction);
            let (primal, dual) = GraphKind::of_volume(construction).unwrap();
            for (which, kind) in [(0, primal), (1, dual)] {
                let grid = Grid::volume(kind, d, h, w);
                let label = format!("{kind:?} {shape:?}");
                compare_rounds(&ctx, &stack, &options, which, &grid, &rank, 3, &label);
            }
        }
    }
}

#[test]
fn gradient_scatter_equals_cpu_bit_for_bit() {
    use rand::Rng;
    use wgpu_persistence::internals::ports::gradient_scatter::gradient_scatter;
    let Some(ctx) = common::gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    for (pixels, count) in [(1usize, 0usize), (1, 5), (1000, 3000), (300_000, 200_000)] {
        let contributions: Vec<(u32, f32)> = (0..count)
            .map(|_| {
                (
                    rng.gen_range(0..pixels as u32),
                    rng.gen::<f32>() * 2.0 - 1.0,
                )
            })
            .collect();
        // sorted by pixel, stably (equal pixels keep their order): the order in which both backends
        // add them up
        let mut sorted = contributions.clone();
        sorted.sort_by_key(|c| c.0);
        let (by_pixel, values): (Vec<u32>, Vec<f32>) = sorted.into_iter().unzip();
        let want = gradient_scatter(&by_pixel, &values, pixels);
        let got = internals::gpu_gradient_scatter(&ctx, &by_pixel, &values, pixels).unwrap();
        assert_eq!(got.len(), pixels);
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{pixels} {count}"
        );
    }
}

#[test]
fn apparent_pairs_equal_cpu() {
    use wgpu_persistence::internals::ports::apparent_pairs::apparent_pairs;
    let Some(ctx) = common::gpu() else { return };
    for (i, &(shape, levels, count)) in [
        ([1usize, 1, 1], 0u32, 1usize),
        ([1, 6, 5], 2, 1),
        ([7, 1, 1], 3, 1),
        ([6, 7, 5], 3, 3),
        ([17, 9, 33], 4, 1),
        ([20, 20, 20], 0, 2),
    ]
    .iter()
    .enumerate()
    {
        let [d, h, w] = shape;
        let values = random(count * d * h * w, levels, 300 + i as u64);
        let dims = [&[count][..], &shape[..]].concat();
        let stack = Items::volumes(&values, &dims);
        for construction in [Construction::V, Construction::T] {
            for options in [
                Options::new(construction),
                Options::new(construction).superlevel(),
            ] {
                let got = raw_pairs(&ctx, &stack, &options).apparent;
                assert_eq!(got.len(), count);
                for (b, words) in got.iter().enumerate() {
                    let item = &values[b * d * h * w..(b + 1) * d * h * w];
                    let keys = order_keys::order_keys(item, options.is_superlevel());
                    let rank = ranks_of(&total_order(&keys));
                    let want = apparent_pairs(construction, shape, &rank).unwrap();
                    assert_eq!(words, &want, "{shape:?} item {b} {options:?}");
                }
            }
        }
    }
}

/// `set_kernel_timings`: every kernel of a run is timed (its dispatches counted), the kernels' times
/// add up to the stages' (both come from the same clock), the pairs do not change, and switching it
/// off stops it.
#[test]
fn kernel_timings_cover_every_kernel() {
    let Some(ctx) = common::gpu() else {
        return;
    };
    let device = internals::gpu_device(&ctx).expect("a GPU context has a device");
    let values = random(2 * 40 * 33, 6, 77);
    let stack = Items::images(&values, &[2, 40, 33]);
    let options = Options::new(Construction::T);
    let untimed = raw_pairs(&ctx, &stack, &options);
    assert!(untimed.stats.kernel_seconds.is_none());
    let can = device
        .features()
        .contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES);
    // CI's adapter (lavapipe) offers it: there the test must not pass by skipping
    let lavapipe = ctx
        .adapter_info()
        .expect("adapter")
        .name
        .contains("llvmpipe");
    assert!(can || !lavapipe, "lavapipe writes timestamps inside passes");
    assert_eq!(ctx.set_kernel_timings(true), can);
    if !can {
        let timed = raw_pairs(&ctx, &stack, &options);
        ctx.set_kernel_timings(false);
        assert!(timed.stats.kernel_seconds.is_none());
        return;
    }
    let timed = raw_pairs(&ctx, &stack, &options);
    ctx.set_kernel_timings(false);
    // the records come out in the order the GPU's atomics hand out slots
    let sorted = |pairs: &[Vec<internals::RawPair>]| -> Vec<Vec<(u32, u64, u32, u32)>> {
        pairs
            .iter()
            .map(|item| {
                let mut v: Vec<_> = item
                    .iter()
                    .map(|p| (p.dim, p.order, p.birth_index, p.death_index))
                    .collect();
                v.sort_unstable();
                v
            })
            .collect()
    };
    assert_eq!(sorted(&timed.pairs), sorted(&untimed.pairs));
    let kernels = timed.stats.kernel_seconds.expect("kernel times");
    let count = |name: &str| {
        kernels
            .iter()
            .find(|k| k.kernel == name)
            .map(|k| k.dispatches)
    };
    // once per run, once per graph, and every kernel a 2D run dispatches
    assert_eq!(count("order_keys"), Some(1));
    assert_eq!(count("rank_scatter"), Some(1));
    assert_eq!(count("boruvka_init"), Some(2));
    assert_eq!(count("boruvka_first_round"), Some(2));
    assert_eq!(count("compact_pairs"), Some(2));
    for name in [
        "radix_histogram",
        "radix_scatter",
        "boruvka_control",
        "boruvka_select",
    ] {
        assert!(count(name).is_some_and(|n| n >= 2), "{name}: {kernels:?}");
    }
    assert_eq!(count("apparent_pairs"), None);
    let sum: f64 = kernels.iter().map(|k| k.seconds).sum();
    let stages: f64 = timed.stats.stage_seconds.expect("stage times").iter().sum();
    assert!(kernels.iter().all(|k| k.seconds >= 0.0));
    assert_eq!(timed.stats.untimed_dispatches, 0);
    // every kernel's timestamps lie inside the stages' passes; on lavapipe, which runs the
    // dispatches one after another, they also cover most of them
    assert!(
        sum > 0.0 && sum <= stages * 1.01 + 1e-4,
        "kernels {sum} s against stages {stages} s"
    );
    if lavapipe {
        assert!(
            sum >= stages * 0.5,
            "kernels {sum} s against stages {stages} s"
        );
    }
    let after = raw_pairs(&ctx, &stack, &options);
    assert!(after.stats.kernel_seconds.is_none());
}
