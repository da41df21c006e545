//! The parallel pairing algorithm (CPU port of the GPU kernels) against the sequential union-find,
//! on all six graphs, random inputs with heavy ties and awkward sizes.

use rand::{Rng, SeedableRng};
use wgpu_persistence::internals::ports::{self, order_keys};
use wgpu_persistence::internals::reference::{ranks_of, total_order};
use wgpu_persistence::internals::{elder_pairs, elder_pairs_by_pixel, GraphKind, Grid};

const KINDS: [GraphKind; 6] = [
    GraphKind::VPrimal,
    GraphKind::VDual,
    GraphKind::TPrimal,
    GraphKind::TDual,
    GraphKind::FPrimal,
    GraphKind::FDual,
];

fn ranks(values: &[f32]) -> Vec<u32> {
    let keys = order_keys::order_keys(values, false);
    ranks_of(&total_order(&keys))
}

/// The Borůvka port pairs as Kruskal does, on a connected graph.
fn check_boruvka(grid: &Grid, rank: &[u32], label: &str) {
    let (mut seq, roots) = elder_pairs(grid, rank);
    let (mut par, rounds) = ports::boruvka_pairs(grid, rank);
    seq.sort_unstable();
    par.sort_unstable();
    assert_eq!(seq, par, "{label}: rounds {rounds}");
    assert_eq!(roots.len(), 1, "{label}: graph not connected");
    assert_eq!(seq.len() as u32, grid.vertex_count() - 1);
}

#[test]
fn boruvka_equals_kruskal() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let sizes = [
        (1, 1),
        (1, 7),
        (7, 1),
        (2, 2),
        (3, 5),
        (8, 8),
        (13, 29),
        (40, 33),
    ];
    for &(h, w) in &sizes {
        for levels in [2u32, 5, 1000] {
            let values: Vec<f32> = (0..h * w)
                .map(|_| rng.gen_range(0..levels) as f32)
                .collect();
            let rank = ranks(&values);
            for kind in KINDS {
                let grid = Grid::new(kind, h, w);
                check_boruvka(&grid, &rank, &format!("{kind:?} {h}x{w} levels {levels}"));
            }
        }
    }
}

#[test]
fn rounds_stay_small_on_smooth_and_noisy_images() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let (h, w) = (128, 128);
    let noise: Vec<f32> = (0..h * w).map(|_| rng.gen::<f32>()).collect();
    let ramp: Vec<f32> = (0..h * w).map(|i| i as f32).collect();
    for values in [noise, ramp] {
        let rank = ranks(&values);
        for kind in KINDS {
            let grid = Grid::new(kind, h, w);
            let (_, rounds) = ports::boruvka_pairs(&grid, &rank);
            assert!(rounds <= 24, "{kind:?}: {rounds} rounds");
        }
    }
}

#[test]
fn pixel_order_pairing_equals_sorted_edges() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for &(h, w) in &[(1, 1), (1, 6), (6, 1), (2, 2), (5, 7), (31, 17)] {
        for levels in [2u32, 4, 100000] {
            let values: Vec<f32> = (0..h * w)
                .map(|_| rng.gen_range(0..levels) as f32)
                .collect();
            let keys = order_keys::order_keys(&values, false);
            let order = total_order(&keys);
            let rank = ranks_of(&order);
            for kind in KINDS {
                let grid = Grid::new(kind, h, w);
                let sorted = elder_pairs(&grid, &rank);
                let by_pixel = elder_pairs_by_pixel(&grid, &rank, &order);
                assert_eq!(sorted, by_pixel, "{kind:?} {h}x{w} levels {levels}");
            }
        }
    }
}

/// The radix passes (the ports of `radix_histogram`, the scan and `radix_scatter`, one pass per digit
/// of the key) make the total order: a stable sort of the keys with the indices as payload (this was
/// the unit test of `cpu::radix_sort::radix_pass`, whose job these ports took over). And the whole
/// ranking of the GPU (`ports::ranking`: keys, passes on the key then on the image, `rank_scatter`)
/// gives every item the reference's `(rank, order)`.
#[test]
fn radix_passes_make_the_sort() {
    use wgpu_persistence::internals::layout::{SortParams, RADIX, TILE};
    use wgpu_persistence::internals::ports::{radix_histogram, radix_scatter, scan_apply};
    let bits = RADIX.trailing_zeros();
    // the keys of the old test, and more than one tile of them
    for len in [1000u32, 3 * TILE + 17] {
        let keys: Vec<u32> = (0..len).map(|i| i.wrapping_mul(2654435761) % 37).collect();
        let (mut k, mut v) = (keys.clone(), (0..len).collect::<Vec<u32>>());
        for pass in 0..u32::BITS / bits {
            let params = SortParams {
                count: len,
                shift: bits * pass,
                tiles: len.div_ceil(TILE),
                digit_source: 0,
                pixels: len,
            };
            let mut hist = radix_histogram::radix_histogram(&k, &v, &params);
            scan_apply::exclusive_scan(&mut hist);
            (k, v) = radix_scatter::radix_scatter(&k, &v, &hist, &params);
        }
        assert_eq!(v, total_order(&keys), "{len} keys");
        assert!(k.windows(2).all(|w| w[0] <= w[1]));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    for (images, pixels) in [
        (1, 1),
        (1, 1000),
        (1, 2 * TILE as usize + 5),
        (3, 700),
        (17, 64),
    ] {
        for levels in [2u32, 1 << 20] {
            let values: Vec<f32> = (0..images * pixels)
                .map(|_| rng.gen_range(0..levels) as f32 - 3.0)
                .collect();
            for superlevel in [false, true] {
                let (rank, order) = ports::ranking(&values, superlevel, images, pixels);
                for b in 0..images {
                    let item = &values[b * pixels..(b + 1) * pixels];
                    let want = total_order(&order_keys::order_keys(item, superlevel));
                    let label = format!("{images} x {pixels} levels {levels} image {b}");
                    assert_eq!(&order[b * pixels..(b + 1) * pixels], &want[..], "{label}");
                    assert_eq!(
                        &rank[b * pixels..(b + 1) * pixels],
                        &ranks_of(&want)[..],
                        "{label}"
                    );
                }
            }
        }
    }
}

#[test]
fn first_round_equals_select_and_hook() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for &(h, w) in &[(1, 1), (1, 5), (5, 1), (2, 2), (9, 7), (30, 41)] {
        for levels in [2u32, 1000] {
            let values: Vec<f32> = (0..h * w)
                .map(|_| rng.gen_range(0..levels) as f32)
                .collect();
            let rank = ranks(&values);
            for kind in KINDS {
                let grid = Grid::new(kind, h, w);
                let mut a = ports::boruvka_init::boruvka_init(&grid, &rank);
                ports::boruvka_select::boruvka_select(&grid, &rank, &mut a);
                ports::boruvka_hook::boruvka_hook(&mut a);
                let mut b = ports::boruvka_init::boruvka_init(&grid, &rank);
                ports::boruvka_first_round::boruvka_first_round(&grid, &rank, &mut b);
                assert_eq!(
                    (a.parent, a.death, a.hooks),
                    (b.parent, b.death, b.hooks),
                    "{kind:?} {h}x{w}"
                );
            }
        }
    }
}

/// The CPU backend's critical-pixel pipeline against the reference pipeline (every edge paired by
/// Kruskal, then assembled): same pairs, indices and order, for every construction and direction, on
/// heavy ties, constants, checkerboards, ramps and awkward shapes.
#[test]
fn critical_pixels_equal_the_reference_pipeline() {
    use wgpu_persistence::internals::reference::raw_pairs;
    use wgpu_persistence::internals::{assemble, persistence_pairs_with, Labelling};
    use wgpu_persistence::{Backend, Construction, Options};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let sizes = [
        (1, 1),
        (1, 2),
        (2, 1),
        (1, 9),
        (9, 1),
        (2, 2),
        (3, 3),
        (4, 7),
        (7, 4),
        (16, 16),
        (31, 17),
        (64, 65),
    ];
    let mut images: Vec<(usize, usize, Vec<f32>)> = Vec::new();
    for &(h, w) in &sizes {
        for levels in [1u32, 2, 3, 7, 1 << 20] {
            for _ in 0..3 {
                let values = (0..h * w)
                    .map(|_| rng.gen_range(0..levels) as f32)
                    .collect();
                images.push((h, w, values));
            }
        }
        let checker = (0..h * w).map(|i| ((i / w + i % w) % 2) as f32).collect();
        let ramp = (0..h * w).map(|i| (i % w + i / w) as f32).collect();
        let bowl = (0..h * w)
            .map(|i| {
                let (y, x) = (
                    (i / w) as f32 - h as f32 / 2.0,
                    (i % w) as f32 - w as f32 / 2.0,
                );
                -(y * y + x * x)
            })
            .collect();
        images.extend([(h, w, checker), (h, w, ramp), (h, w, bowl)]);
    }
    // large enough for several radix passes, for the labels to be laid out on a second thread and
    // for the two sweeps to run side by side (more than 32768 saddles), in the pool of two threads
    let big: Vec<f32> = (0..500 * 400).map(|_| rng.gen::<f32>()).collect();
    images.push((500, 400, big));
    // long thin images: many saddles in one row, the exterior on both sides of every pixel
    for (h, w) in [(1, 3000), (3000, 1), (2, 1500)] {
        let values = (0..h * w).map(|_| rng.gen_range(0..50u32) as f32).collect();
        images.push((h, w, values));
    }
    // smoothed noise: few saddles, long descents (the walks' path), with and without ties
    // (300x250: labels laid out on a second thread, but too few saddles for the sweeps to run side
    // by side: one after the other, each with its own buffers)
    for (h, w, radius) in [(40, 37, 2), (120, 90, 4), (201, 160, 7), (300, 250, 9)] {
        let noise: Vec<f32> = (0..h * w).map(|_| rng.gen::<f32>()).collect();
        let smooth = box_blur(&noise, h, w, radius);
        let quantized = smooth.iter().map(|v| (v * 64.0).floor()).collect();
        images.extend([(h, w, smooth), (h, w, quantized)]);
    }
    let mut specials = vec![0.0f32; 25];
    specials[6] = f32::NEG_INFINITY;
    specials[12] = f32::INFINITY;
    specials[18] = f32::INFINITY;
    images.push((5, 5, specials));
    // one thread (both sweeps in turn, with the same buffers) and two (see above), whatever the
    // machine has
    let pools = [1, 2].map(|threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
    });
    for (h, w, values) in &images {
        for construction in [Construction::V, Construction::T, Construction::Freudenthal] {
            for superlevel in [false, true] {
                let mut options = Options::new(construction);
                if superlevel {
                    options = options.superlevel();
                }
                let reference = assemble(
                    values,
                    vec![*h, *w],
                    raw_pairs(values, *h, *w, &options),
                    superlevel,
                    false,
                    Backend::Cpu,
                );
                for (threads, pool) in pools.iter().enumerate().map(|(i, p)| (i + 1, p)) {
                    for labelling in [Labelling::Auto, Labelling::Raster, Labelling::Walks] {
                        let pairs = pool.install(|| {
                            persistence_pairs_with(values, *h, *w, &options, labelling)
                        });
                        assert_eq!(
                            pairs, reference.pairs,
                            "{labelling:?} {construction:?} superlevel={superlevel} {h}x{w} \
                             {threads} thread(s)"
                        );
                    }
                }
            }
        }
    }
}

/// A box blur of radius `r` along each axis (clamped at the bottom and right edges, cut short at the
/// top and left ones).
fn box_blur(values: &[f32], h: usize, w: usize, r: usize) -> Vec<f32> {
    let at = |v: &[f32], y: usize, x: usize| v[y.min(h - 1) * w + x.min(w - 1)];
    let rows: Vec<f32> = (0..h * w)
        .map(|i| {
            let (y, x) = (i / w, i % w);
            (x.saturating_sub(r)..=x + r)
                .map(|x| at(values, y, x))
                .sum()
        })
        .collect();
    (0..h * w)
        .map(|i| {
            let (y, x) = (i / w, i % w);
            (y.saturating_sub(r)..=y + r).map(|y| at(&rows, y, x)).sum()
        })
        .collect()
}

const VOLUME_KINDS: [GraphKind; 4] = [
    GraphKind::V3Primal,
    GraphKind::V3Dual,
    GraphKind::T3Primal,
    GraphKind::T3Dual,
];

const VOLUME_SHAPES: [[usize; 3]; 8] = [
    [1, 1, 1],
    [1, 1, 7],
    [7, 1, 1],
    [1, 6, 5],
    [2, 3, 4],
    [4, 1, 5],
    [5, 4, 6],
    [9, 8, 7],
];

#[test]
fn volume_graphs_boruvka_equals_kruskal() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for shape in VOLUME_SHAPES {
        let [d, h, w] = shape;
        for levels in [2u32, 5, 1000] {
            let values: Vec<f32> = (0..d * h * w)
                .map(|_| rng.gen_range(0..levels) as f32)
                .collect();
            let rank = ranks(&values);
            for kind in VOLUME_KINDS {
                let grid = Grid::volume(kind, d, h, w);
                let (mut seq, roots) = elder_pairs(&grid, &rank);
                let (mut par, rounds) = ports::boruvka_pairs(&grid, &rank);
                seq.sort_unstable();
                par.sort_unstable();
                assert_eq!(
                    seq, par,
                    "{kind:?} {shape:?} levels {levels} rounds {rounds}"
                );
                assert_eq!(roots.len(), 1, "{kind:?} {shape:?}: graph not connected");
                assert_eq!(seq.len() as u32, grid.vertex_count() - 1);
                // every vertex's incident edges name it as an end
                for v in 0..grid.vertex_count() - kind.is_dual() as u32 {
                    for e in grid.incident_edges(v) {
                        let (a, b) = grid.edge_vertices(e);
                        assert!(a == v || b == v, "{kind:?} {shape:?} vertex {v} edge {e}");
                    }
                }
            }
        }
    }
}

/// The merges of the two volume graphs (as the GPU computes them), turned into a diagram by
/// `persistence_pairs_from_merges`, equal the CPU backend's sweeps in all three dimensions, with and
/// without H1's apparent pairs.
#[test]
fn volume_graph_merges_give_the_sweeps_diagram() {
    use wgpu_persistence::internals::ports::apparent_pairs::apparent_pairs;
    use wgpu_persistence::internals::reference::volume_merges;
    use wgpu_persistence::internals::volume as cubical3d;
    use wgpu_persistence::{Construction, Options};
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    for shape in VOLUME_SHAPES {
        let [d, h, w] = shape;
        for levels in [2u32, 4, 1000] {
            let values: Vec<f32> = (0..d * h * w)
                .map(|_| rng.gen_range(0..levels) as f32)
                .collect();
            for construction in [Construction::V, Construction::T] {
                for base in [
                    Options::new(construction),
                    Options::new(construction).superlevel(),
                ] {
                    for keep in [false, true] {
                        let options = base.keep_zero_persistence(keep);
                        let keys = order_keys::order_keys(&values, options.is_superlevel());
                        let order = total_order(&keys);
                        let rank = ranks_of(&order);
                        let (pk, dk) = GraphKind::of_volume(construction).unwrap();
                        let primal = volume_merges(pk, shape, &rank, &order);
                        let dual = volume_merges(dk, shape, &rank, &order);
                        let words = apparent_pairs(construction, shape, &rank).unwrap();
                        let want = cubical3d::persistence_pairs(&values, shape, &options).unwrap();
                        // without and with H1's apparent pairs taken as they are
                        for apparent in [None, Some(words.as_slice())] {
                            let merges = cubical3d::Merges {
                                primal: &primal,
                                dual: &dual,
                                apparent,
                            };
                            let got = cubical3d::persistence_pairs_from_merges(
                                &values, shape, &options, merges,
                            )
                            .unwrap();
                            assert_eq!(
                                got,
                                want,
                                "{shape:?} levels {levels} {options:?} apparent {}",
                                apparent.is_some()
                            );
                        }
                    }
                }
            }
        }
    }
}

/// `apparent_pairs` marks exactly the squares whose youngest facet has them as oldest cofacet, checked
/// against a brute force over every square and edge; and every apparent pair is an H1 pair of the
/// volume at the same voxels (the CPU backend's diagram, zero persistence kept).
#[test]
fn apparent_pairs_are_persistence_pairs() {
    use wgpu_persistence::internals::layout::apparent_pairs::APPARENT;
    use wgpu_persistence::internals::ports::apparent_pairs::apparent_pairs;
    use wgpu_persistence::{Construction, Options};
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    for shape in VOLUME_SHAPES {
        let [d, h, w] = shape;
        for levels in [2u32, 1000] {
            let values: Vec<f32> = (0..d * h * w)
                .map(|_| rng.gen_range(0..levels) as f32)
                .collect();
            let keys = order_keys::order_keys(&values, false);
            let order = total_order(&keys);
            let rank = ranks_of(&order);
            for construction in [Construction::V, Construction::T] {
                let words = apparent_pairs(construction, shape, &rank).unwrap();
                let (pk, dk) = GraphKind::of_volume(construction).unwrap();
                let (edges, squares) = (Grid::volume(pk, d, h, w), Grid::volume(dk, d, h, w));
                let n = squares.edge_count();
                // every valid (square, facet) incidence, found by shared vertices of the primal edge
                let key = |q: u32| {
                    let (hi, lo) = squares.edge_key(q, &rank);
                    (hi != u32::MAX || lo != u32::MAX).then_some((!hi, !lo))
                };
                let incident = |q: u32, e: u32| {
                    // an edge lies in a square when both its vertices are vertices of the square
                    let (a, b) = edges.edge_vertices(e);
                    let (base, closed) = (q / 3, q % 3);
                    let corners: Vec<u32> = (0..3)
                        .filter(|&i| i != closed)
                        .map(|i| edges.edge_vertices(3 * base + i).1 - base)
                        .collect();
                    let square_vertices = [
                        base,
                        base + corners[0],
                        base + corners[1],
                        base + corners[0] + corners[1],
                    ];
                    a != b && square_vertices.contains(&a) && square_vertices.contains(&b)
                };
                let options = Options::new(construction).keep_zero_persistence(true);
                let diagram = wgpu_persistence::internals::volume::persistence_pairs(
                    &values, shape, &options,
                )
                .unwrap();
                let mut apparent = 0;
                for q in 0..n {
                    let nibble = words[q as usize / 8] >> (4 * (q % 8)) & 0xf;
                    let Some(kq) = key(q) else {
                        assert_eq!(nibble, 0, "{shape:?} square {q} is outside");
                        continue;
                    };
                    let facets: Vec<u32> = (0..edges.edge_count())
                        .filter(|&e| edges.edge_key(e, &rank).0 != u32::MAX && incident(q, e))
                        .collect();
                    assert_eq!(facets.len(), 4, "{shape:?} square {q}");
                    let youngest = *facets
                        .iter()
                        .max_by_key(|&&e| edges.edge_key(e, &rank))
                        .unwrap();
                    let oldest_cofacet = (0..n)
                        .filter(|&p| key(p).is_some() && incident(p, youngest))
                        .min_by_key(|&p| key(p))
                        .unwrap();
                    let want = oldest_cofacet == q;
                    assert_eq!(
                        nibble & APPARENT != 0,
                        want,
                        "{shape:?} {construction:?} square {q}"
                    );
                    if want {
                        apparent += 1;
                        // the pair is an H1 pair of the diagram: birth at the edge's entry voxel,
                        // death at the square's
                        let birth = order[edges.edge_key(youngest, &rank).0 as usize];
                        let death = order[kq.0 as usize];
                        assert!(
                            diagram[1].iter().any(|p| p.birth_index == birth as usize
                                && p.death_index == Some(death as usize)),
                            "{shape:?} {construction:?} apparent square {q}: no H1 pair ({birth}, {death})"
                        );
                    }
                }
                if n > 30 {
                    assert!(
                        apparent > 0,
                        "{shape:?} {construction:?}: no apparent pair at all"
                    );
                }
            }
        }
    }
}
