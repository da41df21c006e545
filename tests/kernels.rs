//! Each GPU kernel alone against its CPU port (`internals::ports::<kernel>`), on seeded random inputs
//! with many ties, at sizes that are not multiples of the workgroup or tile size, and at sizes past
//! one level of the scan. The kernels run through `internals::gpu_run_kernel`, which binds the given
//! words in binding order (by the shader's own interface) and reads every storage binding back.
//! The composed stages (the whole ranking, hooking rounds, compaction, apparent pairs) are held to
//! the ports in `tests/gpu_kernels.rs`.

mod common;

use rand::{Rng, SeedableRng};
use wgpu_persistence::internals::layout::{
    self, CountParams, LossParams, PairRecord, Prior, ScatterParams, Selection, SortParams, Term,
    ARG_WORDS, CONTROL_WORDS, C_CAPACITY, C_EDGES, C_EDGES_OUT, C_HOOKED, C_HOOKS, C_ROOTS_OUT,
    C_TARGET, C_VERTICES, ENTRY_DEATH, ENTRY_DIM1, MAX_GROUPS_PER_DIM, NONE, RADIX, SCAN_BLOCK,
    TERM_FEATURE, TERM_KEPT, TILE, WG,
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
    assert_eq!(layout::SHADERS.len(), 22);
}

fn f32_bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn loss_reduce_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    for &(images, pixels) in &[(1usize, 1usize), (3, 300), (2, 70_001)] {
        // shares of very different sizes: the order of the sums shows in the bits
        let share: Vec<f32> = (0..images * pixels)
            .map(|_| rng.gen_range(0.0f32..1.0).powi(rng.gen_range(1..12)))
            .collect();
        let selection: Vec<Selection> = (0..2 * images)
            .map(|_| Selection {
                missing: rng.gen_range(0..3) as f32 * 0.7,
                ..Selection::default()
            })
            .collect();
        let params = LossParams {
            images: images as u32,
            pixels: pixels as u32,
            ..LossParams::default()
        };
        let mut buffers = vec![
            words(&params),
            bytemuck::cast_slice(&share).to_vec(),
            bytemuck::cast_slice(&selection).to_vec(),
            vec![0; images],
        ];
        gpu_run_kernel(
            &ctx,
            "loss_reduce",
            &[],
            &mut buffers,
            groups(images as u64, 1),
        )
        .unwrap();
        let want: Vec<f32> = (0..images)
            .map(|b| {
                let m = [selection[2 * b].missing, selection[2 * b + 1].missing];
                ports::loss_reduce::loss_reduce(&share[b * pixels..(b + 1) * pixels], &m)
            })
            .collect();
        assert_eq!(buffers[3], f32_bits(&want), "{images} x {pixels}");
    }
}

/// Random records of `images` maps of `pixels` values, with their persistence as loss_select
/// writes it; some essential.
fn loss_records(
    rng: &mut impl Rng,
    images: usize,
    pixels: usize,
    count: usize,
    values: &[f32],
) -> (Vec<PairRecord>, Vec<[f32; 2]>) {
    let mut records = vec![];
    let mut pers = vec![];
    for i in 0..count {
        let image = rng.gen_range(0..images) as u32;
        let birth = rng.gen_range(0..pixels) as u32;
        let death = if i % 7 == 0 {
            NONE
        } else {
            rng.gen_range(0..pixels) as u32
        };
        records.push(PairRecord {
            image,
            dim: 0,
            order_hi: rng.gen(),
            order_lo: i as u32,
            birth_index: birth,
            death_index: death,
        });
        let base = image as usize * pixels;
        let d = if death == NONE { 0 } else { death as usize };
        let (vb, vd) = (values[base + birth as usize], values[base + d]);
        let p = if vb != vd { (vb - vd).abs() } else { 0.0 };
        pers.push([p, p * p]);
    }
    (records, pers)
}

#[test]
fn loss_terms_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    for &(images, pixels, count) in &[(1usize, 1usize, 1usize), (3, 50, 200), (2, 3000, 9000)] {
        let values: Vec<f32> = (0..images * pixels)
            .map(|_| rng.gen_range(0..9) as f32 / 8.0)
            .collect();
        let (records, pers) = loss_records(&mut rng, images, pixels, count, &values);
        let priors: Vec<Prior> = (0..images)
            .map(|_| Prior {
                beta0: 1,
                beta1: 0,
                weight0: rng.gen_range(0.1..3.0),
                weight1: 1.0,
            })
            .collect();
        // kept: keys at or above a random threshold (last pixel 0)
        let selection: Vec<Selection> = (0..2 * images)
            .map(|_| Selection {
                key_pers: rng.gen_range(0..0x3f80_0000),
                last: 0,
                ..Selection::default()
            })
            .collect();
        for kind in [0u32, 1] {
            let params = LossParams {
                images: images as u32,
                pixels: pixels as u32,
                dim: 0,
                kind,
                capacity: count as u32,
                ..LossParams::default()
            };
            let mut control = vec![0u32; CONTROL_WORDS as usize];
            control[layout::C_PAIRS as usize] = count as u32;
            let mut buffers = vec![
                words(&params),
                bytemuck::cast_slice(&values).to_vec(),
                bytemuck::cast_slice(&records).to_vec(),
                control,
                bytemuck::cast_slice(&priors).to_vec(),
                bytemuck::cast_slice(&selection).to_vec(),
                bytemuck::cast_slice(&pers).to_vec(),
                vec![0; 4 * count],
                vec![0; images * pixels],
            ];
            gpu_run_kernel(
                &ctx,
                "loss_terms",
                &[],
                &mut buffers,
                groups(count as u64, WG),
            )
            .unwrap();
            let terms: &[Term] = bytemuck::cast_slice(&buffers[7]);
            let mut counts = vec![0u32; images * pixels];
            let loss_kind = if kind == 0 {
                wgpu_persistence::LossKind::Squared
            } else {
                wgpu_persistence::LossKind::L1
            };
            for (r, rec) in records.iter().enumerate() {
                let t = terms[r];
                if pers[r][0] == 0.0 {
                    assert_eq!(t.flags, 0, "record {r}");
                    continue;
                }
                let base = rec.image as usize * pixels;
                let d = if rec.death_index == NONE {
                    0
                } else {
                    rec.death_index as usize
                };
                let kept = pers[r][0].to_bits() >= selection[2 * rec.image as usize].key_pers;
                let want = ports::loss_terms::loss_terms(
                    loss_kind,
                    kept,
                    priors[rec.image as usize].weight0,
                    values[base + rec.birth_index as usize],
                    values[base + d],
                );
                assert_eq!(
                    t.flags,
                    TERM_FEATURE | if kept { TERM_KEPT } else { 0 },
                    "record {r}"
                );
                assert_eq!(
                    f32_bits(&[t.birth, t.death, t.loss]),
                    f32_bits(&want),
                    "record {r} kind {kind}"
                );
                counts[base + rec.birth_index as usize] += 1;
                counts[base + d] += 1;
            }
            assert_eq!(buffers[8], counts, "entry counts");
        }
    }
}

#[test]
fn loss_gather_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(10);
    for &(images, pixels, count) in &[(1usize, 1usize, 1usize), (2, 40, 300), (3, 2000, 5000)] {
        let values: Vec<f32> = (0..images * pixels)
            .map(|_| rng.gen_range(0..5) as f32 / 4.0)
            .collect();
        let (records, pers) = loss_records(&mut rng, images, pixels, count, &values);
        // terms with shares of very different sizes, kept or not at random; many entries per pixel.
        // A term is a function of its map, pixels and kept flag, as real ones are (entries of equal
        // key are then equal, which the kernel relies on)
        let size = |seed: u64, what: u64| {
            let mut r = rand::rngs::StdRng::seed_from_u64(seed * 3 + what);
            r.gen_range(-1.0f32..1.0).powi(r.gen_range(1..9))
        };
        let terms: Vec<Term> = records
            .iter()
            .zip(&pers)
            .map(|(rec, p)| {
                let kept = rng.gen::<bool>();
                let seed = ((rec.image as u64 * 1_000_003 + rec.birth_index as u64) * 1_000_003
                    + rec.death_index as u64)
                    * 2
                    + kept as u64;
                Term {
                    flags: if p[0] == 0.0 {
                        0
                    } else {
                        TERM_FEATURE | if kept { TERM_KEPT } else { 0 }
                    },
                    birth: size(seed, 0),
                    death: size(seed, 1),
                    loss: size(seed, 2).abs(),
                }
            })
            .collect();
        let selection: Vec<Selection> = (0..2 * images)
            .map(|_| Selection {
                last: 0,
                ..Selection::default()
            })
            .collect();
        // the lists, as loss_scatter would fill them (in a shuffled order), and the port's entries
        let mut lists: Vec<Vec<u32>> = vec![vec![]; images * pixels];
        let mut entries = vec![];
        for (r, rec) in records.iter().enumerate() {
            if terms[r].flags & TERM_FEATURE == 0 {
                continue;
            }
            let base = rec.image as usize * pixels;
            let d = if rec.death_index == NONE {
                0
            } else {
                rec.death_index as usize
            };
            // every feature in H0, and a third of them again in H1 (the same records stand for the
            // H1 graph's, whose pass goes on from H0's sums)
            for dim in 0..1 + usize::from(r % 3 == 0) {
                let bit = if dim == 1 { ENTRY_DIM1 } else { 0 };
                lists[base + rec.birth_index as usize].push(r as u32 | bit);
                lists[base + d].push(r as u32 | ENTRY_DEATH | bit);
                let t = terms[r];
                entries.extend(ports::loss_scatter::loss_scatter(
                    base,
                    dim,
                    rec.birth_index as usize,
                    d,
                    t.flags & TERM_KEPT != 0,
                    [t.birth, t.death, t.loss],
                ));
            }
        }
        let (mut offsets, mut counts, mut flat) = (vec![], vec![], vec![]);
        for list in &mut lists {
            // a shuffled order: the kernel orders each list itself
            for i in (1..list.len()).rev() {
                list.swap(i, rng.gen_range(0..=i));
            }
            offsets.push(flat.len() as u32);
            counts.push(list.len() as u32);
            flat.extend(list.iter());
        }
        let params = LossParams {
            images: images as u32,
            pixels: pixels as u32,
            dim: 0,
            capacity: count as u32,
            ..LossParams::default()
        };
        let mut buffers = vec![
            words(&params),
            bytemuck::cast_slice(&records).to_vec(),
            bytemuck::cast_slice(&terms).to_vec(),
            bytemuck::cast_slice(&selection).to_vec(),
            offsets,
            counts,
            flat,
            vec![0; images * pixels],
            vec![0; images * pixels],
        ];
        for dim in 0..2u32 {
            buffers[0] = words(&LossParams { dim, ..params });
            gpu_run_kernel(
                &ctx,
                "loss_gather",
                &[],
                &mut buffers,
                groups((images * pixels) as u64, WG),
            )
            .unwrap();
        }
        let (gradient, share) = ports::loss_gather::loss_gather(&mut entries, images * pixels);
        assert_eq!(
            buffers[7],
            f32_bits(&gradient),
            "gradient, {images} x {pixels}"
        );
        assert_eq!(buffers[8], f32_bits(&share), "share, {images} x {pixels}");
    }
}

#[test]
fn pair_counts_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for &(images, count, capacity) in
        &[(1usize, 0usize, 1usize), (3, 500, 600), (7, 70_000, 70_000)]
    {
        let records: Vec<PairRecord> = (0..capacity)
            .map(|_| PairRecord {
                image: rng.gen_range(0..images) as u32,
                ..PairRecord::default()
            })
            .collect();
        let mut control = vec![0u32; CONTROL_WORDS as usize];
        control[layout::C_PAIRS as usize] = count as u32;
        for dim in 0..2u32 {
            let params = CountParams {
                images: images as u32,
                dim,
                capacity: capacity as u32,
                ..CountParams::default()
            };
            let mut buffers = vec![
                words(&params),
                bytemuck::cast_slice(&records).to_vec(),
                control.clone(),
                vec![0; 2 * images],
            ];
            gpu_run_kernel(
                &ctx,
                "pair_counts",
                &[],
                &mut buffers,
                groups(capacity as u64, WG),
            )
            .unwrap();
            let mut want = vec![0u32; 2 * images];
            ports::pair_counts::pair_counts(&records[..count], dim as usize, &mut want);
            assert_eq!(buffers[3], want, "{images} images, {count} records, H{dim}");
        }
    }
}

#[test]
fn record_buckets_matches_its_port() {
    let Some(ctx) = gpu() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    for &(images, count) in &[(1usize, 1usize), (4, 900), (9, 70_000)] {
        let records: Vec<PairRecord> = (0..count)
            .map(|_| PairRecord {
                image: rng.gen_range(0..images) as u32,
                ..PairRecord::default()
            })
            .collect();
        let mut control = vec![0u32; CONTROL_WORDS as usize];
        control[layout::C_PAIRS as usize] = count as u32;
        for dim in 0..2usize {
            // the segments: offsets of the records of each item in this dimension (the other's empty)
            let mut counts = vec![0u32; 2 * images];
            ports::pair_counts::pair_counts(&records, dim, &mut counts);
            let mut offsets = vec![0u32; 2 * images];
            let mut run = 0;
            for (o, c) in offsets.iter_mut().zip(&counts) {
                *o = run;
                run += c;
            }
            let mut segments = offsets.clone();
            segments.extend(&counts);
            let params = CountParams {
                images: images as u32,
                dim: dim as u32,
                capacity: count as u32,
                ..CountParams::default()
            };
            let mut buffers = vec![
                words(&params),
                bytemuck::cast_slice(&records).to_vec(),
                control.clone(),
                segments,
                vec![0; 2 * images],
                vec![NONE; count],
            ];
            gpu_run_kernel(
                &ctx,
                "record_buckets",
                &[],
                &mut buffers,
                groups(count as u64, WG),
            )
            .unwrap();
            let (mut cursor, mut want) = (vec![0u32; 2 * images], vec![NONE; count]);
            ports::record_buckets::record_buckets(&records, dim, &offsets, &mut cursor, &mut want);
            assert_eq!(buffers[4], cursor, "cursors, {images} images, H{dim}");
            // the same records in each segment, in any order
            for (&o, &c) in offsets.iter().zip(&counts) {
                let (o, c) = (o as usize, c as usize);
                let mut got = buffers[5][o..o + c].to_vec();
                got.sort_unstable();
                assert_eq!(got, want[o..o + c], "segment at {o}");
            }
        }
    }
}
