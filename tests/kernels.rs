//! Each GPU kernel alone against its CPU port (`internals::ports::<kernel>`), on seeded random inputs
//! with many ties, at sizes that are not multiples of the workgroup or tile size, and at sizes past
//! one level of the scan. The kernels run through `internals::gpu_run_kernel`, which binds the given
//! words in binding order (by the shader's own interface) and reads every storage binding back.
//! The composed stages (the whole ranking, hooking rounds, compaction, apparent pairs) are held to
//! the ports in `tests/gpu_kernels.rs`.

mod common;

use rand::{Rng, SeedableRng};
use wgpu_persistence::internals::layout::{
    self, ScatterParams, SortParams, ARG_WORDS, CONTROL_WORDS, C_CAPACITY, C_EDGES, C_EDGES_OUT,
    C_HOOKED, C_HOOKS, C_ROOTS_OUT, C_TARGET, C_VERTICES, MAX_GROUPS_PER_DIM, NONE, RADIX,
    SCAN_BLOCK, TILE, WG,
};
use wgpu_persistence::internals::{gpu_run_kernel, ports, GraphKind, Grid};
use wgpu_persistence::Context;

fn words<T: bytemuck::Pod>(value: &T) -> Vec<u32> {
    bytemuck::cast_slice(bytemuck::bytes_of(value)).to_vec()
}

/// Workgroups for `items` invocations of `per_group` each, tiled past 65535 as the engine tiles.
fn groups(items: u64, per_group: u32) -> (u32, u32) {
    let g = items.div_ceil(per_group as u64);
    let max = MAX_GROUPS_PER_DIM as u64;
    if g <= max {
        return (g as u32, 1);
    }
    let y = g.div_ceil(max);
    ((g.div_ceil(y)) as u32, y as u32)
}

fn gpu() -> Option<Context> {
    common::gpu()
}

#[test]
fn order_keys_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for &n in &[1usize, 255, 257, 4099] {
        // few distinct values (many ties), signed zeros and infinities
        let values: Vec<f32> = (0..n)
            .map(|_| match rng.gen_range(0..10) {
                0 => -0.0,
                1 => f32::INFINITY,
                2 => f32::NEG_INFINITY,
                _ => rng.gen_range(-3..4) as f32 * 0.5,
            })
            .collect();
        for superlevel in [false, true] {
            let params = layout::KeyParams {
                count: n as u32,
                superlevel: superlevel as u32,
            };
            let mut buffers = vec![
                words(&params),
                bytemuck::cast_slice(&values).to_vec(),
                vec![0; n],
                vec![0; n],
            ];
            gpu_run_kernel(&ctx, "order_keys", &[], &mut buffers, groups(n as u64, WG)).unwrap();
            let (keys, payload) = ports::order_keys::order_keys_with_payload(&values, superlevel);
            assert_eq!(buffers[2], keys, "n {n} superlevel {superlevel}");
            assert_eq!(buffers[3], payload, "n {n}");
        }
    }
}

/// Keys of few distinct values and payloads of `images` items of `pixels` pixels, shuffled.
fn keys_and_payload(rng: &mut impl Rng, n: usize, pixels: usize) -> (Vec<u32>, Vec<u32>) {
    let keys = (0..n)
        .map(|_| rng.gen_range(0..40u32) * 0x0101_0101)
        .collect();
    let mut payload: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        payload.swap(i, rng.gen_range(0..=i));
    }
    debug_assert!(pixels > 0);
    (keys, payload)
}

#[test]
fn radix_passes_match_their_ports() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    // one tile, a partial tile, and more tiles than one scan block of histogram entries
    for &(n, pixels) in &[
        (1usize, 1usize),
        (1000, 1000),
        (3 * TILE as usize + 17, 613),
        (70_001, 7_000),
    ] {
        let (keys, payload) = keys_and_payload(&mut rng, n, pixels);
        let tiles = (n as u32).div_ceil(TILE);
        for (shift, digit_source) in [(0, 0), (4, 0), (28, 0), (0, 1), (4, 1)] {
            let params = SortParams {
                count: n as u32,
                shift,
                tiles,
                digit_source,
                pixels: pixels as u32,
            };
            let label = format!("n {n} shift {shift} source {digit_source}");
            let mut buffers = vec![
                words(&params),
                keys.clone(),
                payload.clone(),
                vec![0; (RADIX * tiles) as usize],
            ];
            gpu_run_kernel(
                &ctx,
                "radix_histogram",
                &[],
                &mut buffers,
                groups(tiles as u64, 1),
            )
            .unwrap();
            let hist = ports::radix_histogram::radix_histogram(&keys, &payload, &params);
            assert_eq!(buffers[3], hist, "histogram {label}");

            let mut offsets = hist;
            ports::scan_apply::exclusive_scan(&mut offsets);
            let mut buffers = vec![
                words(&params),
                keys.clone(),
                payload.clone(),
                offsets.clone(),
                vec![0; n],
                vec![0; n],
            ];
            gpu_run_kernel(
                &ctx,
                "radix_scatter",
                &[],
                &mut buffers,
                groups(tiles as u64, 1),
            )
            .unwrap();
            let (k, p) = ports::radix_scatter::radix_scatter(&keys, &payload, &offsets, &params);
            assert_eq!(buffers[4], k, "scattered keys {label}");
            assert_eq!(buffers[5], p, "scattered payload {label}");
        }
    }
}

#[test]
fn scan_steps_match_their_ports() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    for &n in &[1usize, 1000, 1024, 1025, 5 * SCAN_BLOCK as usize + 3] {
        let data: Vec<u32> = (0..n).map(|_| rng.gen_range(0..50)).collect();
        let blocks = (n as u32).div_ceil(SCAN_BLOCK);
        let params = layout::ScanParams {
            count: n as u32,
            use_offsets: 0,
        };
        let mut buffers = vec![words(&params), data.clone(), vec![0; blocks as usize]];
        gpu_run_kernel(
            &ctx,
            "scan_reduce",
            &[],
            &mut buffers,
            groups(n as u64, SCAN_BLOCK),
        )
        .unwrap();
        let sums = ports::scan_reduce::scan_reduce(&data, n);
        assert_eq!(buffers[2], sums, "block sums of {n}");

        let offsets: Vec<u32> = (0..blocks).map(|_| rng.gen_range(0..1000)).collect();
        for use_offsets in [0u32, 1] {
            let params = layout::ScanParams {
                count: n as u32,
                use_offsets,
            };
            let mut buffers = vec![words(&params), data.clone(), offsets.clone()];
            gpu_run_kernel(
                &ctx,
                "scan_apply",
                &[],
                &mut buffers,
                groups(n as u64, SCAN_BLOCK),
            )
            .unwrap();
            let mut want = data.clone();
            let given = (use_offsets == 1).then_some(offsets.as_slice());
            ports::scan_apply::scan_apply(&mut want, n, given);
            assert_eq!(buffers[1], want, "scan of {n}, offsets {use_offsets}");
        }
    }
}

#[test]
fn rank_scatter_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    for &(images, pixels) in &[(1usize, 1usize), (1, 777), (5, 300)] {
        // a payload sorted by item, shuffled within each item
        let mut payload = vec![];
        for b in 0..images {
            let mut item: Vec<u32> = (0..pixels as u32)
                .map(|p| (b * pixels) as u32 + p)
                .collect();
            for i in (1..pixels).rev() {
                item.swap(i, rng.gen_range(0..=i));
            }
            payload.extend(item);
        }
        let n = payload.len();
        let params = layout::RankParams {
            count: n as u32,
            pixels: pixels as u32,
        };
        let mut buffers = vec![words(&params), payload.clone(), vec![0; n], vec![0; n]];
        gpu_run_kernel(
            &ctx,
            "rank_scatter",
            &[],
            &mut buffers,
            groups(n as u64, WG),
        )
        .unwrap();
        let (rank, order) = ports::rank_scatter::rank_scatter(&payload, pixels);
        assert_eq!(buffers[2], rank, "{images} x {pixels}");
        assert_eq!(buffers[3], order, "{images} x {pixels}");
    }
}

#[test]
fn gradient_scatter_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for &(count, pixels) in &[(0usize, 5usize), (1, 1), (300, 40), (5000, 70_000)] {
        let mut pixel: Vec<u32> = (0..count)
            .map(|_| rng.gen_range(0..pixels as u32))
            .collect();
        pixel.sort_unstable();
        let value: Vec<f32> = (0..count).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let params = ScatterParams {
            count: count as u32,
            pixels: pixels as u32,
        };
        let mut buffers = vec![
            words(&params),
            pixel.clone(),
            bytemuck::cast_slice(&value).to_vec(),
            vec![0; pixels],
        ];
        gpu_run_kernel(
            &ctx,
            "gradient_scatter",
            &[],
            &mut buffers,
            groups(count as u64, WG),
        )
        .unwrap();
        let want = ports::gradient_scatter::gradient_scatter(&pixel, &value, pixels);
        let got: &[f32] = bytemuck::cast_slice(&buffers[3]);
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{count} contributions to {pixels} pixels"
        );
    }
}

#[test]
fn boruvka_control_matches_its_port() {
    use ports::boruvka_control::{boruvka_control, Step};
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let steps = [
        (Step::RoundStart, 0.0),
        (Step::AfterSelect, 1.0),
        (Step::AfterHook, 2.0),
        (Step::FirstRound, 3.0),
    ];
    for case in 0..64 {
        let mut control = vec![0u32; CONTROL_WORDS as usize];
        for w in control.iter_mut() {
            *w = rng.gen_range(0..100_000);
        }
        // done and not done; lists that overflowed the capacity and lists that did not; counts
        // past 65535 workgroups; NONE where a count means "every one"
        control[C_TARGET as usize] = rng.gen_range(0..200_000);
        control[C_HOOKS as usize] = if case % 4 == 0 {
            control[C_TARGET as usize]
        } else {
            control[C_TARGET as usize] / 2
        };
        control[C_CAPACITY as usize] = rng.gen_range(0..100_000);
        control[C_EDGES as usize] = rng.gen_range(0..40_000_000);
        control[C_VERTICES as usize] = rng.gen_range(0..20_000_000);
        control[C_HOOKED as usize] = rng.gen_range(0..20_000_000);
        if case % 3 == 0 {
            control[C_EDGES_OUT as usize] = NONE;
            control[C_ROOTS_OUT as usize] = NONE;
        }
        let args: Vec<u32> = (0..ARG_WORDS).map(|_| rng.gen()).collect();
        for (step, mode) in steps {
            let mut buffers = vec![control.clone(), args.clone()];
            gpu_run_kernel(
                &ctx,
                "boruvka_control",
                &[("MODE", mode)],
                &mut buffers,
                (1, 1),
            )
            .unwrap();
            let (mut c, mut a) = (control.clone(), args.clone());
            boruvka_control(&mut c, &mut a, step);
            assert_eq!(buffers[0], c, "control words, case {case} {step:?}");
            assert_eq!(buffers[1], a, "dispatch arguments, case {case} {step:?}");
        }
    }
}

#[test]
fn boruvka_init_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for kind in [
        GraphKind::VPrimal,
        GraphKind::VDual,
        GraphKind::TPrimal,
        GraphKind::TDual,
        GraphKind::FPrimal,
        GraphKind::FDual,
    ] {
        for &(h, w) in &[(1usize, 1usize), (1, 9), (7, 5), (19, 23)] {
            let grid = Grid::new(kind, h, w);
            let mut rank: Vec<u32> = (0..(h * w) as u32).collect();
            for i in (1..rank.len()).rev() {
                rank.swap(i, rng.gen_range(0..=i));
            }
            let nv = grid.vertex_count() as usize;
            let params = layout::GraphParams {
                kind: kind as u32,
                height: h as u32,
                width: w as u32,
                images: 1,
                pixels: (h * w) as u32,
                vertices: grid.vertex_count(),
                edges: grid.edge_count(),
                depth: 1,
                ..Default::default()
            };
            let mut buffers = vec![
                words(&params),
                rank.clone(),
                vec![7; nv],
                vec![7; nv],
                vec![7; nv],
                vec![7; nv],
            ];
            gpu_run_kernel(
                &ctx,
                "boruvka_init",
                &[("VOLUME", 0.0)],
                &mut buffers,
                groups(nv as u64, WG),
            )
            .unwrap();
            let s = ports::boruvka_init::boruvka_init(&grid, &rank);
            let label = format!("{kind:?} {h}x{w}");
            assert_eq!(buffers[2], s.parent, "parent {label}");
            assert_eq!(buffers[3], s.vertex_key, "vkey {label}");
            assert!(
                buffers[4].iter().chain(&buffers[5]).all(|&w| w == NONE),
                "best {label}"
            );
            assert!(
                s.best.iter().all(|&b| b == (NONE, NONE)),
                "port best {label}"
            );
        }
    }
}

#[test]
fn every_kernel_has_a_port_of_its_name() {
    // the layout every kernel test binds by: one module per shader, and a port of the same name
    let ports_dir = std::path::Path::new("src/cpu/ports");
    for shader in layout::SHADERS {
        assert!(
            ports_dir.join(format!("{}.rs", shader.name)).exists(),
            "no CPU port src/cpu/ports/{}.rs",
            shader.name
        );
        assert!(
            std::path::Path::new("src/gpu/kernels")
                .join(format!("{}.rs", shader.name))
                .exists(),
            "no kernel struct src/gpu/kernels/{}.rs",
            shader.name
        );
    }
    assert_eq!(layout::SHADERS.len(), 15);
}
