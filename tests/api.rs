//! The public API at its edges, on both backends: bad input gives the right `Error` variant and never a
//! panic; every pixel type; `-0.0`; infinities; constant images; checkerboards; 1x1, 1xN, Nx1; which
//! backend answers; `Context::from_device` with the adapter's limits, wgpu's default limits and limits
//! too small for the input.

mod common;

use ndarray::{s, Array2, Array3, ArrayView2};
use rand::{Rng, SeedableRng};
use wgpu_persistence::internals;
use wgpu_persistence::{
    Backend, BackendChoice, Construction, Context, Diagram, Error, Options, PersistencePair, Pixel,
    Shape,
};

const CONSTRUCTIONS: [Construction; 3] =
    [Construction::V, Construction::T, Construction::Freudenthal];

fn all_options() -> Vec<Options> {
    let mut v = Vec::new();
    for c in CONSTRUCTIONS {
        v.push(Options::new(c));
        v.push(Options::new(c).superlevel());
    }
    v
}

fn essential(birth: f32, birth_index: usize, superlevel: bool) -> PersistencePair {
    PersistencePair {
        birth,
        death: if superlevel {
            f32::NEG_INFINITY
        } else {
            f32::INFINITY
        },
        birth_index,
        death_index: None,
    }
}

fn nan_index<T>(r: wgpu_persistence::Result<T>) -> usize {
    match r {
        Err(Error::NanPixel { index }) => index,
        Err(e) => panic!("expected NanPixel, got {e:?}"),
        Ok(_) => panic!("expected NanPixel, got a diagram"),
    }
}

#[test]
fn nan_is_an_error_naming_the_first_index() {
    for ctx in common::contexts() {
        let o = Options::default();
        let mut a = Array2::<f32>::zeros((3, 4));
        a[[2, 0]] = f32::NAN;
        a[[1, 2]] = f32::NAN;
        assert_eq!(nan_index(ctx.compute(a.view(), &o)), 6);
        assert_eq!(
            nan_index(ctx.compute_slice(a.as_slice().unwrap(), &[3, 4], &o)),
            6
        );
        // f64 input
        let a64 = a.mapv(|v| v as f64);
        assert_eq!(nan_index(ctx.compute(a64.view(), &o)), 6);
        // every construction and direction
        for options in all_options() {
            assert_eq!(nan_index(ctx.compute(a.view(), &options)), 6);
        }
        // a batch: the linear index into B x H x W
        let mut b = Array3::<f32>::zeros((3, 2, 2));
        b[[2, 0, 0]] = f32::NAN;
        b[[1, 1, 1]] = f32::NAN;
        assert_eq!(nan_index(ctx.compute_batch(b.view(), &o)), 7);
        // non-contiguous views: the index is row-major in the view, not in the memory
        let mut m = Array2::<f32>::zeros((4, 6));
        m[[2, 3]] = f32::NAN;
        m[[0, 5]] = f32::NAN;
        let cols = m.slice(s![.., 1..;2]); // columns 1, 3, 5: 4 x 3
        assert_eq!(nan_index(ctx.compute(cols, &o)), 2);
        let t = m.t(); // 6 x 4: (2,3) -> (3,2) = 14, (0,5) -> (5,0) = 20
        assert_eq!(nan_index(ctx.compute(t, &o)), 14);
        let rev = m.slice(s![..;-1, ..]); // rows reversed: (2,3) -> (1,3) = 9, (0,5) -> (3,5) = 23
        assert_eq!(nan_index(ctx.compute(rev, &o)), 9);
        let mut mb = Array3::<f32>::zeros((4, 3, 5));
        mb[[2, 1, 4]] = f32::NAN;
        let strided = mb.slice(s![..;2, .., 1..]); // images 0 and 2, 3 x 4: (1,1,3) -> 12 + 4 + 3
        assert_eq!(nan_index(ctx.compute_batch(strided, &o)), 19);
        // the message names it too
        let msg = ctx.compute(a.view(), &o).unwrap_err().to_string();
        assert!(msg.contains('6'), "{msg}");
    }
}

fn assert_empty<T: std::fmt::Debug>(r: wgpu_persistence::Result<T>, shape: &[usize]) {
    match r {
        Err(Error::Empty { shape: got }) => assert_eq!(got, shape),
        other => panic!("expected Empty for {shape:?}, got {other:?}"),
    }
}

#[test]
fn empty_input_is_an_error() {
    for ctx in common::contexts() {
        for options in all_options() {
            for (h, w) in [(0, 5), (5, 0), (0, 0)] {
                let a = Array2::<f32>::zeros((h, w));
                assert_empty(ctx.compute(a.view(), &options), &[h, w]);
                assert_empty(ctx.compute_slice::<f32>(&[], &[h, w], &options), &[h, w]);
            }
            for shape in [(0, 3, 3), (2, 0, 3), (2, 3, 0)] {
                let b = Array3::<u8>::zeros(shape);
                assert_empty(
                    ctx.compute_batch(b.view(), &options),
                    &[shape.0, shape.1, shape.2],
                );
            }
        }
    }
}

#[test]
fn wrong_shapes_are_errors() {
    for ctx in common::contexts() {
        let o = Options::default();
        for (len, shape) in [(5, [2, 3]), (7, [2, 3]), (0, [1, 1]), (6, [6, 6])] {
            match ctx.compute_slice(&vec![1.0f32; len], &shape, &o) {
                Err(Error::ShapeMismatch {
                    len: l,
                    shape: s,
                    expected,
                }) => {
                    assert_eq!((l, s, expected), (len, shape.to_vec(), shape[0] * shape[1]));
                }
                other => panic!("expected ShapeMismatch for {len} / {shape:?}, got {other:?}"),
            }
        }
        // a shape whose element count overflows
        match ctx.compute_slice(&[1.0f32; 4], &[usize::MAX, 2], &o) {
            Err(Error::TooLarge { .. }) => {}
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // more pixels than the index arithmetic allows, without allocating them (a broadcast view)
        let one = ndarray::arr2(&[[1.0f32]]);
        let huge = one.broadcast((1 << 15, 1 << 15)).unwrap();
        match ctx.compute(huge, &o) {
            Err(Error::TooLarge { .. }) => {}
            other => panic!("expected TooLarge, got {:?}", other.map(|d| d.shape)),
        }
        let one3 = ndarray::arr3(&[[[1.0f32]]]);
        let many = one3.broadcast((4, 1 << 14, 1 << 14)).unwrap();
        match ctx.compute_batch(many, &o) {
            Err(Error::TooLarge { .. }) => {}
            other => panic!("expected TooLarge, got {:?}", other.map(|d| d.len())),
        }
    }
    // a slice's dims are [H, W] (an image) or [D, H, W] (a volume)
    for ctx in common::contexts() {
        let o = Options::default();
        for shape in [vec![4], vec![1, 1, 2, 2], vec![]] {
            match ctx.compute_slice(&[0.0f32; 4], &shape, &o) {
                Err(Error::WrongDimensionality { got, shape: s, .. }) => {
                    assert_eq!((got, s), (shape.len(), shape.clone()));
                }
                other => panic!("expected WrongDimensionality for {shape:?}, got {other:?}"),
            }
        }
        // a batch is B x H x W (images) or B x D x H x W (volumes)
        let zeros = [0.0f32; 4];
        for (view, shape) in [
            (
                ndarray::ArrayViewD::from_shape(vec![4], &zeros[..]).unwrap(),
                vec![4],
            ),
            (
                ndarray::ArrayViewD::from_shape(vec![2, 2], &zeros[..]).unwrap(),
                vec![2, 2],
            ),
            (
                ndarray::ArrayViewD::from_shape(vec![1, 1, 1, 2, 2], &zeros[..]).unwrap(),
                vec![1, 1, 1, 2, 2],
            ),
        ] {
            match ctx.compute_batch(view, &o) {
                Err(Error::WrongDimensionality { got, shape: s, .. }) => {
                    assert_eq!((got, s), (shape.len(), shape.clone()));
                }
                other => panic!("expected WrongDimensionality for {shape:?}, got {other:?}"),
            }
        }
        // 2 x 3 x 2 bytes as a batch: two 3 x 2 images
        let batch = ndarray::ArrayView3::from_shape((2, 3, 2), &[0u8; 12][..]).unwrap();
        let diagrams = ctx.compute_batch(batch, &o).unwrap();
        assert_eq!(diagrams.len(), 2);
        for d in &diagrams {
            assert_eq!(d.shape, vec![3, 2]);
        }
    }
    assert_eq!(
        Shape::of(&[3, 2]).unwrap(),
        Shape::Image {
            height: 3,
            width: 2
        }
    );
    assert_eq!(
        Shape::of(&[2, 3, 2]).unwrap(),
        Shape::Volume {
            depth: 2,
            height: 3,
            width: 2
        }
    );
    for shape in [vec![4], vec![1, 1, 2, 2], vec![]] {
        assert!(matches!(
            Shape::of(&shape),
            Err(Error::WrongDimensionality { got, .. }) if got == shape.len()
        ));
    }
}

/// A pixel type gives the diagram of its values converted to `f32`, through every entry point.
fn same_as_f32<T: Pixel + std::fmt::Debug>(ctx: &Context, data: &[T], h: usize, w: usize) {
    let as_f32: Vec<f32> = data.iter().map(|v| v.to_f32()).collect();
    let b = 2;
    let (img, img32) = (&data[..h * w], &as_f32[..h * w]);
    let view = ArrayView2::from_shape((h, w), img).unwrap();
    let view32 = ArrayView2::from_shape((h, w), img32).unwrap();
    let batch = ndarray::ArrayView3::from_shape((b, h, w), data).unwrap();
    let batch32 = ndarray::ArrayView3::from_shape((b, h, w), &as_f32[..]).unwrap();
    for options in all_options() {
        let want = ctx.compute(view32, &options).unwrap();
        common::check_indices(img32, &want);
        let label = format!(
            "{} {options:?} on {}",
            std::any::type_name::<T>(),
            ctx.backend()
        );
        assert_eq!(ctx.compute(view, &options).unwrap(), want, "{label}");
        assert_eq!(
            ctx.compute_slice(img, &[h, w], &options).unwrap(),
            want,
            "{label}"
        );
        assert_eq!(
            ctx.compute_batch(batch, &options).unwrap(),
            ctx.compute_batch(batch32, &options).unwrap(),
            "{label} batch"
        );
    }
}

#[test]
fn every_pixel_type_converts() {
    let (h, w) = (7, 9);
    let n = 2 * h * w;
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let u8s: Vec<u8> = (0..n).map(|_| rng.gen_range(0..6) * 50).collect();
    let u16s: Vec<u16> = (0..n).map(|_| rng.gen_range(0..6) * 13000).collect();
    let i16s: Vec<i16> = (0..n).map(|_| rng.gen_range(-3..3) * 10000).collect();
    let i32s: Vec<i32> = (0..n).map(|_| rng.gen_range(-3..3) * 7_000_000).collect();
    // f64 values that round to f32 (some to the same f32: ties the f32 version also has)
    let f64s: Vec<f64> = (0..n)
        .map(|_| match rng.gen_range(0..8) {
            0 => f64::INFINITY,
            1 => f64::NEG_INFINITY,
            2 => -0.0,
            3 => 1.0 + 1e-12,
            l => l as f64 * 0.1,
        })
        .collect();
    for ctx in common::contexts() {
        same_as_f32(&ctx, &u8s, h, w);
        same_as_f32(&ctx, &u16s, h, w);
        same_as_f32(&ctx, &i16s, h, w);
        same_as_f32(&ctx, &i32s, h, w);
        same_as_f32(&ctx, &f64s, h, w);
    }
    // values convert as documented
    assert_eq!(255u8.to_f32(), 255.0);
    assert_eq!(65535u16.to_f32(), 65535.0);
    assert_eq!((-32768i16).to_f32(), -32768.0);
    assert_eq!(16_777_217i32.to_f32(), 16_777_216.0);
    assert_eq!(0.1f64.to_f32(), 0.1f32);
}

fn no_negative_zero(d: &Diagram) {
    for pairs in &d.pairs {
        for p in pairs {
            assert!(!(p.birth == 0.0 && p.birth.is_sign_negative()), "{p:?}");
            assert!(!(p.death == 0.0 && p.death.is_sign_negative()), "{p:?}");
        }
    }
}

#[test]
fn negative_zero_is_zero() {
    for ctx in common::contexts() {
        let d = ctx
            .compute(ndarray::arr2(&[[-0.0f32, 1.0]]).view(), &Options::default())
            .unwrap();
        assert_eq!(d.pairs, vec![vec![essential(0.0, 0, false)], vec![]]);
        assert_eq!(d.pairs[0][0].birth.to_bits(), 0, "sign bit of the birth");
        // -0.0 and +0.0 tie: broken by index, not by the sign bit
        for options in all_options() {
            for data in [[[0.0f32, -0.0]], [[-0.0f32, 0.0]]] {
                let a = ndarray::arr2(&data);
                let d = ctx.compute(a.view(), &options).unwrap();
                let sup = options.is_superlevel();
                assert_eq!(
                    d.pairs,
                    vec![vec![essential(0.0, 0, sup)], vec![]],
                    "{data:?} {options:?}"
                );
                no_negative_zero(&d);
                let kept = ctx
                    .compute(a.view(), &options.keep_zero_persistence(true))
                    .unwrap();
                no_negative_zero(&kept);
                let zero_pair = PersistencePair {
                    birth: 0.0,
                    death: 0.0,
                    birth_index: 1,
                    death_index: Some(1),
                };
                assert_eq!(
                    kept.pairs[0],
                    vec![zero_pair, essential(0.0, 0, sup)],
                    "{data:?} {options:?}"
                );
            }
        }
        // in a larger image with both zeros and a few other values
        let v: Vec<f32> = (0..30)
            .map(|i| [0.0, -0.0, 1.0, -1.0, -0.0][i % 5])
            .collect();
        let pos: Vec<f32> = v.iter().map(|x| x + 0.0).collect();
        for options in all_options() {
            let d = ctx.compute_slice(&v, &[5, 6], &options).unwrap();
            no_negative_zero(&d);
            assert_eq!(d, ctx.compute_slice(&pos, &[5, 6], &options).unwrap());
        }
    }
}

#[test]
fn infinities_are_ordinary_values() {
    let inf = f32::INFINITY;
    for ctx in common::contexts() {
        for c in CONSTRUCTIONS {
            let o = Options::new(c);
            // a class that dies at +inf is finite: it has a death pixel
            let d = ctx
                .compute(ndarray::arr2(&[[0.0f32, inf, 0.0]]).view(), &o)
                .unwrap();
            let dies_at_inf = PersistencePair {
                birth: 0.0,
                death: inf,
                birth_index: 2,
                death_index: Some(1),
            };
            assert_eq!(
                d.pairs,
                vec![vec![dies_at_inf, essential(0.0, 0, false)], vec![]],
                "{c:?}"
            );
            assert!(!d.pairs[0][0].is_essential());
            // born at -inf
            let d = ctx
                .compute(ndarray::arr2(&[[-inf, 1.0], [-inf, 1.0]]).view(), &o)
                .unwrap();
            assert_eq!(
                d.pairs,
                vec![vec![essential(-inf, 0, false)], vec![]],
                "{c:?}"
            );
            let d = ctx
                .compute(ndarray::arr2(&[[-inf, 1.0, -inf]]).view(), &o)
                .unwrap();
            let pair = PersistencePair {
                birth: -inf,
                death: 1.0,
                birth_index: 2,
                death_index: Some(1),
            };
            assert_eq!(
                d.pairs,
                vec![vec![pair, essential(-inf, 0, false)], vec![]],
                "{c:?}"
            );
            // superlevel: a class that dies at -inf
            let d = ctx
                .compute(
                    ndarray::arr2(&[[0.0f32, -inf, 0.0]]).view(),
                    &o.superlevel(),
                )
                .unwrap();
            let dies = PersistencePair {
                birth: 0.0,
                death: -inf,
                birth_index: 2,
                death_index: Some(1),
            };
            assert_eq!(
                d.pairs,
                vec![vec![dies, essential(0.0, 0, true)], vec![]],
                "{c:?}"
            );
            // a loop of zeros around +inf: an H1 class (0, inf) killed at the centre
            let ring = ndarray::arr2(&[[0.0f32, 0.0, 0.0], [0.0, inf, 0.0], [0.0, 0.0, 0.0]]);
            let d = ctx.compute(ring.view(), &o).unwrap();
            common::check_indices(ring.as_slice().unwrap(), &d);
            assert_eq!(d.pairs[0], vec![essential(0.0, 0, false)], "{c:?}");
            assert_eq!(d.dim(1).len(), 1, "{c:?} {:?}", d.pairs);
            assert_eq!((d.dim(1)[0].birth, d.dim(1)[0].death), (0.0, inf));
            assert_eq!(d.dim(1)[0].death_index, Some(4));
            let d = ctx
                .compute(ring.mapv(|v| -v).view(), &o.superlevel())
                .unwrap();
            assert_eq!(d.dim(1).len(), 1, "{c:?} {:?}", d.pairs);
            assert_eq!((d.dim(1)[0].birth, d.dim(1)[0].death), (0.0, -inf));
            assert_eq!(d.dim(1)[0].death_index, Some(4));
        }
    }
}

#[test]
fn constant_images_have_one_class() {
    for ctx in common::contexts() {
        for (h, w) in [(1, 1), (1, 5), (4, 1), (3, 3), (6, 7)] {
            for value in [2.5f32, 0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY] {
                let a = Array2::from_elem((h, w), value);
                for options in all_options() {
                    let d = ctx.compute(a.view(), &options).unwrap();
                    let want = vec![
                        vec![essential(value + 0.0, 0, options.is_superlevel())],
                        vec![],
                    ];
                    assert_eq!(
                        d.pairs,
                        want,
                        "{h}x{w} of {value} {options:?} on {}",
                        ctx.backend()
                    );
                    assert_eq!(d.shape, vec![h, w]);
                }
            }
        }
    }
}

/// Expected checkerboard diagram when the cells of parity `p` (where `(y + x) % 2 == p`) enter first:
/// `(finite H0 pairs, H1 pairs)`, every one of them (first value, second value).
fn checker_expected(h: usize, w: usize, p: usize, c: Construction) -> (usize, usize) {
    let low: Vec<(usize, usize)> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (y, x)))
        .filter(|&(y, x)| (y + x) % 2 == p)
        .collect();
    match c {
        Construction::V => (low.len() - 1, 0), // 4-connectivity: every low cell is alone
        Construction::T => {
            if h == 1 || w == 1 {
                (low.len() - 1, 0)
            } else {
                // 8-connected: one component; every high cell off the border is a hole
                let holes = (1..h - 1)
                    .flat_map(|y| (1..w - 1).map(move |x| (y, x)))
                    .filter(|&(y, x)| (y + x) % 2 != p)
                    .count();
                (0, holes)
            }
        }
        Construction::Freudenthal => {
            // joined along the (y,x)-(y+1,x+1) diagonals only
            let mut diagonals: Vec<isize> =
                low.iter().map(|&(y, x)| x as isize - y as isize).collect();
            diagonals.sort_unstable();
            diagonals.dedup();
            (diagonals.len() - 1, 0)
        }
    }
}

#[test]
fn checkerboards() {
    let inf = f32::INFINITY;
    for ctx in common::contexts() {
        for (h, w) in [(2, 2), (3, 3), (4, 5), (7, 6), (9, 9), (1, 6), (5, 1)] {
            for (lo, hi) in [(0.0f32, 1.0f32), (-inf, inf), (-3.0, 250.0)] {
                let a =
                    Array2::from_shape_fn((h, w), |(y, x)| if (y + x) % 2 == 0 { lo } else { hi });
                for options in all_options() {
                    let sup = options.is_superlevel();
                    // superlevel: the high cells (odd parity) come first
                    let (p, first, second) = if sup { (1, hi, lo) } else { (0, lo, hi) };
                    let (n0, n1) = checker_expected(h, w, p, options.construction);
                    let d = ctx.compute(a.view(), &options).unwrap();
                    let label = format!("{h}x{w} ({lo}, {hi}) {options:?} on {}", ctx.backend());
                    common::check_indices(a.as_slice().unwrap(), &d);
                    assert_eq!(d.dim(0).len(), n0 + 1, "{label}: {:?}", d.pairs);
                    assert_eq!(d.dim(1).len(), n1, "{label}: {:?}", d.pairs);
                    let last = d.dim(0).last().unwrap();
                    assert!(last.is_essential() && last.birth == first, "{label}");
                    for pair in d.dim(0)[..n0].iter().chain(d.dim(1)) {
                        assert_eq!((pair.birth, pair.death), (first, second), "{label}");
                    }
                }
            }
        }
    }
}

/// 1D sublevel persistence by the elder rule, from scratch: sorted `(birth, death)` and the essential birth.
fn persistence_1d(v: &[f32], superlevel: bool) -> (Vec<(f32, f32)>, f32) {
    let g: Vec<f32> = v
        .iter()
        .map(|&x| if superlevel { -x } else { x } + 0.0)
        .collect();
    let mut order: Vec<usize> = (0..g.len()).collect();
    order.sort_by(|&a, &b| g[a].partial_cmp(&g[b]).unwrap().then(a.cmp(&b)));
    let mut parent: Vec<Option<usize>> = vec![None; g.len()];
    fn find(parent: &mut [Option<usize>], mut i: usize) -> usize {
        while let Some(p) = parent[i] {
            if p == i {
                return i;
            }
            i = p;
        }
        i
    }
    let mut pairs = vec![];
    let pos: Vec<usize> = {
        let mut pos = vec![0; g.len()];
        for (r, &i) in order.iter().enumerate() {
            pos[i] = r;
        }
        pos
    };
    for &i in &order {
        parent[i] = Some(i);
        for j in [i.wrapping_sub(1), i + 1] {
            if j < g.len() && parent[j].is_some() {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj {
                    // roots are the oldest pixels of their components; the younger dies
                    let (old, young) = if pos[ri] < pos[rj] {
                        (ri, rj)
                    } else {
                        (rj, ri)
                    };
                    if v[young] + 0.0 != v[i] + 0.0 {
                        pairs.push((v[young] + 0.0, v[i] + 0.0));
                    }
                    parent[young] = Some(old);
                }
            }
        }
    }
    pairs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (pairs, v[order[0]] + 0.0)
}

#[test]
fn single_pixel_row_and_column() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    for ctx in common::contexts() {
        for options in all_options() {
            let sup = options.is_superlevel();
            // 1 x 1
            for v in [7.0f32, -0.0, f32::INFINITY] {
                let d = ctx.compute_slice(&[v], &[1, 1], &options).unwrap();
                assert_eq!(d.pairs, vec![vec![essential(v + 0.0, 0, sup)], vec![]]);
            }
            // 1 x N and N x 1: the 1D diagram (CubicalRipser's V mode gets these wrong; GUDHI does not)
            for n in [2usize, 3, 17, 64, 301] {
                let v: Vec<f32> = (0..n)
                    .map(|_| match rng.gen_range(0..30) {
                        0 => f32::INFINITY,
                        1 => f32::NEG_INFINITY,
                        _ => rng.gen_range(0..5) as f32,
                    })
                    .collect();
                let row = ctx.compute_slice(&v, &[1, n], &options).unwrap();
                let col = ctx.compute_slice(&v, &[n, 1], &options).unwrap();
                let label = format!("1x{n} {options:?} on {}", ctx.backend());
                common::check_indices(&v, &row);
                // the same linear indices, the same total order, the same graph: the same pairs
                assert_eq!(row.pairs, col.pairs, "{label}: row != column");
                assert!(row.dim(1).is_empty(), "{label}");
                let (want, root) = persistence_1d(&v, sup);
                let mut got: Vec<(f32, f32)> = row
                    .dim(0)
                    .iter()
                    .filter(|p| !p.is_essential())
                    .map(|p| (p.birth, p.death))
                    .collect();
                got.sort_by(|a, b| a.partial_cmp(b).unwrap());
                assert_eq!(got, want, "{label}");
                assert_eq!(row.dim(0).last().unwrap().birth, root, "{label}");
                assert!(row.dim(0).last().unwrap().is_essential());
            }
        }
    }
}

#[test]
fn backend_reports_itself() {
    let cpu = Context::cpu();
    assert_eq!(cpu.backend(), Backend::Cpu);
    assert!(cpu.adapter_info().is_none() && internals::gpu_device(&cpu).is_none());
    assert_eq!(
        Context::with_backend(BackendChoice::Cpu).unwrap().backend(),
        Backend::Cpu
    );
    assert_eq!("CPU".parse::<BackendChoice>().unwrap(), BackendChoice::Cpu);
    assert!(matches!(
        "tpu".parse::<BackendChoice>(),
        Err(Error::InvalidArgument(_))
    ));
    let a = ndarray::arr2(&[[3.0f32, 1.0, 2.0], [0.0, 5.0, 1.0]]);
    let b = Array3::from_shape_fn((3, 2, 3), |(i, y, x)| (i + y * x) as f32);
    let mut contexts = vec![cpu];
    if let Some(gpu) = common::gpu() {
        assert_eq!(gpu.backend(), Backend::Gpu);
        assert!(gpu.adapter_info().is_some() && internals::gpu_device(&gpu).is_some());
        // Auto picks a hardware adapter when there is one, and skips a software one (lavapipe,
        // WARP: the CPU backend is faster), saying so
        let software = gpu
            .adapter_info()
            .is_some_and(|info| format!("{:?}", info.device_type) == "Cpu");
        let auto = Context::new().unwrap();
        if software {
            assert_eq!(auto.backend(), Backend::Cpu);
            let reason = auto.fallback_reason().expect("a reason");
            assert!(reason.contains("software adapter"), "{reason}");
        } else {
            assert_eq!(auto.backend(), Backend::Gpu);
            assert!(auto.fallback_reason().is_none());
        }
        contexts.push(gpu);
    }
    for ctx in &contexts {
        let o = Options::default();
        assert_eq!(ctx.compute(a.view(), &o).unwrap().backend, ctx.backend());
        assert_eq!(
            ctx.compute_slice(a.as_slice().unwrap(), &[2, 3], &o)
                .unwrap()
                .backend,
            ctx.backend()
        );
        for d in ctx.compute_batch(b.view(), &o).unwrap() {
            assert_eq!(d.backend, ctx.backend());
        }
        assert_eq!(
            ctx.backend().to_string(),
            if internals::gpu_device(ctx).is_some() {
                "gpu"
            } else {
                "cpu"
            }
        );
    }
}

/// Our own adapter and device, as a training stack or a renderer would have them. `None` only with
/// `WGPU_PERSISTENCE_NO_GPU=1`; panics when there is no adapter (GPU tests never skip silently).
fn own_device(limits: impl FnOnce(&wgpu::Adapter) -> wgpu::Limits) -> Option<Context> {
    if std::env::var("WGPU_PERSISTENCE_NO_GPU").is_ok_and(|v| v == "1") {
        eprintln!("WGPU_PERSISTENCE_NO_GPU=1: GPU half of this test not run");
        return None;
    }
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(desc.with_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        ..Default::default()
    }))
    .unwrap_or_else(|e| panic!("GPU test needs an adapter and none was found: {e}"));
    let required_limits = limits(&adapter);
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("caller's device"),
        required_limits,
        ..Default::default()
    }))
    .expect("device");
    let info = adapter.get_info();
    eprintln!("own device on '{}' ({:?})", info.name, info.backend);
    Some(Context::from_device(device, queue, info))
}

fn equals_cpu(ctx: &Context) {
    assert_eq!(ctx.backend(), Backend::Gpu);
    let cpu = Context::cpu();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    for (h, w) in [(1, 1), (12, 17), (40, 40)] {
        let v: Vec<f32> = (0..h * w).map(|_| rng.gen_range(0..6) as f32).collect();
        for options in all_options() {
            let g = ctx.compute_slice(&v, &[h, w], &options).unwrap();
            let c = cpu.compute_slice(&v, &[h, w], &options).unwrap();
            assert_eq!(g.pairs, c.pairs, "{h}x{w} {options:?}");
            assert_eq!(g.backend, Backend::Gpu);
        }
    }
    let b: Vec<f32> = (0..5 * 9 * 8).map(|_| rng.gen_range(0..4) as f32).collect();
    let batch = ndarray::ArrayView3::from_shape((5, 9, 8), &b[..]).unwrap();
    let o = Options::new(Construction::T);
    let g: Vec<_> = ctx.compute_batch(batch, &o).unwrap();
    let c: Vec<_> = cpu.compute_batch(batch, &o).unwrap();
    for (g, c) in g.iter().zip(&c) {
        assert_eq!(g.pairs, c.pairs);
    }
}

#[test]
fn from_device_with_adapter_limits() {
    let Some(ctx) = own_device(|a| a.limits()) else {
        return;
    };
    equals_cpu(&ctx);
}

#[test]
fn from_device_with_default_limits() {
    let Some(ctx) = own_device(|_| wgpu::Limits::default()) else {
        return;
    };
    equals_cpu(&ctx);
}

/// A device whose storage bindings are small: an input whose edge lists and pair records do not fit
/// one binding is still computed exactly (the lists are capped and the rounds then see every edge; the
/// pairs are compacted on the host); one whose per-vertex arrays do not fit answers with `TooLarge`,
/// not a panic, and the device still computes what fits afterwards.
#[test]
fn from_device_with_small_limits() {
    let Some(ctx) = own_device(|a| wgpu::Limits {
        max_storage_buffer_binding_size: 1 << 20,
        max_buffer_size: 1 << 20,
        ..a.limits()
    }) else {
        return;
    };
    let small = Array2::from_shape_fn((16, 16), |(y, x)| ((y * 7 + x * 3) % 5) as f32);
    let o = Options::default();
    let want = Context::cpu().compute(small.view(), &o).unwrap();
    assert_eq!(ctx.compute(small.view(), &o).unwrap().pairs, want.pairs);
    // 300x300: about 0.36 M edges (1.4 MiB a list) and 2.2 MiB of records, 0.35 MiB per vertex array
    let mut rng = rand::rngs::StdRng::seed_from_u64(300);
    let middle = Array2::from_shape_fn((300, 300), |_| rng.gen_range(0..8) as f32);
    for options in all_options() {
        let got = ctx.compute(middle.view(), &options).unwrap();
        let want = Context::cpu().compute(middle.view(), &options).unwrap();
        assert_eq!(got.pairs, want.pairs, "300x300 {options:?}");
        assert_eq!(got.backend, Backend::Gpu);
    }
    // 400x400: 0.61 MiB per vertex array in V and T, 1.21 MiB in the Freudenthal dual (2 triangles
    // per square)
    let mid = Array2::<f32>::zeros((400, 400));
    for options in all_options() {
        let got = ctx.compute(mid.view(), &options);
        if options.construction == Construction::Freudenthal {
            assert!(
                matches!(got, Err(Error::TooLarge { .. })),
                "400x400 {options:?}: {:?}",
                got.map(|d| d.shape)
            );
        } else {
            let want = Context::cpu().compute(mid.view(), &options).unwrap();
            assert_eq!(got.unwrap().pairs, want.pairs, "400x400 {options:?}");
        }
    }
    // 600x600: 1.4 MiB per vertex array
    let big = Array2::<f32>::zeros((600, 600));
    for options in all_options() {
        match ctx.compute(big.view(), &options) {
            Err(Error::TooLarge { .. }) => {}
            other => panic!(
                "expected TooLarge for 600x600 {options:?}, got {:?}",
                other.map(|d| d.shape)
            ),
        }
    }
    let batch = Array3::<f32>::zeros((80, 64, 64));
    assert!(matches!(
        ctx.compute_batch(batch.view(), &o),
        Err(Error::TooLarge { .. })
    ));
    // and it still works afterwards
    assert_eq!(ctx.compute(small.view(), &o).unwrap().pairs, want.pairs);
}

/// Pairs that die at the same pixel come in the order of their births (the contract's "by death in
/// filtration order, then birth").
#[test]
fn ties_in_death_are_ordered_by_birth() {
    let mut values = [20.0f32; 25];
    for (i, v) in [
        (7, 1.0),
        (10, 5.0),
        (11, 6.0),
        (12, 10.0),
        (13, 7.0),
        (14, 2.0),
    ] {
        values[i] = v;
    }
    let mut contexts = vec![Context::cpu()];
    contexts.extend(common::gpu());
    for ctx in contexts {
        let d = ctx
            .compute_slice(&values, &[5, 5], &Options::default())
            .unwrap();
        let h0: Vec<(f32, f32)> = d.dim(0).iter().map(|p| (p.birth, p.death)).collect();
        assert_eq!(
            h0,
            vec![(2.0, 10.0), (5.0, 10.0), (1.0, f32::INFINITY)],
            "{}",
            ctx.backend()
        );
    }
}

/// A device others can share: `request_shared_device` asks for every non-experimental feature of
/// the adapter and its limits; a context made by `with_backend` has such a device and lends it out;
/// a context on a shared device computes what the CPU backend computes.
#[test]
fn a_shared_device_has_the_adapters_features_and_limits() {
    if std::env::var("WGPU_PERSISTENCE_NO_GPU").is_ok_and(|v| v == "1") {
        eprintln!("WGPU_PERSISTENCE_NO_GPU=1: GPU half of this test not run");
        return;
    }
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(desc.with_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
        .unwrap_or_else(|e| panic!("GPU test needs an adapter and none was found: {e}"));
    let wanted = adapter.features() - wgpu::Features::all_experimental_mask();
    let (device, queue) = wgpu_persistence::request_shared_device(&adapter).unwrap();
    assert!(device.features().contains(wanted));
    assert_eq!(device.limits(), adapter.limits());
    let ctx = Context::from_device(device.clone(), queue.clone(), adapter.get_info());
    equals_cpu(&ctx);
    // the other library's work on the same device and queue goes on
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("the other library's"),
        size: 16,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    queue.write_buffer(&buffer, 0, &[1u8; 16]);
    queue.submit([]);
    // a context that made its own device lends one with the same features (on the same adapter:
    // the only one here, as on CI's lavapipe)
    let own = common::gpu().expect("GPU context");
    let (device, _) = own.device_and_queue().expect("a GPU context has a device");
    if own.adapter_info().map(|i| &i.name) == Some(&adapter.get_info().name) {
        assert!(device.features().contains(wanted));
        assert_eq!(device.limits(), adapter.limits());
    }
    assert!(Context::cpu().device_and_queue().is_none());
}
