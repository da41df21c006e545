//! Property tests of whole diagrams on random small images with heavy ties and infinities, on both
//! backends: index invariants, birth/death order, one essential class, the contract's pair order,
//! CPU == GPU exactly, Euler characteristic at every threshold, invariance under grid symmetries,
//! superlevel(f) == sublevel(-f), pair counts with zero persistence kept, batches, and one image large
//! enough that the GPU dispatches are tiled past 65535 workgroups.

mod common;

use std::sync::OnceLock;
use std::time::Instant;

use common::{compute_items, Items};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rand::{Rng, SeedableRng};
use wgpu_persistence::{Backend, Construction, Context, Diagram, Options};

const CONSTRUCTIONS: [Construction; 3] =
    [Construction::V, Construction::T, Construction::Freudenthal];

/// One GPU context for the whole test binary (`None` only with `WGPU_PERSISTENCE_NO_GPU=1`).
fn gpu() -> Option<&'static Context> {
    static GPU: OnceLock<Option<Context>> = OnceLock::new();
    GPU.get_or_init(common::gpu).as_ref()
}

fn cpu() -> &'static Context {
    static CPU: OnceLock<Context> = OnceLock::new();
    CPU.get_or_init(Context::cpu)
}

fn all_options() -> Vec<Options> {
    let mut v = Vec::new();
    for c in CONSTRUCTIONS {
        v.push(Options::new(c));
        v.push(Options::new(c).superlevel());
    }
    v
}

/// A small image: `(height, width, values)`, values on a few levels (ties abound), sometimes ±inf
/// and -0.0.
#[derive(Debug, Clone)]
struct Img {
    h: usize,
    w: usize,
    v: Vec<f32>,
}

fn img_strategy(max: usize) -> impl Strategy<Value = Img> {
    (1..=max, 1..=max, 1u32..=5).prop_flat_map(|(h, w, levels)| {
        let cell = prop_oneof![
            24 => (0..levels).prop_map(|l| l as f32 - 1.0),
            1 => Just(f32::INFINITY),
            1 => Just(f32::NEG_INFINITY),
            1 => Just(-0.0f32),
        ];
        prop::collection::vec(cell, h * w).prop_map(move |v| Img { h, w, v })
    })
}

fn diagram(ctx: &Context, img: &Img, options: &Options) -> Diagram {
    ctx.compute_slice(&img.v, &[img.h, img.w], options)
        .unwrap_or_else(|e| panic!("{e} on {img:?} with {options:?}"))
}

/// Value in "sublevel form": `f` for sublevel, `-f` for superlevel (`-0.0` folded into `+0.0`).
fn signed(v: f32, superlevel: bool) -> f32 {
    (if superlevel { -v } else { v }) + 0.0
}

/// Position of each pixel in the contract's total order.
fn ranks(values: &[f32], superlevel: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| {
        signed(values[a], superlevel)
            .partial_cmp(&signed(values[b], superlevel))
            .unwrap()
            .then(a.cmp(&b))
    });
    let mut rank = vec![0; values.len()];
    for (r, &p) in idx.iter().enumerate() {
        rank[p] = r;
    }
    rank
}

/// The contract's invariants of one diagram.
fn check_basic(img: &Img, options: &Options, d: &Diagram) {
    let sup = options.is_superlevel();
    let label = format!("{img:?} {options:?} on {}", d.backend);
    assert_eq!(d.shape, vec![img.h, img.w], "{label}");
    assert_eq!(d.pairs.len(), 2, "{label}: two dimensions");
    common::check_indices(&img.v, d);
    for (k, pairs) in d.pairs.iter().enumerate() {
        for p in pairs {
            if sup {
                assert!(p.birth >= p.death, "{label}: H{k} {p:?} birth < death");
            } else {
                assert!(p.birth <= p.death, "{label}: H{k} {p:?} birth > death");
            }
            if p.is_essential() {
                let inf = if sup {
                    f32::NEG_INFINITY
                } else {
                    f32::INFINITY
                };
                assert_eq!(p.death, inf, "{label}");
            }
            if !options.keep_zero_persistence && !p.is_essential() {
                assert!(
                    p.birth != p.death,
                    "{label}: zero-persistence pair {p:?} kept"
                );
            }
        }
    }
    assert_eq!(
        d.essential_counts(),
        vec![1, 0],
        "{label}: essential classes"
    );
    // order: death ascending in the filtration's total order, essential classes last
    let rank = ranks(&img.v, sup);
    for (k, pairs) in d.pairs.iter().enumerate() {
        let keys: Vec<usize> = pairs
            .iter()
            .map(|p| p.death_index.map_or(usize::MAX, |i| rank[i]))
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] <= w[1]),
            "{label}: H{k} not ordered by death: {pairs:?}"
        );
    }
}

/// Euler characteristic of the sublevel complex `{cells with value <= t}`, counted from cells, where
/// `g` is the image in sublevel form.
fn euler(g: &[f32], h: usize, w: usize, c: Construction, t: f32) -> i64 {
    let at = |y: usize, x: usize| g[y * w + x];
    let inn = |v: f32| (v <= t) as i64;
    let mut chi = 0i64;
    match c {
        Construction::V | Construction::Freudenthal => {
            for y in 0..h {
                for x in 0..w {
                    chi += inn(at(y, x));
                    if x + 1 < w {
                        chi -= inn(at(y, x).max(at(y, x + 1)));
                    }
                    if y + 1 < h {
                        chi -= inn(at(y, x).max(at(y + 1, x)));
                    }
                    if y + 1 < h && x + 1 < w {
                        let (a, b, cc, dd) =
                            (at(y, x), at(y, x + 1), at(y + 1, x), at(y + 1, x + 1));
                        if c == Construction::V {
                            chi += inn(a.max(b).max(cc).max(dd));
                        } else {
                            chi -= inn(a.max(dd));
                            chi += inn(a.max(b).max(dd));
                            chi += inn(a.max(cc).max(dd));
                        }
                    }
                }
            }
        }
        Construction::T => {
            // pixels are the unit squares of the (h+1) x (w+1) vertex grid; a lower cell takes the
            // min of the pixels around it
            let px = |y: isize, x: isize| -> f32 {
                if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                    f32::INFINITY // "no pixel"; never the min of a cell that has one
                } else {
                    at(y as usize, x as usize)
                }
            };
            for i in 0..=h as isize {
                for j in 0..=w as isize {
                    chi += inn(px(i - 1, j - 1)
                        .min(px(i - 1, j))
                        .min(px(i, j - 1))
                        .min(px(i, j)));
                    if j < w as isize {
                        chi -= inn(px(i - 1, j).min(px(i, j)));
                    }
                    if i < h as isize {
                        chi -= inn(px(i, j - 1).min(px(i, j)));
                    }
                    if i < h as isize && j < w as isize {
                        chi += inn(px(i, j));
                    }
                }
            }
        }
    }
    chi
}

/// The T grid above uses +inf as "no pixel": a vertex whose pixels are all +inf still enters at +inf,
/// which is right (min of +inf values is +inf), so no special case is needed.
fn check_euler(img: &Img, options: &Options, d: &Diagram) {
    assert!(!options.keep_zero_persistence);
    let sup = options.is_superlevel();
    let g: Vec<f32> = img.v.iter().map(|&v| signed(v, sup)).collect();
    let mut thresholds = g.clone();
    thresholds.sort_by(|a, b| a.partial_cmp(b).unwrap());
    thresholds.dedup();
    for &t in &thresholds {
        let betti: Vec<i64> = d
            .pairs
            .iter()
            .map(|pairs| {
                pairs
                    .iter()
                    .filter(|p| {
                        signed(p.birth, sup) <= t && (p.is_essential() || t < signed(p.death, sup))
                    })
                    .count() as i64
            })
            .collect();
        let chi = euler(&g, img.h, img.w, options.construction, t);
        assert_eq!(
            betti[0] - betti[1],
            chi,
            "Euler characteristic at t={t} (sublevel form), betti {betti:?}, {img:?} {options:?} on {}: {:?}",
            d.backend,
            d.pairs
        );
    }
}

/// Pair counts with zero persistence kept, and the default diagram is the kept one minus its
/// zero-length pairs, in the same order.
fn check_keep_zero(img: &Img, options: &Options, d: &Diagram, kept: &Diagram) {
    let label = format!("{img:?} {options:?} on {}", d.backend);
    let (h, w) = (img.h, img.w);
    let n = h * w;
    let top_cells = match options.construction {
        Construction::V => (h - 1) * (w - 1),
        Construction::Freudenthal => 2 * (h - 1) * (w - 1),
        Construction::T => n,
    };
    assert_eq!(kept.dim(0).len(), n, "{label}: H0 pairs with zero kept");
    assert_eq!(
        kept.dim(0).iter().filter(|p| p.is_essential()).count(),
        1,
        "{label}"
    );
    assert_eq!(
        kept.dim(1).len(),
        top_cells,
        "{label}: H1 pairs with zero kept"
    );
    // every pixel creates exactly one H0 class
    let mut born: Vec<usize> = kept.dim(0).iter().map(|p| p.birth_index).collect();
    born.sort_unstable();
    assert_eq!(born, (0..n).collect::<Vec<_>>(), "{label}: H0 birth pixels");
    let filtered: Vec<Vec<_>> = kept
        .pairs
        .iter()
        .map(|ps| {
            ps.iter()
                .filter(|p| p.is_essential() || p.birth != p.death)
                .copied()
                .collect()
        })
        .collect();
    assert_eq!(
        filtered, d.pairs,
        "{label}: kept minus zero-length != default"
    );
}

fn transform(img: &Img, f: impl Fn(usize, usize) -> (usize, usize), h2: usize, w2: usize) -> Img {
    let mut v = vec![0.0; img.v.len()];
    for y in 0..img.h {
        for x in 0..img.w {
            let (y2, x2) = f(y, x);
            v[y2 * w2 + x2] = img.v[y * img.w + x];
        }
    }
    Img { h: h2, w: w2, v }
}

fn transpose(img: &Img) -> Img {
    transform(img, |y, x| (x, y), img.w, img.h)
}
fn rot180(img: &Img) -> Img {
    let (h, w) = (img.h, img.w);
    transform(img, |y, x| (h - 1 - y, w - 1 - x), h, w)
}
fn hflip(img: &Img) -> Img {
    let w = img.w;
    transform(img, |y, x| (y, w - 1 - x), img.h, w)
}

/// Sorted `(birth, death)` per dimension.
fn multiset(d: &Diagram) -> Vec<Vec<(f32, f32)>> {
    d.pairs
        .iter()
        .map(|ps| {
            let mut v: Vec<(f32, f32)> =
                ps.iter().map(|p| (p.birth + 0.0, p.death + 0.0)).collect();
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v
        })
        .collect()
}

fn check_symmetries(ctx: &Context, img: &Img, options: &Options, d: &Diagram) {
    let mut images = vec![("transpose", transpose(img)), ("rot180", rot180(img))];
    if options.construction != Construction::Freudenthal {
        images.push(("hflip", hflip(img)));
    }
    let want = multiset(d);
    for (name, t) in images {
        let got = multiset(&diagram(ctx, &t, options));
        assert_eq!(
            got,
            want,
            "{name} of {img:?} {options:?} on {}",
            ctx.backend()
        );
    }
}

/// superlevel(f) is sublevel(-f) with values negated: same indices, same order.
fn check_negation(ctx: &Context, img: &Img, options: &Options, d: &Diagram) {
    let neg = Img {
        h: img.h,
        w: img.w,
        v: img.v.iter().map(|&v| -v).collect(),
    };
    let mut flipped = *options;
    flipped.filtration = if options.is_superlevel() {
        wgpu_persistence::Filtration::Sublevel
    } else {
        wgpu_persistence::Filtration::Superlevel
    };
    let other = diagram(ctx, &neg, &flipped);
    let negated: Vec<Vec<_>> = other
        .pairs
        .iter()
        .map(|ps| {
            ps.iter()
                .map(|p| wgpu_persistence::PersistencePair {
                    birth: -p.birth,
                    death: -p.death,
                    ..*p
                })
                .collect()
        })
        .collect();
    assert_eq!(
        negated,
        d.pairs,
        "{img:?} {options:?} vs its negation on {}",
        ctx.backend()
    );
}

/// Every property on one backend; returns the diagrams (default, zero persistence kept) per option
/// of `all_options()`, for the CPU == GPU check. `full` adds the symmetries and the negation.
fn check_all(ctx: &Context, img: &Img, full: bool) -> Vec<(Diagram, Diagram)> {
    let mut out = Vec::new();
    for options in all_options() {
        let d = diagram(ctx, img, &options);
        check_basic(img, &options, &d);
        check_euler(img, &options, &d);
        let kept_opts = options.keep_zero_persistence(true);
        let kept = diagram(ctx, img, &kept_opts);
        check_basic(img, &kept_opts, &kept);
        check_keep_zero(img, &options, &d, &kept);
        if full {
            check_symmetries(ctx, img, &options, &d);
            check_negation(ctx, img, &options, &d);
        }
        out.push((d, kept));
    }
    out
}

proptest! {
    // failures print the shrunk input; nothing is written next to the sources
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(256) })]

    #[test]
    fn cpu_properties(img in img_strategy(12)) {
        check_all(cpu(), &img, true);
    }
}

/// The GPU: the contract's invariants, Euler characteristics and zero-persistence counts, and the CPU
/// backend's diagrams exactly (values, indices, order), with and without zero-persistence pairs.
/// (Symmetries and negation are checked on the CPU backend above; the GPU equals it pair for pair.)
/// One context, created once, for all cases.
#[test]
fn gpu_properties_and_equal_cpu() {
    let Some(gpu) = gpu() else { return };
    let start = Instant::now();
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::with_cases(24)
    });
    runner
        .run(&img_strategy(12), |img| {
            let g = check_all(gpu, &img, false);
            let c = check_all(cpu(), &img, false);
            for (options, (gd, cd)) in all_options().iter().zip(g.iter().zip(&c)) {
                prop_assert_eq!(&cd.0.pairs, &gd.0.pairs, "{:?} {:?}", img, options);
                prop_assert_eq!(
                    &cd.1.pairs,
                    &gd.1.pairs,
                    "{:?} {:?} zero kept",
                    img,
                    options
                );
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "gpu_properties_and_equal_cpu: {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// The symmetries and the negation on the GPU, for a few fixed images with ties and infinities.
#[test]
fn gpu_symmetries() {
    let Some(gpu) = gpu() else { return };
    let start = Instant::now();
    let v = random_batch(1, 6, 9, 11);
    let img = Img { h: 6, w: 9, v };
    for options in all_options() {
        let d = diagram(gpu, &img, &options);
        check_symmetries(gpu, &img, &options, &d);
        check_negation(gpu, &img, &options, &d);
    }
    eprintln!("gpu_symmetries: {:.1} s", start.elapsed().as_secs_f64());
}

/// A few fixed, slightly larger images with many ties (not too many for lavapipe): CPU == GPU.
#[test]
fn gpu_equals_cpu_seeded() {
    let Some(gpu) = gpu() else { return };
    let start = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for &(h, w, levels) in &[(31, 47, 3u32), (64, 64, 0), (50, 1, 2), (1, 70, 2)] {
        let v: Vec<f32> = (0..h * w)
            .map(|_| match levels {
                0 => rng.gen::<f32>(),
                l => rng.gen_range(0..l) as f32,
            })
            .collect();
        let img = Img { h, w, v };
        for options in all_options() {
            for keep in [false, true] {
                let o = options.keep_zero_persistence(keep);
                let c = diagram(cpu(), &img, &o);
                let g = diagram(gpu, &img, &o);
                assert!(
                    c.pairs == g.pairs,
                    "{h}x{w} levels {levels} {o:?}: CPU != GPU"
                );
                check_basic(&img, &o, &g);
            }
        }
    }
    eprintln!(
        "gpu_equals_cpu_seeded: {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

fn random_batch(b: usize, h: usize, w: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..b * h * w)
        .map(|_| match rng.gen_range(0..40) {
            0 => f32::INFINITY,
            1 => f32::NEG_INFINITY,
            _ => rng.gen_range(0..4) as f32,
        })
        .collect()
}

/// `compute_batch` equals the images one by one, on both backends; the GPU uses one submission.
#[test]
fn batch_equals_one_by_one() {
    let start = Instant::now();
    let mut contexts: Vec<&Context> = vec![cpu()];
    contexts.extend(gpu());
    let few = [
        Options::new(Construction::V),
        Options::new(Construction::T).superlevel(),
        Options::new(Construction::Freudenthal).keep_zero_persistence(true),
    ];
    // (images, height, width); 17 images need two image passes in the GPU sort
    for (i, &(b, h, w)) in [(1, 5, 7), (3, 9, 4), (2, 1, 1), (17, 6, 6), (17, 1, 3)]
        .iter()
        .enumerate()
    {
        let data = random_batch(b, h, w, 100 + i as u64);
        let batch = ndarray::Array3::from_shape_vec((b, h, w), data.clone()).unwrap();
        let stack = Items::images(&data, &[b, h, w]);
        let options = if b > 3 { few.to_vec() } else { all_options() };
        for options in options {
            for ctx in &contexts {
                let all = ctx.compute_batch(batch.view(), &options).unwrap();
                assert_eq!(all.len(), b);
                for (k, d) in all.iter().enumerate() {
                    let one = ctx
                        .compute_slice(&data[k * h * w..(k + 1) * h * w], &[h, w], &options)
                        .unwrap();
                    assert_eq!(
                        d,
                        &one,
                        "{b}x{h}x{w} image {k} {options:?} on {}",
                        ctx.backend()
                    );
                }
                let (via_stack, stats) = compute_items(ctx, &stack, &options).unwrap();
                assert_eq!(via_stack, all);
                if ctx.backend() == Backend::Gpu {
                    assert_eq!(
                        stats.submissions, 1,
                        "{b}x{h}x{w} {options:?}: GPU submissions"
                    );
                }
            }
        }
    }
    eprintln!(
        "batch_equals_one_by_one: {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// Past the dispatch limit: the T primal graph of a 2049 x 2049 image has 16,781,312 edges, more than
/// 65535 * 256 = 16,776,960 (2048 x 2048 has fewer), so one-edge-per-thread kernels must tile their
/// dispatches in 2D. GPU == CPU exactly. (2100 x 2100 took about 56 s on lavapipe; 2049 is the
/// smallest square past the limit. `WGPU_PERSISTENCE_LARGE_N` picks another size.)
#[test]
fn gpu_large_t_equals_cpu() {
    let Some(gpu) = common::gpu() else { return };
    let n: usize = std::env::var("WGPU_PERSISTENCE_LARGE_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2049);
    let edges = 2 * n * (n - 1) + 2 * (n - 1) * (n - 1);
    assert!(edges > 65535 * 256, "{n}x{n}: only {edges} T primal edges");
    let mut rng = rand::rngs::StdRng::seed_from_u64(2049);
    let v: Vec<f32> = (0..n * n).map(|_| rng.gen_range(0..16) as f32).collect();
    let options = Options::new(Construction::T);
    let t0 = Instant::now();
    let c = cpu().compute_slice(&v, &[n, n], &options).unwrap();
    let t_cpu = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let g = gpu.compute_slice(&v, &[n, n], &options).unwrap();
    let t_gpu = t0.elapsed().as_secs_f64();
    eprintln!(
        "{n}x{n} T ({edges} primal edges, {} H0 + {} H1 pairs): CPU {t_cpu:.2} s, GPU {t_gpu:.2} s",
        c.dim(0).len(),
        c.dim(1).len()
    );
    for k in 0..2 {
        assert_eq!(c.dim(k).len(), g.dim(k).len(), "H{k} pair count");
        if let Some(i) = (0..c.dim(k).len()).find(|&i| c.dim(k)[i] != g.dim(k)[i]) {
            panic!("H{k} pair {i}: CPU {:?} GPU {:?}", c.dim(k)[i], g.dim(k)[i]);
        }
    }
    common::check_indices(&v, &g);
}
