//! 3D volumes: diagrams against golden files made by GUDHI 3.13 (and checked against CubicalRipser)
//! with `scripts/make_golden3d.py`; thin volumes against the 2D pipeline; the loss on volumes.

mod common;

use ndarray::{Array3, Array4, Axis};
use wgpu_persistence::{Construction, Context, Diagram, Error, Options, TopologicalLoss};

use common::{expected, ours};

fn options(construction: Construction, superlevel: bool) -> Options {
    let o = Options::new(construction);
    if superlevel {
        o.superlevel()
    } else {
        o
    }
}

/// The pairs are in the contract's order: by the death voxel's place in the total order, then the
/// birth voxel's; essential classes last.
fn check_order(values: &[f32], d: &Diagram, superlevel: bool) {
    let place = |i: usize| {
        let v = if superlevel { -values[i] } else { values[i] };
        (v + 0.0, i)
    };
    for pairs in &d.pairs {
        for w in pairs.windows(2) {
            let key = |p: &wgpu_persistence::PersistencePair| {
                (p.death_index.map(place), place(p.birth_index))
            };
            let (a, b) = (key(&w[0]), key(&w[1]));
            match (a.0, b.0) {
                (Some(da), Some(db)) => {
                    assert!(da
                        .partial_cmp(&db)
                        .unwrap()
                        .then(a.1.partial_cmp(&b.1).unwrap())
                        .is_le())
                }
                (None, Some(_)) => panic!("essential class before a finite pair"),
                _ => {}
            }
        }
    }
}

#[test]
fn volume_diagrams_equal_gudhi() {
    let mut checked = 0;
    for ctx in common::contexts() {
        for golden in common::golden_cases("tests/golden3d", 15) {
            let (path, case, shape, values) = (
                &golden.path,
                &golden.json,
                &golden.shape,
                golden.values.as_slice(),
            );
            for (tag, construction) in [("v", Construction::V), ("t", Construction::T)] {
                for superlevel in [false, true] {
                    let name = format!("{tag}_{}", if superlevel { "super" } else { "sub" });
                    let d = ctx
                        .compute_slice(
                            values,
                            &[shape[0], shape[1], shape[2]],
                            &options(construction, superlevel),
                        )
                        .unwrap();
                    assert_eq!(&d.shape, shape);
                    assert_eq!(d.pairs.len(), 3);
                    common::check_indices(values, &d);
                    check_order(values, &d, superlevel);
                    for dim in 0..3 {
                        let label = format!("{} {name} H{dim}", path.display());
                        let want = expected(&case["diagrams"][&name], dim);
                        assert_eq!(ours(&d, dim), want, "{label}");
                        if tag == "v" && !superlevel && !case["cripser_v_sub"].is_null() {
                            assert_eq!(ours(&d, dim), expected(&case["cripser_v_sub"], dim));
                        }
                    }
                    assert_eq!(d.backend, ctx.backend());
                    checked += 1;
                }
            }
        }
    }
    eprintln!("{checked} volume diagrams checked");
}

/// Seeded pseudo-random values quantised to `levels` (many ties).
fn quantised(n: usize, levels: u32, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) % levels as u64) as f32
        })
        .collect()
}

#[test]
fn a_one_slice_volume_has_the_image_diagram() {
    // a 1 x H x W volume is the H x W image (V) or a slab of cubes over it (T, homotopy equivalent
    // at every threshold): the same pairs, indices and order included, and no H2
    let ctx = Context::cpu();
    let mut cases = 0;
    for (h, w) in [(1, 1), (1, 9), (9, 1), (5, 7), (16, 16), (23, 31)] {
        for levels in [2, 3, 8, 1 << 20] {
            let values = quantised(h * w, levels, (h * 100 + w) as u64 + levels as u64);
            for construction in [Construction::V, Construction::T] {
                for superlevel in [false, true] {
                    // with zero-persistence pairs kept, V volumes still match images; T volumes
                    // have more vertices than voxels, so more H0 pairs
                    let keeps: &[bool] = if construction == Construction::V {
                        &[false, true]
                    } else {
                        &[false]
                    };
                    for &keep in keeps {
                        let o = options(construction, superlevel).keep_zero_persistence(keep);
                        let image = ctx.compute_slice(&values, &[h, w], &o).unwrap();
                        let volume = ctx.compute_slice(&values, &[1, h, w], &o).unwrap();
                        assert_eq!(&volume.pairs[..2], &image.pairs[..], "{h}x{w} {o:?}");
                        assert!(volume.pairs[2].is_empty());
                        cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(cases, 144);
}

#[test]
fn axis_permutations_keep_the_diagram() {
    // transposing a volume moves voxels but not the complex: the same multiset of pairs
    let ctx = Context::cpu();
    for (shape, levels) in [([4, 5, 6], 3), ([3, 7, 5], 1 << 20), ([6, 6, 6], 2)] {
        let values = quantised(shape.iter().product(), levels, levels as u64 + 7);
        let volume = Array3::from_shape_vec(shape, values).unwrap();
        for construction in [Construction::V, Construction::T] {
            for superlevel in [false, true] {
                let o = options(construction, superlevel);
                let base = ctx.compute(volume.view(), &o).unwrap();
                for axes in [[0, 2, 1], [2, 1, 0], [1, 2, 0]] {
                    let moved = volume.view().permuted_axes(axes);
                    let d = ctx.compute(moved, &o).unwrap();
                    for k in 0..3 {
                        assert_eq!(ours(&d, k), ours(&base, k), "{shape:?} {axes:?} {o:?} H{k}");
                    }
                    let flat: Vec<f32> = moved.iter().copied().collect();
                    common::check_indices(&flat, &d);
                }
            }
        }
    }
}

#[test]
fn zero_persistence_pairs_count_the_cells() {
    // with every cell-level pair kept, each vertex but one dies in H0, and every square is paired
    // once: in H2 when it creates a void, in H1 otherwise
    let ctx = Context::cpu();
    let (d, h, w) = (4, 5, 6);
    let values = quantised(d * h * w, 3, 11);
    for (construction, (vd, vh, vw)) in [
        (Construction::V, (d, h, w)),
        (Construction::T, (d + 1, h + 1, w + 1)),
    ] {
        let o = Options::new(construction).keep_zero_persistence(true);
        let diagram = ctx.compute_slice(&values, &[d, h, w], &o).unwrap();
        let vertices = vd * vh * vw;
        let squares =
            vd * (vh - 1) * (vw - 1) + (vd - 1) * vh * (vw - 1) + (vd - 1) * (vh - 1) * vw;
        let cubes = (vd - 1) * (vh - 1) * (vw - 1);
        assert_eq!(diagram.dim(0).len(), vertices, "{construction:?}");
        assert_eq!(diagram.dim(2).len(), cubes, "{construction:?}");
        assert_eq!(diagram.dim(1).len() + diagram.dim(2).len(), squares);
        common::check_indices(&values, &diagram);
    }
}

#[test]
fn volume_loss_of_one_slice_equals_the_image_loss() {
    let ctx = Context::cpu();
    let (h, w) = (17, 13);
    let values: Vec<f32> = quantised(h * w, 1 << 20, 5)
        .iter()
        .map(|v| v / (1 << 20) as f32)
        .collect();
    let image = ndarray::Array2::from_shape_vec((h, w), values).unwrap();
    for construction in [Construction::V, Construction::T] {
        let mut loss = TopologicalLoss::new(&[1, 1, 0]);
        loss.construction = construction;
        let flat = ctx.topological_loss(image.view(), &loss).unwrap();
        let volume = image.clone().insert_axis(Axis(0));
        let deep = ctx.topological_loss(volume.view(), &loss).unwrap();
        assert_eq!(deep.loss, flat.loss);
        assert_eq!(deep.gradient.index_axis(Axis(0), 0), flat.gradient);
        // a batch of two volumes: the same loss twice, gradients stacked
        let batch = Array4::from_shape_fn((2, 1, h, w), |(_, _, y, x)| image[[y, x]]);
        let both = ctx
            .topological_loss_batch(batch.view(), &[loss.clone()])
            .unwrap();
        assert_eq!(both.losses, vec![flat.loss; 2]);
        assert_eq!(both.gradient.shape(), &[2, 1, h, w]);
        assert_eq!(
            both.backward(&[2.0])
                .unwrap()
                .index_axis(Axis(0), 1)
                .index_axis(Axis(0), 0),
            flat.gradient.mapv(|g| 2.0 * g)
        );
    }
}

#[test]
fn volume_gradient_reaches_the_pairs_voxels() {
    // a hollow box, superlevel, prior (1, 0, 0): the void is penalised, so its birth and death
    // voxels carry gradient, and only voxels of some pair do
    let ctx = Context::cpu();
    let mut volume = Array3::<f32>::zeros((7, 7, 7));
    volume.slice_mut(ndarray::s![1..6, 1..6, 1..6]).fill(0.9);
    volume.slice_mut(ndarray::s![2..5, 2..5, 2..5]).fill(0.2);
    volume[[3, 3, 3]] = 0.1;
    let result = ctx
        .topological_loss(volume.view(), &TopologicalLoss::new(&[1, 0, 0]))
        .unwrap();
    let void = result.diagram.dim(2);
    assert_eq!(void.len(), 1);
    let (b, d) = (void[0].birth_index, void[0].death_index.unwrap());
    let flat = result.gradient.as_slice().unwrap();
    assert!(flat[b] != 0.0 && flat[d] != 0.0);
    // pushing the void's persistence to zero lowers its birth and raises its death
    assert!(flat[b] > 0.0 && flat[d] < 0.0, "{} {}", flat[b], flat[d]);
    let touched: std::collections::HashSet<usize> = result
        .diagram
        .pairs
        .iter()
        .flatten()
        .flat_map(|p| [Some(p.birth_index), p.death_index])
        .flatten()
        .collect();
    // the essential class's death is clamped to the minimum, at its last voxel
    let minimum = volume.iter().copied().fold(f32::INFINITY, f32::min);
    let values = volume.as_slice().unwrap();
    for (i, g) in flat.iter().enumerate() {
        assert!(*g == 0.0 || touched.contains(&i) || values[i] == minimum);
    }
}

#[test]
fn bad_volumes_are_refused() {
    let ctx = Context::cpu();
    let o = Options::default();
    assert!(matches!(
        ctx.compute_slice::<f32>(&[], &[0, 2, 2], &o),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        ctx.compute_slice(&[1.0f32; 7], &[2, 2, 2], &o),
        Err(Error::ShapeMismatch { .. })
    ));
    let mut v = vec![0.0f32; 8];
    v[5] = f32::NAN;
    assert!(matches!(
        ctx.compute_slice(&v, &[2, 2, 2], &o),
        Err(Error::NanPixel { index: 5 })
    ));
    assert!(matches!(
        ctx.compute_slice(
            &[0.0f32; 8],
            &[2, 2, 2],
            &Options::new(Construction::Freudenthal)
        ),
        Err(Error::InvalidArgument(_))
    ));
}

/// Every cell of the V or T complex of a volume as `(value, dimension)`, built here from the
/// definitions (independently of the library): a cell takes the max of its vertices (V) or the min
/// of the cubes around it (T).
fn cells(values: &[f32], [d, h, w]: [usize; 3], construction: Construction) -> Vec<(f32, usize)> {
    let t = construction == Construction::T;
    let k = |n: usize| if t { 2 * n + 1 } else { 2 * n - 1 };
    // the voxel coordinates deciding a Khalimsky coordinate `c` along an axis of `n` voxels
    let deciding = |c: usize, n: usize| -> Vec<usize> {
        match (t, c % 2) {
            (false, 0) => vec![c / 2],
            (false, _) => vec![(c - 1) / 2, c.div_ceil(2)],
            (true, 1) => vec![(c - 1) / 2],
            (true, _) => [c / 2]
                .into_iter()
                .chain((c >= 2).then(|| c / 2 - 1))
                .filter(|&v| v < n)
                .collect(),
        }
    };
    let mut out = Vec::new();
    for cz in 0..k(d) {
        for cy in 0..k(h) {
            for cx in 0..k(w) {
                let dim = cz % 2 + cy % 2 + cx % 2;
                let mut value: Option<f32> = None;
                for &z in &deciding(cz, d) {
                    for &y in &deciding(cy, h) {
                        for &x in &deciding(cx, w) {
                            let v = values[(z * h + y) * w + x];
                            value = Some(match value {
                                None => v,
                                Some(u) if t => u.min(v),
                                Some(u) => u.max(v),
                            });
                        }
                    }
                }
                out.push((value.expect("a cell has a deciding voxel"), dim));
            }
        }
    }
    out
}

#[test]
fn euler_characteristic_of_every_sublevel_set() {
    // chi(sublevel set at t), counted from the cells, equals b0 - b1 + b2 of the diagram: checks H1
    // against H0 and H2 on random volumes with many ties, in both directions
    let ctx = Context::cpu();
    for (shape, levels) in [
        ([3, 4, 5], 3),
        ([1, 6, 7], 2),
        ([5, 1, 4], 3),
        ([6, 6, 6], 2),
        ([2, 2, 9], 5),
        ([7, 5, 6], 1 << 20),
    ] {
        let values = quantised(
            shape.iter().product(),
            levels,
            shape[2] as u64 * 31 + levels as u64,
        );
        for construction in [Construction::V, Construction::T] {
            for superlevel in [false, true] {
                let d = ctx
                    .compute_slice(&values, &shape, &options(construction, superlevel))
                    .unwrap();
                let signed: Vec<f32> = values
                    .iter()
                    .map(|&v| if superlevel { -v } else { v })
                    .collect();
                let all = cells(&signed, shape, construction);
                let mut thresholds: Vec<f32> = values.clone();
                thresholds.sort_by(f32::total_cmp);
                thresholds.dedup();
                for &t in &thresholds {
                    let st = if superlevel { -t } else { t };
                    let chi: i64 = all
                        .iter()
                        .filter(|c| c.0 <= st)
                        .map(|c| if c.1 % 2 == 0 { 1 } else { -1 })
                        .sum();
                    let b = d.betti_at(t, superlevel);
                    assert_eq!(
                        chi,
                        b[0] as i64 - b[1] as i64 + b[2] as i64,
                        "{shape:?} {construction:?} superlevel {superlevel} at {t}: betti {b:?}"
                    );
                }
            }
        }
    }
}

/// Per shape, a batch of volumes that stress the GPU pairing: ties at 2 and 5 levels, distinct
/// values, a constant and a checkerboard; thin shapes, and sizes past one workgroup and past one
/// dispatch row of the select pass.
fn gpu_batches() -> Vec<([usize; 3], Vec<f32>)> {
    let shapes = [
        [1, 1, 1],
        [1, 1, 9],
        [9, 1, 1],
        [1, 7, 1],
        [1, 6, 7],
        [6, 1, 7],
        [2, 5, 6],
        [5, 6, 7],
        [7, 9, 11],
        [17, 16, 15],
        [40, 33, 35],
    ];
    let mut batches = vec![];
    for (i, shape) in shapes.into_iter().enumerate() {
        let n: usize = shape.iter().product();
        let [_, h, w] = shape;
        let mut values = vec![];
        for levels in [2, 5, 1 << 20] {
            values.extend(quantised(n, levels, 40 + i as u64 + levels as u64));
        }
        values.extend(vec![0.5; n]);
        values.extend((0..n).map(|p| ((p / (h * w) + (p / w) % h + p % w) % 2) as f32));
        batches.push((shape, values));
    }
    batches
}

#[test]
fn the_gpu_pipeline_equals_the_cpu_on_volumes() {
    let Some(gpu) = common::gpu() else { return };
    let cpu = Context::cpu();
    let mut checked = 0;
    for (shape, values) in gpu_batches() {
        let n: usize = shape.iter().product();
        let [d, h, w] = shape;
        let batch = Array4::from_shape_vec((values.len() / n, d, h, w), values.clone()).unwrap();
        for construction in [Construction::V, Construction::T] {
            for superlevel in [false, true] {
                for keep in [false, true] {
                    let o = options(construction, superlevel).keep_zero_persistence(keep);
                    let g = gpu.compute_batch(batch.view(), &o).unwrap();
                    let c = cpu.compute_batch(batch.view(), &o).unwrap();
                    for (b, (g, c)) in g.iter().zip(&c).enumerate() {
                        assert_eq!(g.pairs, c.pairs, "{shape:?} volume {b} {o:?}");
                        assert_eq!(g.backend, wgpu_persistence::Backend::Gpu);
                        common::check_indices(&values[b * n..(b + 1) * n], g);
                        checked += 1;
                    }
                }
            }
        }
    }
    eprintln!("{checked} volume diagrams compared, GPU against CPU");
}

#[test]
fn the_gpu_pipeline_computes_batches_of_volumes_and_their_loss() {
    let Some(gpu) = common::gpu() else { return };
    let (b, d, h, w) = (3, 6, 7, 5);
    let values = quantised(b * d * h * w, 6, 21);
    let batch = Array4::from_shape_vec((b, d, h, w), values.clone())
        .unwrap()
        .mapv(|v| v / 6.0);
    for construction in [Construction::V, Construction::T] {
        let o = options(construction, true);
        let on_gpu = gpu.compute_batch(batch.view(), &o).unwrap();
        let on_cpu = Context::cpu().compute_batch(batch.view(), &o).unwrap();
        assert_eq!(on_gpu.len(), b);
        for (g, c) in on_gpu.iter().zip(&on_cpu) {
            assert_eq!(g.pairs, c.pairs);
            assert_eq!(g.backend, wgpu_persistence::Backend::Gpu);
        }
    }
    // one volume alone, and the loss of a volume, gradient included, scattered on the GPU
    let volume = batch.index_axis(Axis(0), 1).to_owned();
    let loss = TopologicalLoss::new(&[1, 0, 1]);
    let a = gpu.topological_loss(volume.view(), &loss).unwrap();
    let b = Context::cpu()
        .topological_loss(volume.view(), &loss)
        .unwrap();
    assert_eq!((a.loss, &a.gradient), (b.loss, &b.gradient));
    assert!(a.gradient.iter().any(|&g| g != 0.0));
}

#[test]
fn the_cpu_pipeline_checks_its_shape() {
    let o = Options::default();
    assert!(matches!(
        wgpu_persistence::internals::volume::persistence_pairs(&[0.0; 5], [2, 2, 2], &o),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        wgpu_persistence::internals::volume::persistence_pairs(&[0.0; 4], [0, 2, 2], &o),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// Values one short of their shape are refused. (Before the redesign this built an inconsistent
/// `ImageStack` by hand, through its public fields; the stack is now private and validated where it
/// is made, so an image stack of depth 2 can no longer be built at all: that half is gone, and the
/// short one is given to the API as a slice.)
#[test]
fn an_inconsistent_hand_built_stack_is_refused() {
    let values = [0.0f32; 6];
    assert!(matches!(
        Context::cpu().compute_slice(&values[..5], &[2, 3], &Options::default()),
        Err(Error::ShapeMismatch { .. })
    ));
}
