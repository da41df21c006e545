//! Criterion benches: each CPU stage, and end to end on both backends.
//!
//! Images (seeded, generated here): 1024x1024 uniform noise in [0, 1), and the same noise smoothed by
//! three passes of a 9x9 box blur (edges clamped). Sublevel filtration throughout.
//!
//! Groups (filter with `cargo bench --bench stages -- GROUP`):
//! - `cpu_e2e`: `Context::cpu().compute_slice` of one image (V, T, Freudenthal), diagram assembly
//!   included.
//! - `cpu_stages`: `order_keys`, `radix_sort` (the reference's `total_order`), `rank_scatter` (its
//!   `ranks_of`), then the pairing of the primal (H0)
//!   and dual (H1) graphs of V and T: `elder_pairs` (sorts every edge of the graph: the reference)
//!   and `elder_pairs_by_pixel` (the graph pipeline, which the CPU backend runs only when
//!   zero-persistence pairs are kept; otherwise it pairs critical pixels only, timed by `cpu_e2e`).
//! - `gpu_e2e`: `Context::with_backend(Gpu).compute_slice` of one image (V, T, Freudenthal): upload, every
//!   kernel, readback of the pairs, diagram assembly. After each bench, the median GPU time of the
//!   ranking, H0 and H1 passes (timestamp queries) is printed; before it, the GPU time of every kernel
//!   in one run (timestamps between dispatches, where the adapter has them).
//! - `gpu_ranks`: `internals::gpu_ranks` (the values validated into a stack first, as the API does),
//!   upload, `order_keys`, radix sort, `rank_scatter`, and a
//!   readback of rank and order (2 x 4 MiB = 8 MiB at 1024x1024: the readback is in the figure).
//! - `volume`: `Context::cpu().compute_slice` of a 64^3 uniform-noise volume (V and T, H0, H1, H2; the
//!   CPU's volume backend), and on the GPU (H0, H2 and H1's apparent pairs on the GPU, the rest of H1
//!   on the host).
//! - `volume_h1`: H1 of a 64^3 and a 128^3 uniform-noise volume on the host, as the GPU path runs it
//!   (`persistence_pairs_from_merges`), without and with H1's apparent pairs, and
//!   the CPU port of `apparent_pairs` itself; prints how many H1 pairs are apparent.
//! - `batch`: 64 images of 256x256 noise as one stack, CPU backend and GPU (one submission); and
//!   `loss_and_gradient`: the topological loss (prior 1, 0) of the batch with its gradient map,
//!   end to end.
//!
//! Without an adapter the GPU groups print one line and are skipped. On a machine whose only adapter
//! is lavapipe (software Vulkan, one core), a GPU end-to-end run of 1024x1024 takes seconds: use
//! `cargo bench --bench stages -- --quick` (one or two runs per bench) or a filter.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use rand::{Rng, SeedableRng};
use wgpu_persistence::internals::ports::order_keys;
use wgpu_persistence::internals::reference::{ranks_of, total_order};
use wgpu_persistence::internals::{self, elder_pairs, elder_pairs_by_pixel, GraphKind, Grid};
use wgpu_persistence::ndarray::ArrayViewD;
use wgpu_persistence::{
    BackendChoice, Construction, Context, Diagram, Options, RunStats, Shape, TopologicalLoss,
};

const SIDE: usize = 1024;
const BATCH: [usize; 3] = [64, 256, 256];
const CONSTRUCTIONS: [(Construction, &str); 3] = [
    (Construction::V, "v"),
    (Construction::T, "t"),
    (Construction::Freudenthal, "freudenthal"),
];

/// Uniform noise in [0, 1), `n` values from a seeded generator.
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen::<f32>()).collect()
}

/// One separable box-blur pass of radius `r` (edges clamped), in place.
fn box_blur(values: &mut [f32], h: usize, w: usize, r: usize) {
    let k = (2 * r + 1) as f32;
    let mut line = Vec::new();
    // rows
    for y in 0..h {
        let row = &mut values[y * w..(y + 1) * w];
        line.clear();
        line.extend_from_slice(row);
        for (x, out) in row.iter_mut().enumerate() {
            let s: f32 = (0..=2 * r)
                .map(|d| line[(x + d).saturating_sub(r).min(w - 1)])
                .sum();
            *out = s / k;
        }
    }
    // columns
    let mut col = vec![0f32; h];
    for x in 0..w {
        for (y, c) in col.iter_mut().enumerate() {
            *c = values[y * w + x];
        }
        for y in 0..h {
            let s: f32 = (0..=2 * r)
                .map(|d| col[(y + d).saturating_sub(r).min(h - 1)])
                .sum();
            values[y * w + x] = s / k;
        }
    }
}

/// Noise smoothed by three 9x9 box-blur passes.
fn smoothed(h: usize, w: usize, seed: u64) -> Vec<f32> {
    let mut v = noise(h * w, seed);
    for _ in 0..3 {
        box_blur(&mut v, h, w, 4);
    }
    v
}

/// `count` items of one shape, row-major: what one `compute_batch` call takes.
struct ImageStack {
    values: Vec<f32>,
    count: usize,
    shape: Shape,
}

impl ImageStack {
    fn new(values: Vec<f32>, count: usize, dims: &[usize]) -> ImageStack {
        let shape = Shape::of(dims).expect("an image or a volume");
        assert_eq!(values.len(), count * shape.pixels(), "values of the stack");
        ImageStack {
            values,
            count,
            shape,
        }
    }

    /// `B x H x W` or `B x D x H x W`.
    fn view(&self) -> ArrayViewD<'_, f32> {
        let dims = [vec![self.count], self.shape.dims()].concat();
        ArrayViewD::from_shape(dims, &self.values).expect("stack shape")
    }

    /// The values of item `b`.
    fn image(&self, b: usize) -> &[f32] {
        let n = self.shape.pixels();
        &self.values[b * n..(b + 1) * n]
    }
}

/// The diagrams of every item of the stack in one call, and the statistics of that run (zeros on
/// the CPU backend): one item is given as a slice (which the CPU backend reads in place), more as
/// a batch. Either call validates the values (the NaN check) inside the timing.
fn compute_stack(ctx: &Context, stack: &ImageStack, options: &Options) -> (Vec<Diagram>, RunStats) {
    let diagrams = match stack.count {
        1 => vec![ctx
            .compute_slice(&stack.values, &stack.shape.dims(), options)
            .expect("computes")],
        _ => ctx.compute_batch(stack.view(), options).expect("computes"),
    };
    (diagrams, ctx.last_run_stats())
}

fn images() -> Vec<(&'static str, ImageStack)> {
    let stack = |v: Vec<f32>| ImageStack::new(v, 1, &[SIDE, SIDE]);
    vec![
        ("noise", stack(noise(SIDE * SIDE, 1))),
        ("smooth", stack(smoothed(SIDE, SIDE, 2))),
    ]
}

/// The `side^3` uniform-noise volume of the volume benches.
fn noise_volume(side: usize) -> ImageStack {
    ImageStack::new(noise(side * side * side, 7), 1, &[side, side, side])
}

fn batch_stack() -> ImageStack {
    let n = BATCH.iter().product();
    ImageStack::new(noise(n, 3), BATCH[0], &BATCH[1..])
}

/// Small samples, short windows: the machine this was written on has two cores and a software GPU.
fn configure(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
}

fn pair_counts(ctx: &Context, stack: &ImageStack, options: &Options) -> Vec<usize> {
    let (diagrams, _) = compute_stack(ctx, stack, options);
    (0..2)
        .map(|k| diagrams.iter().map(|d| d.dim(k).len()).sum())
        .collect()
}

/// Once per GPU bench, outside the timing: the GPU and CPU pair counts must agree; prints them and
/// the GPU's own per-stage times (timestamp queries) of one run. Also the warm-up for `--quick`.
fn check_gpu(ctx: &Context, cpu: &Context, stack: &ImageStack, options: &Options, id: &str) {
    let (g, c) = (
        pair_counts(ctx, stack, options),
        pair_counts(cpu, stack, options),
    );
    assert_eq!(g, c, "GPU and CPU pair counts differ ({id})");
    let (_, stats) = compute_stack(ctx, stack, options);
    let stages = match stats.stage_seconds {
        Some([rank, h0, h1]) => format!(
            "GPU timestamps of one run: ranking {:.1} ms, H0 pairing {:.1} ms, dual (H1; a volume's H2) pairing {:.1} ms",
            rank * 1e3,
            h0 * 1e3,
            h1 * 1e3
        ),
        None => "no GPU timestamps (adapter offers none)".to_string(),
    };
    eprintln!(
        "stages bench: {id}: pairs per dimension {g:?} on both backends; Boruvka rounds {:?}, \
         {} submission(s); {stages}",
        stats.rounds, stats.submissions
    );
    // one more run, outside the timing, with a timestamp after every dispatch
    if ctx.set_kernel_timings(true) {
        let (_, stats) = compute_stack(ctx, stack, options);
        ctx.set_kernel_timings(false);
        let kernels: Vec<String> = stats
            .kernel_seconds
            .unwrap_or_default()
            .iter()
            .map(|k| format!("{} {:.1} ms ({}x)", k.kernel, k.seconds * 1e3, k.dispatches))
            .collect();
        eprintln!(
            "stages bench: {id}: GPU time per kernel (one run, timestamps between dispatches): {}",
            kernels.join(", ")
        );
    }
}

fn cpu_e2e(c: &mut Criterion) {
    let ctx = Context::cpu();
    let mut group = c.benchmark_group("cpu_e2e");
    configure(&mut group);
    for (name, stack) in images() {
        for (construction, cname) in CONSTRUCTIONS {
            let options = Options::new(construction);
            group.bench_function(format!("{cname}/{name}"), |b| {
                b.iter(|| compute_stack(&ctx, black_box(&stack), &options))
            });
        }
    }
    group.finish();
}

fn cpu_volume(c: &mut Criterion) {
    let ctx = Context::cpu();
    let mut group = c.benchmark_group("volume");
    configure(&mut group);
    let side = 64;
    let stack = noise_volume(side);
    for (construction, cname) in [(Construction::V, "v"), (Construction::T, "t")] {
        let options = Options::new(construction);
        group.bench_function(format!("cpu/{cname}/{side}^3_noise"), |b| {
            b.iter(|| compute_stack(&ctx, black_box(&stack), &options))
        });
    }
    group.finish();
}

/// H1 of a volume on the host, as the GPU path runs it (`persistence_pairs_from_merges`, from the
/// merges of the H0 and H2 graphs, here made by the CPU's Kruskal so that no adapter is needed),
/// without and with the apparent pairs, and the apparent pairs computed on the CPU.
fn volume_h1(c: &mut Criterion) {
    use wgpu_persistence::internals::layout::apparent_pairs::APPARENT;
    use wgpu_persistence::internals::ports::apparent_pairs::apparent_pairs;
    use wgpu_persistence::internals::reference::volume_merges;
    use wgpu_persistence::internals::volume as cubical3d;
    let mut group = c.benchmark_group("volume_h1");
    configure(&mut group);
    for side in [64, 128] {
        let stack = noise_volume(side);
        let shape = [side; 3];
        let values = stack.image(0);
        let keys = order_keys::order_keys(values, false);
        let order = total_order(&keys);
        let rank = ranks_of(&order);
        for (construction, cname) in [(Construction::V, "v"), (Construction::T, "t")] {
            let options = Options::new(construction);
            let (pk, dk) = GraphKind::of_volume(construction).expect("volume kinds");
            let primal = volume_merges(pk, shape, &rank, &order);
            let dual = volume_merges(dk, shape, &rank, &order);
            let words = apparent_pairs(construction, shape, &rank).expect("apparent pairs");
            let marked: u32 = words
                .iter()
                .map(|w| (0..8).filter(|s| w >> (4 * s) & APPARENT != 0).count() as u32)
                .sum();
            let everything = options.keep_zero_persistence(true);
            let h1 =
                cubical3d::persistence_pairs(values, shape, &everything).expect("diagram")[1].len();
            println!(
                "volume_h1 {cname} {side}^3: {marked} apparent pairs of {h1} H1 pairs (zero \
                 persistence included)"
            );
            for (label, apparent) in [("no_apparent", None), ("apparent", Some(&words[..]))] {
                let m = cubical3d::Merges {
                    primal: &primal,
                    dual: &dual,
                    apparent,
                };
                group.bench_function(format!("{cname}/{side}^3_noise/from_merges/{label}"), |b| {
                    b.iter(|| {
                        cubical3d::persistence_pairs_from_merges(values, shape, &options, m)
                            .expect("computes")
                    })
                });
            }
            group.bench_function(format!("{cname}/{side}^3_noise/apparent_pairs_cpu"), |b| {
                b.iter(|| apparent_pairs(construction, shape, black_box(&rank)).expect("computes"))
            });
        }
    }
    group.finish();
}

fn cpu_stages(c: &mut Criterion) {
    let mut group = c.benchmark_group("cpu_stages");
    configure(&mut group);
    for (name, stack) in images() {
        let values = &stack.values;
        let keys = order_keys::order_keys(values, false);
        let order = total_order(&keys);
        let rank = ranks_of(&order);
        let Shape::Image { height, width } = stack.shape else {
            unreachable!("images")
        };
        group.bench_function(format!("order_keys/{name}"), |b| {
            b.iter(|| order_keys::order_keys(black_box(values), false))
        });
        group.bench_function(format!("radix_sort/{name}"), |b| {
            b.iter(|| total_order(black_box(&keys)))
        });
        group.bench_function(format!("rank_scatter/{name}"), |b| {
            b.iter(|| ranks_of(black_box(&order)))
        });
        for (construction, cname) in &CONSTRUCTIONS[..2] {
            let (primal, dual) = GraphKind::of(*construction);
            for (kind, side) in [(primal, "primal"), (dual, "dual")] {
                let grid = Grid::new(kind, height, width);
                group.bench_function(format!("elder_pairs/{cname}_{side}/{name}"), |b| {
                    b.iter(|| elder_pairs(&grid, black_box(&rank)))
                });
                group.bench_function(format!("elder_pairs_by_pixel/{cname}_{side}/{name}"), |b| {
                    b.iter(|| elder_pairs_by_pixel(&grid, black_box(&rank), &order))
                });
            }
        }
    }
    group.finish();
}

fn gpu_context() -> Option<Context> {
    match Context::with_backend(BackendChoice::Gpu) {
        Ok(ctx) => {
            if let Some(info) = ctx.adapter_info() {
                eprintln!(
                    "stages bench: GPU adapter {} ({:?}, {:?})",
                    info.name, info.device_type, info.backend
                );
            }
            Some(ctx)
        }
        Err(e) => {
            eprintln!("stages bench: no GPU adapter ({e}); skipping the GPU groups");
            None
        }
    }
}

/// One GPU bench of `ctx.compute_batch` of a stack: the backends must agree (checked once per bench, outside
/// the timing: criterion calls the closure per sample; also a warm-up for --quick, which has none),
/// and the GPU pass times of every run are printed after it as `label`.
#[allow(clippy::too_many_arguments)]
fn bench_gpu_stack(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    label: &str,
    ctx: &Context,
    cpu: &Context,
    stack: &ImageStack,
    options: &Options,
) {
    let mut checked = false;
    let mut stages: Vec<[f64; 3]> = Vec::new();
    group.bench_function(id, |b| {
        if !checked {
            check_gpu(ctx, cpu, stack, options, id);
            checked = true;
        }
        b.iter(|| {
            let (diagrams, stats) = compute_stack(ctx, black_box(stack), options);
            stages.extend(stats.stage_seconds);
            diagrams
        })
    });
    print_stages(label, &mut stages);
}

fn gpu(c: &mut Criterion) {
    let Some(ctx) = gpu_context() else {
        return;
    };
    let cpu = Context::cpu();
    let images = images();

    let mut group = c.benchmark_group("gpu_e2e");
    configure(&mut group);
    for (name, stack) in &images {
        for (construction, cname) in CONSTRUCTIONS {
            let options = Options::new(construction);
            let id = format!("{cname}/{name}");
            let label = format!("gpu_e2e/{id}");
            bench_gpu_stack(&mut group, &id, &label, &ctx, &cpu, stack, &options);
        }
    }
    group.finish();

    let mut group = c.benchmark_group("gpu_ranks");
    configure(&mut group);
    for (name, stack) in &images {
        let options = Options::new(Construction::V);
        group.bench_function(format!("v/{name}"), |b| {
            b.iter(|| {
                let stack = black_box(stack);
                internals::gpu_ranks(&ctx, &stack.values, stack.count, stack.shape, &options)
                    .expect("ranks")
            })
        });
    }
    group.finish();

    let stack = batch_stack();
    let options = Options::new(Construction::V);
    let mut group = c.benchmark_group("batch");
    configure(&mut group);
    let id = "gpu/v/64x256x256_noise";
    let label = format!("batch/{id}");
    bench_gpu_stack(&mut group, id, &label, &ctx, &cpu, &stack, &options);
    group.finish();
    loss_batch(c, &ctx, "gpu");
    gpu_volume(c, &ctx, &cpu);
}

/// Volumes on a GPU context: H0, H2 and H1's apparent pairs on the GPU (the apparent pairs in the first
/// pass, with the ranking; the third pass is H2's pairing), the rest of H1 on the host.
fn gpu_volume(c: &mut Criterion, ctx: &Context, cpu: &Context) {
    let mut group = c.benchmark_group("volume");
    configure(&mut group);
    let side = 64;
    let stack = noise_volume(side);
    for (construction, cname) in [(Construction::V, "v"), (Construction::T, "t")] {
        let options = Options::new(construction);
        let id = format!("gpu/{cname}/{side}^3_noise");
        let label = format!("volume/{id} (third pass: H2)");
        bench_gpu_stack(&mut group, &id, &label, ctx, cpu, &stack, &options);
    }
    group.finish();
}

fn cpu_batch(c: &mut Criterion) {
    let ctx = Context::cpu();
    let stack = batch_stack();
    let options = Options::new(Construction::V);
    let mut group = c.benchmark_group("batch");
    configure(&mut group);
    group.bench_function("cpu/v/64x256x256_noise", |b| {
        b.iter(|| compute_stack(&ctx, black_box(&stack), &options))
    });
    group.finish();
    loss_batch(c, &ctx, "cpu");
}

/// The topological loss of a training batch with its gradient map, end to end (host array in,
/// gradient on the host out): 64 maps of 256x256, prior (1, 0).
fn loss_batch(c: &mut Criterion, ctx: &Context, backend: &str) {
    let stack = batch_stack();
    let maps = stack.view().to_owned();
    let losses = vec![TopologicalLoss::new(&[1, 0]); stack.count];
    let mut group = c.benchmark_group("batch");
    configure(&mut group);
    group.bench_function(
        format!("{backend}/loss_and_gradient/64x256x256_noise"),
        |b| {
            b.iter(|| {
                ctx.topological_loss_batch(black_box(maps.view()), &losses)
                    .expect("loss")
            })
        },
    );
    group.finish();
}

/// Prints the median GPU time of each pass (timestamp queries) over a bench's iterations.
fn print_stages(id: &str, stages: &mut [[f64; 3]]) {
    if stages.is_empty() {
        println!("{id}: no GPU pass times (bench filtered out, or the adapter offers no timestamp queries)");
        return;
    }
    let mut median = [0.0; 3];
    for (i, m) in median.iter_mut().enumerate() {
        let mut column: Vec<f64> = stages.iter().map(|s| s[i]).collect();
        column.sort_by(f64::total_cmp);
        *m = column[column.len() / 2];
    }
    println!(
        "{id}: GPU time per pass (median of {} runs): ranking {:.3} ms, H0 {:.3} ms, H1 {:.3} ms",
        stages.len(),
        median[0] * 1e3,
        median[1] * 1e3,
        median[2] * 1e3
    );
}

criterion_group!(benches, cpu_stages, cpu_e2e, cpu_volume, volume_h1, cpu_batch, gpu);
criterion_main!(benches);
