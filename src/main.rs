//! `wgpu-persistence`: the command-line front end of the library.
//!
//! `wgpu-persistence diagram [INPUT]` writes the persistence diagram of a 2D image (or of a stack of
//! them) as CSV or JSON; `wgpu-persistence time [INPUT]` times the computation for benchmark scripts;
//! `wgpu-persistence loss INPUT --betti B0,B1` prints the topological loss of a probability map (and
//! writes its gradient); `wgpu-persistence repair INPUT --betti B0,B1 -o OUT.npy` repairs the map's
//! topology.
//! Data go to stdout (or `-o FILE`); the backend line and errors go to stderr.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use image::{DynamicImage, ImageFormat, ImageReader};
use ndarray::{Array2, Array3, ArrayD, Axis, Ix2, Ix3, IxDyn};
use ndarray_npy::WriteNpyExt;
use serde::{Serialize, Serializer};
use wgpu_persistence::engine::RunStats;
use wgpu_persistence::image::Pixel;
use wgpu_persistence::kernels::KernelTime;
use wgpu_persistence::{
    Backend, BackendChoice, Construction, Context, Diagram, Error, LossKind, Options,
    RepairOptions, TopologicalLoss,
};

/// The bundled sample (see `data/README.md`), embedded so the binary works from any directory.
const SAMPLE_PNG: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.png"));
const SAMPLE_NAME: &str = "bundled sample data/sample.png";

const DIAGRAM_HELP: &str = "\
INPUT:
  .npy           2D array of float32, float64, uint8, uint16, int16 or int32 (any byte order,
                 C or Fortran order), or a 3D array D x H x W: a volume (V or T construction;
                 its diagram has H0, H1 and H2). With --batch a 3D array B x H x W is a stack of
                 2D images (a 2D array is then a stack of one) and a 4D array B x D x H x W a
                 stack of volumes.
  .png .tif .tiff  8- or 16-bit grayscale. Colour (and grey+alpha) images are rejected, not
                 converted: convert them to grayscale yourself so you know which values you analyse.
  (none)         the bundled sample: scikit-image's `camera` photograph, 128x128, 8-bit.
  NaN pixels are an error that names the first linear (row-major) index; +-inf are ordinary values.

OUTPUT:
  csv   Header `dim,birth,death,birth_index,death_index` (with --batch a first column `image`).
        One row per pair; values print as the shortest decimal that parses back to the same f32;
        infinities print as `inf` / `-inf`. An essential class has death `inf` (superlevel: `-inf`)
        and an empty death_index. birth_index/death_index are row-major pixel indices within the
        image (or volume): f[birth_index] == birth, f[death_index] == death.
  json  One object {\"shape\":[H,W] (a volume: [D,H,W]),\"backend\":\"gpu\"|\"cpu\",\"pairs\":[[{\"birth\",\"death\",
        \"birth_index\",\"death_index\"},...],...]} with pairs[k] the pairs of H_k (with --batch: an
        array of such objects, one per image). JSON has no infinity: an infinite birth or death is
        written as the string \"inf\" or \"-inf\"; an essential class has death_index null.

  Pairs with birth == death are dropped unless --keep-zero. A line on stderr says which backend
  answered (and the adapter, or why `auto` fell back to the CPU). Exit status: 0 on success, 1 on
  any error (one line `error: ...` on stderr), 2 on a usage error.";

const TIME_HELP: &str = "\
Loads the input once, computes WARMUP times to warm up (workspace allocation, pipeline compilation,
the allocator settling), then REPEAT times, and prints one JSON line to stdout:
  {\"backend\":\"gpu\"|\"cpu\",\"adapter\":NAME,\"shape\":[..],\"repeat\":N,\"median_s\":S,\"min_s\":S,
   \"pairs\":[n0,n1(,n2)],\"gpu_stage_median_s\":[ranking,H0,H1 (H2 for volumes)]|null}
gpu_stage_median_s is the median GPU time of each stage from timestamp queries (null on the CPU
backend or when the adapter cannot time passes; for volumes the GPU pairs H0 and H2 and finds H1's
apparent pairs in the ranking stage, and the rest of H1 is reduced on the host, inside median_s); adapter is \"cpu\" on the CPU backend; shape is
[B,H,W] with --batch (a volume: [D,H,W]; a stack of volumes: [B,D,H,W]); backend says which
backend computed the diagrams; pairs counts the pairs per dimension (summed over a batch) without
zero-persistence pairs. Inputs as for `diagram`.";

const MAP_INPUT_HELP: &str = "\
INPUT (a probability map, one 2D image or, for `loss`, one 3D volume):
  .npy           2D (or 3D: D x H x W) array of float32, float64, uint8, uint16, int16 or int32,
                 taken as is (no rescaling: a uint8 .npy holds values 0..255, not probabilities).
  .png .tif .tiff  8- or 16-bit grayscale, mapped to [0,1]: 8-bit values are divided by 255,
                 16-bit values by 65535. Colour images are rejected.
--betti B0,B1[,B2]: the prior Betti numbers of the superlevel sets of the map (B0 components,
  B1 holes, B2 voids of a volume; a B2 is ignored in 2D), e.g. --betti 1,1 for a ring, 1,0 for a
  disk, 1,0,1 for a hollow ball.";

const LOSS_HELP: &str = "\
Prints the topological loss of Clough et al. (IEEE TPAMI 2022) of the map's superlevel filtration
as the last line of stdout (the shortest decimal that parses back to the same f32). With
--gradient, writes dL/dp as a float32 .npy of the input's shape.";

const REPAIR_HELP: &str = "\
Projected gradient descent on  loss(q) + W * mean((q - map)^2)  from q = map, q kept in [0,1];
each step moves the pixel with the largest gradient by --lr and the others in proportion. Stops
once the Betti numbers of {q >= t} equal the prior for t = 0.45, 0.5 and 0.55 (or after --steps
steps). The map must hold values in [0,1]. Writes the repaired map (float32 .npy) and prints
`key: value` lines: loss_before, loss_after, betti_before, betti_after (of the 0.5-superlevel set,
comma-separated), steps. If the prior is not reached, a warning goes to stderr (exit status 0).";

/// Exact persistent homology of 2D images on the GPU (wgpu) and of 3D volumes, with a native CPU
/// backend.
#[derive(Debug, Parser)]
#[command(name = "wgpu-persistence", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute the persistence diagram(s) of an image and write them as CSV or JSON.
    #[command(after_help = DIAGRAM_HELP)]
    Diagram(DiagramArgs),
    /// Time the computation (warm-up, then --repeat runs) and print one JSON line.
    #[command(after_help = TIME_HELP)]
    Time(TimeArgs),
    /// Print the topological loss of a probability map; optionally write its gradient.
    #[command(after_help = format!("{LOSS_HELP}\n\n{MAP_INPUT_HELP}"))]
    Loss(LossArgs),
    /// Repair the topology of a probability map by gradient descent on the topological loss.
    #[command(after_help = format!("{REPAIR_HELP}\n\n{MAP_INPUT_HELP}"))]
    Repair(RepairArgs),
}

/// The map and the prior: shared by `loss` and `repair`.
#[derive(Debug, Args)]
struct PriorArgs {
    /// Input probability map: .npy (as is), .png, .tif or .tiff (scaled to [0,1]).
    input: PathBuf,
    /// Prior Betti numbers B0,B1[,B2] (comma-separated non-negative integers).
    #[arg(long, value_name = "B0,B1", allow_hyphen_values = true)]
    betti: String,
    /// Cell complex built on the pixel grid.
    #[arg(long, short = 'c', value_enum, ignore_case = true, default_value_t = ConstructionArg::V)]
    construction: ConstructionArg,
    /// Where to compute.
    #[arg(long, short = 'b', value_enum, ignore_case = true, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Penalty: squared (the paper's) or l1.
    #[arg(long, value_enum, ignore_case = true, default_value_t = KindArg::Squared)]
    kind: KindArg,
}

#[derive(Debug, Args)]
struct LossArgs {
    #[command(flatten)]
    prior: PriorArgs,
    /// Write the gradient dL/dp (float32, the input's shape) to this .npy file.
    #[arg(long, value_name = "OUT.npy")]
    gradient: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RepairArgs {
    #[command(flatten)]
    prior: PriorArgs,
    /// Write the repaired map (float32 .npy) here.
    #[arg(long, short = 'o', value_name = "OUT.npy")]
    output: PathBuf,
    /// The most gradient steps.
    #[arg(long, default_value_t = RepairOptions::default().steps)]
    steps: usize,
    /// How far the pixel with the largest gradient moves per step.
    #[arg(long, default_value_t = RepairOptions::default().lr)]
    lr: f32,
    /// Weight W of the fidelity term W * mean((q - map)^2).
    #[arg(long, default_value_t = RepairOptions::default().fidelity)]
    fidelity: f32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    /// 1 - pers^2 for the kept features, pers^2 for the others.
    Squared,
    /// 1 - pers and pers.
    L1,
}

impl From<KindArg> for LossKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Squared => LossKind::Squared,
            KindArg::L1 => LossKind::L1,
        }
    }
}

/// What to compute on, and how: shared by both subcommands.
#[derive(Debug, Args)]
struct ComputeArgs {
    /// Input .npy, .png, .tif or .tiff (default: the bundled sample photograph).
    input: Option<PathBuf>,
    /// Cell complex built on the pixel grid.
    #[arg(long, short = 'c', value_enum, ignore_case = true, default_value_t = ConstructionArg::V)]
    construction: ConstructionArg,
    /// Superlevel filtration (the sublevel filtration of -f, reported in values of f).
    #[arg(long)]
    superlevel: bool,
    /// Where to compute.
    #[arg(long, short = 'b', value_enum, ignore_case = true, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Treat a 3D .npy (B x H x W) as a stack of 2D images and a 4D .npy (B x D x H x W) as a stack
    /// of volumes, one diagram each.
    #[arg(long)]
    batch: bool,
}

#[derive(Debug, Args)]
struct DiagramArgs {
    #[command(flatten)]
    compute: ComputeArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = Format::Csv)]
    format: Format,
    /// Keep pairs whose birth equals their death (dropped by default).
    #[arg(long)]
    keep_zero: bool,
    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "OUT")]
    output: Option<PathBuf>,
    /// Print the wall time and, on the GPU, the time of each stage (timestamp queries) to stderr.
    #[arg(long)]
    timings: bool,
}

#[derive(Debug, Args)]
struct TimeArgs {
    #[command(flatten)]
    compute: ComputeArgs,
    /// Number of timed runs after the warm-up runs.
    #[arg(long, short = 'n', default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Number of untimed runs first: the first allocates the workspace and compiles the pipelines;
    /// the next let the process's allocator settle (glibc's malloc raises its mmap and trim
    /// thresholds over the first few calls, and until then the large result vectors fault in fresh
    /// pages on every call: about 1,600 page faults a call on a 1024x1024 noise image).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    warmup: u32,
    /// Time the topological loss with this prior and its gradient map instead of the diagram alone:
    /// end to end, from the host array to the gradient on the host (superlevel, as the loss is).
    #[arg(long, value_name = "B0,B1")]
    loss: Option<String>,
    /// Also print the median time of each GPU stage (timestamp queries) to stderr.
    #[arg(long)]
    timings: bool,
    /// Time every GPU kernel too (a timestamp after each dispatch, summed per kernel) and report
    /// the medians as `gpu_kernel_median_s`. The timestamps cost time of their own: the wall and
    /// stage times of such a run are not those of an untimed one.
    #[arg(long)]
    kernel_timings: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ConstructionArg {
    /// Pixels are vertices, 4-connected components (CubicalRipser's default, GUDHI vertices=).
    V,
    /// Pixels are top cells, 8-connected components (GUDHI top_dimensional_cells=).
    T,
    /// Freudenthal triangulation, squares split along (y,x)-(y+1,x+1) (TopologyLayer).
    #[value(alias = "f")]
    Freudenthal,
}

impl From<ConstructionArg> for Construction {
    fn from(c: ConstructionArg) -> Self {
        match c {
            ConstructionArg::V => Construction::V,
            ConstructionArg::T => Construction::T,
            ConstructionArg::Freudenthal => Construction::Freudenthal,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    /// The GPU when an adapter is found, else the CPU.
    Auto,
    /// The GPU, or an error when there is no adapter.
    Gpu,
    /// The native CPU backend.
    Cpu,
}

impl From<BackendArg> for BackendChoice {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Gpu => BackendChoice::Gpu,
            BackendArg::Cpu => BackendChoice::Cpu,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// JSON (infinities as the strings "inf" / "-inf").
    Json,
}

/// A user-facing error: printed as one line `error: ...`.
#[derive(Debug)]
struct CliError(String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError(e.to_string())
    }
}

fn fail(message: impl Into<String>) -> CliError {
    CliError(message.into())
}

type CliResult<T> = Result<T, CliError>;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("error")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Diagram(args) => run_diagram(&args),
        Command::Time(args) => run_time(&args),
        Command::Loss(args) => run_loss(&args),
        Command::Repair(args) => run_repair(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Nothing sensible is left to do if stderr itself is gone.
            let _ = writeln!(io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Subcommands

fn run_diagram(args: &DiagramArgs) -> CliResult<()> {
    let batch = args.compute.batch;
    let input = load_input(&args.compute)?;
    let ctx = open_context(args.compute.backend)?;
    let options = options(&args.compute, args.keep_zero);
    let start = Instant::now();
    let (diagrams, stats) = compute(&ctx, &input, &options)?;
    if args.timings {
        print_timings(
            &ctx,
            &diagrams,
            start.elapsed().as_secs_f64(),
            stats.stage_seconds,
        );
    }
    write_output(args.output.as_deref(), |w| match args.format {
        Format::Csv => write_csv(w, &diagrams, batch),
        Format::Json => write_json(w, &diagrams, batch),
    })
}

/// One line of `time` output.
#[derive(Debug, Serialize)]
struct TimeReport {
    backend: String,
    adapter: String,
    shape: Vec<usize>,
    repeat: u32,
    median_s: f64,
    min_s: f64,
    pairs: Vec<usize>,
    /// Median GPU time of the ranking, H0 and H1 stages, from timestamp queries (GPU backend, when
    /// the adapter offers them).
    gpu_stage_median_s: Option<[f64; 3]>,
    /// `--kernel-timings`: the median GPU time of each kernel over the timed runs, in order of first
    /// dispatch (GPU backend, when the adapter can write timestamps inside passes).
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_kernel_median_s: Option<Vec<KernelReport>>,
}

/// One kernel's line of `--kernel-timings`.
#[derive(Debug, Serialize)]
struct KernelReport {
    kernel: String,
    median_s: f64,
    /// Dispatches in one run (the last one).
    dispatches: u32,
}

fn run_time(args: &TimeArgs) -> CliResult<()> {
    let input = load_input(&args.compute)?;
    let ctx = open_context(args.compute.backend)?;
    if args.kernel_timings && args.loss.is_some() {
        let _ = writeln!(
            io::stderr(),
            "wgpu-persistence: --kernel-timings times the diagram runs only: ignored with --loss"
        );
    } else if args.kernel_timings {
        let timed = ctx.engine().is_some_and(|e| e.set_kernel_timings(true));
        if !timed {
            let _ = writeln!(
                io::stderr(),
                "wgpu-persistence: --kernel-timings: this backend or adapter cannot time kernels \
                 (it needs timestamps inside compute passes)"
            );
        }
    }
    let loss = match &args.loss {
        Some(betti) => {
            let betti =
                parse_betti(betti).map_err(|e| fail(e.0.replacen("--betti", "--loss", 1)))?;
            let mut loss = TopologicalLoss::new(&betti);
            loss.construction = args.compute.construction.into();
            Some(loss)
        }
        None => None,
    };
    let options = match &loss {
        Some(loss) => loss.options(),
        None => options(&args.compute, false),
    };
    let (mut diagrams, _) = compute(&ctx, &input, &options)?;
    let mut seconds = Vec::with_capacity(args.repeat as usize);
    let mut stages: Vec<[f64; 3]> = Vec::new();
    let mut kernels: Vec<Vec<KernelTime>> = Vec::new();
    // the warm-up runs after the first are runs like the timed ones, whose figures are dropped
    for run in 1..args.warmup + args.repeat {
        if run == args.warmup {
            seconds.clear();
            stages.clear();
            kernels.clear();
        }
        let start = Instant::now();
        match &loss {
            // the loss and the gradient map on the host, from the host array
            Some(loss) => {
                let result = match &input.images {
                    Images::Single(a) => ctx.topological_loss(a.view(), loss).map(|r| r.loss),
                    Images::Batch(a) => ctx
                        .topological_loss_batch(a.view(), std::slice::from_ref(loss))
                        .map(|r| r.losses.iter().sum()),
                    Images::Volume(a) => {
                        ctx.topological_loss_volume(a.view(), loss).map(|r| r.loss)
                    }
                    Images::VolumeBatch(a) => ctx
                        .topological_loss_volume_batch(a.view(), std::slice::from_ref(loss))
                        .map(|r| r.losses.iter().sum()),
                };
                result.map_err(|e| describe_error(e, &input))?;
                seconds.push(start.elapsed().as_secs_f64());
            }
            None => {
                let (d, stats) = compute(&ctx, &input, &options)?;
                seconds.push(start.elapsed().as_secs_f64());
                diagrams = d;
                stages.extend(stats.stage_seconds);
                kernels.extend(stats.kernel_seconds);
                if stats.untimed_dispatches > 0 {
                    let _ = writeln!(
                        io::stderr(),
                        "wgpu-persistence: --kernel-timings: {} dispatches past the query set's \
                         4096 timestamps went untimed",
                        stats.untimed_dispatches
                    );
                }
            }
        }
    }
    seconds.sort_by(f64::total_cmp);
    let gpu_stage_median_s = (!stages.is_empty()).then(|| {
        let mut out = [0.0; 3];
        for (i, o) in out.iter_mut().enumerate() {
            let mut column: Vec<f64> = stages.iter().map(|s| s[i]).collect();
            column.sort_by(f64::total_cmp);
            *o = median(&column);
        }
        out
    });
    let report = TimeReport {
        backend: answered_by(&ctx, &diagrams).to_string(),
        adapter: match (answered_by(&ctx, &diagrams), ctx.adapter_info()) {
            (Backend::Gpu, Some(info)) => info.name.clone(),
            _ => "cpu".to_string(),
        },
        shape: input.images.shape(),
        repeat: args.repeat,
        median_s: median(&seconds),
        min_s: seconds.first().copied().unwrap_or(0.0),
        pairs: pair_counts(&diagrams),
        gpu_stage_median_s,
        gpu_kernel_median_s: kernel_medians(&kernels),
    };
    if args.timings {
        print_timings(&ctx, &diagrams, report.median_s, gpu_stage_median_s);
    }
    write_output(None, |w| {
        serde_json::to_writer(&mut *w, &report)?;
        writeln!(w)
    })
}

/// The median of each kernel's time over the runs (a kernel missing from a run counts as 0 there).
fn kernel_medians(runs: &[Vec<KernelTime>]) -> Option<Vec<KernelReport>> {
    let last = runs.last()?;
    Some(
        last.iter()
            .map(|k| {
                let mut column: Vec<f64> = runs
                    .iter()
                    .map(|run| {
                        run.iter()
                            .find(|t| t.kernel == k.kernel)
                            .map_or(0.0, |t| t.seconds)
                    })
                    .collect();
                column.sort_by(f64::total_cmp);
                KernelReport {
                    kernel: k.kernel.to_string(),
                    median_s: median(&column),
                    dispatches: k.dispatches,
                }
            })
            .collect(),
    )
}

/// Parse `--betti`: one to three comma-separated non-negative integers.
fn parse_betti(text: &str) -> CliResult<Vec<usize>> {
    let bad = |why: &str| {
        fail(format!(
            "invalid --betti '{text}': {why} (expected comma-separated non-negative integers \
             B0,B1[,B2], e.g. 1,1)"
        ))
    };
    if text.trim().is_empty() {
        return Err(bad("empty"));
    }
    let betti = text
        .split(',')
        .map(|part| {
            let part = part.trim();
            part.parse::<usize>()
                .map_err(|_| bad(&format!("'{part}' is not a non-negative integer")))
        })
        .collect::<CliResult<Vec<usize>>>()?;
    if betti.len() > 3 {
        return Err(bad("more than three numbers"));
    }
    Ok(betti)
}

/// The loss described by the arguments, the map, and a context.
fn prepare(args: &PriorArgs, volumes: bool) -> CliResult<(TopologicalLoss, Input, Context)> {
    let mut loss = TopologicalLoss::new(&parse_betti(&args.betti)?);
    loss.kind = args.kind.into();
    loss.construction = args.construction.into();
    let input = load_map(&args.input)?;
    if !volumes {
        single_map(&input)?;
    }
    let ctx = open_context(args.backend)?;
    Ok((loss, input, ctx))
}

fn write_npy<D: ndarray::Dimension>(path: &Path, array: &ndarray::Array<f32, D>) -> CliResult<()> {
    let name = path.display();
    let file = File::create(path).map_err(|e| fail(format!("cannot create '{name}': {e}")))?;
    let mut out = BufWriter::new(file);
    array
        .write_npy(&mut out)
        .map_err(|e| fail(format!("cannot write '{name}': {e}")))?;
    out.flush()
        .map_err(|e| fail(format!("cannot write '{name}': {e}")))
}

fn run_loss(args: &LossArgs) -> CliResult<()> {
    let (loss, input, ctx) = prepare(&args.prior, true)?;
    let (value, gradient) = match &input.images {
        Images::Volume(map) => ctx
            .topological_loss_volume(map.view(), &loss)
            .map(|r| (r.loss, r.gradient.into_dyn())),
        _ => ctx
            .topological_loss(single_map(&input)?.view(), &loss)
            .map(|r| (r.loss, r.gradient.into_dyn())),
    }
    .map_err(|e| describe_error(e, &input))?;
    if let Some(path) = &args.gradient {
        write_npy(path, &gradient)?;
    }
    write_output(None, |w| writeln!(w, "{value}"))
}

fn run_repair(args: &RepairArgs) -> CliResult<()> {
    let (loss, input, ctx) = prepare(&args.prior, false)?;
    let map = single_map(&input)?;
    let options = RepairOptions {
        steps: args.steps,
        lr: args.lr,
        fidelity: args.fidelity,
        ..RepairOptions::default()
    };
    let result = wgpu_persistence::repair(&ctx, map.view(), &loss, &options)
        .map_err(|e| describe_error(e, &input))?;
    write_npy(&args.output, &result.map)?;
    let join = |b: &[usize]| b.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let prior: Vec<usize> = (0..result.betti_after.len())
        .map(|k| loss.betti.get(k).copied().unwrap_or(0))
        .collect();
    if result.betti_after != prior {
        let _ = writeln!(
            io::stderr(),
            "wgpu-persistence: warning: the prior {} was not reached after {} steps (Betti numbers \
             at 0.5: {}); try more --steps or a larger --lr",
            join(&prior),
            result.steps_taken,
            join(&result.betti_after)
        );
    }
    write_output(None, |w| {
        writeln!(w, "loss_before: {}", result.loss_before)?;
        writeln!(w, "loss_after: {}", result.loss_after)?;
        writeln!(w, "betti_before: {}", join(&result.betti_before))?;
        writeln!(w, "betti_after: {}", join(&result.betti_after))?;
        writeln!(w, "steps: {}", result.steps_taken)
    })
}

/// Median of sorted values (0 for none).
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// Pairs per homology dimension, summed over the diagrams.
fn pair_counts(diagrams: &[Diagram]) -> Vec<usize> {
    let dims = diagrams.iter().map(|d| d.pairs.len()).max().unwrap_or(0);
    (0..dims)
        .map(|k| diagrams.iter().map(|d| d.dim(k).len()).sum())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Computing

fn options(args: &ComputeArgs, keep_zero: bool) -> Options {
    let options = Options::new(args.construction.into()).keep_zero_persistence(keep_zero);
    if args.superlevel {
        options.superlevel()
    } else {
        options
    }
}

/// Create the context and say on stderr which backend answers.
fn open_context(backend: BackendArg) -> CliResult<Context> {
    let ctx = Context::with_backend(backend.into())?;
    let line = match (ctx.adapter_info(), ctx.fallback_reason()) {
        (Some(info), _) => format!("backend gpu (adapter: {}, {})", info.name, info.backend),
        (None, Some(reason)) => format!("backend cpu (auto fell back to the CPU: {reason})"),
        (None, None) => "backend cpu (native CPU backend)".to_string(),
    };
    let _ = writeln!(io::stderr(), "wgpu-persistence: {line}");
    Ok(ctx)
}

/// The input as one image, a stack of images, one volume or a stack of volumes.
enum Images {
    Single(Array2<f32>),
    Batch(Array3<f32>),
    Volume(Array3<f32>),
    VolumeBatch(ndarray::Array4<f32>),
}

impl Images {
    fn shape(&self) -> Vec<usize> {
        match self {
            Images::Single(a) => a.shape().to_vec(),
            Images::Batch(a) | Images::Volume(a) => a.shape().to_vec(),
            Images::VolumeBatch(a) => a.shape().to_vec(),
        }
    }
    /// Names of the axes, outermost first, for messages.
    fn axes(&self) -> &'static [&'static str] {
        match self {
            Images::Single(_) => &["row", "column"],
            Images::Batch(_) => &["image", "row", "column"],
            Images::Volume(_) => &["slice", "row", "column"],
            Images::VolumeBatch(_) => &["volume", "slice", "row", "column"],
        }
    }
}

/// The one 2D map `loss` and `repair` work on.
fn single_map(input: &Input) -> CliResult<Array2<f32>> {
    match &input.images {
        Images::Single(a) => Ok(a.clone()),
        Images::Volume(_) => Err(fail(format!(
            "'{}': repair works on 2D maps only (a volume was given)",
            input.name
        ))),
        _ => Err(fail("expected a single 2D map")),
    }
}

/// The images and where they came from (for messages).
struct Input {
    name: String,
    images: Images,
}

/// `--timings`: wall time, and the GPU stages when the adapter could time them.
fn print_timings(ctx: &Context, diagrams: &[Diagram], wall_s: f64, stages: Option<[f64; 3]>) {
    let ms = |s: f64| format!("{:.3} ms", s * 1e3);
    let backend = answered_by(ctx, diagrams);
    let mut line = format!("wgpu-persistence: timings: wall {} ({backend})", ms(wall_s));
    // the dual graph gives H1 of an image, H2 of a volume (whose H1 is reduced on the host)
    let volume = diagrams.first().is_some_and(|d| d.shape.len() == 3);
    let (ranking_label, dual) = if volume {
        ("ranking and H1 apparent pairs", "H2")
    } else {
        ("ranking", "H1")
    };
    match stages {
        Some([ranking, h0, h1]) => line.push_str(&format!(
            "; GPU stages (timestamp queries): {ranking_label} {}, H0 pairing {}, {dual} pairing {}, sum {}",
            ms(ranking),
            ms(h0),
            ms(h1),
            ms(ranking + h0 + h1)
        )),
        None if backend == Backend::Gpu => {
            line.push_str("; the adapter offers no timestamp queries: no per-stage GPU times")
        }
        None => {}
    }
    let _ = writeln!(io::stderr(), "{line}");
}

/// Which backend computed the diagrams (as each diagram says).
fn answered_by(ctx: &Context, diagrams: &[Diagram]) -> Backend {
    diagrams.first().map_or(ctx.backend(), |d| d.backend)
}

/// The diagrams of the input, with the run statistics: validation (a copy of the pixels, except
/// for a single f32 image on the CPU backend, as in the library) and the computation.
fn compute(ctx: &Context, input: &Input, options: &Options) -> CliResult<(Vec<Diagram>, RunStats)> {
    if let (Images::Single(a), Backend::Cpu) = (&input.images, ctx.backend()) {
        // what a library caller gets from `compute` (the CPU backend reads an f32 image in place)
        return ctx
            .compute(a.view(), options)
            .map(|d| (vec![d], RunStats::default()))
            .map_err(|e| describe_error(e, input));
    }
    let stack = match &input.images {
        Images::Single(a) => wgpu_persistence::image::from_view2(a.view()),
        Images::Batch(a) => wgpu_persistence::image::from_view3(a.view()),
        Images::Volume(a) => wgpu_persistence::image::from_volume_view(a.view()),
        Images::VolumeBatch(a) => wgpu_persistence::image::from_volume_batch_view(a.view()),
    };
    stack
        .and_then(|stack| ctx.compute_stack(&stack, options))
        .map_err(|e| describe_error(e, input))
}

/// The library's message; for errors about the pixels, with the input's name and the position of
/// a NaN spelled out.
fn describe_error(e: Error, input: &Input) -> CliError {
    let name = &input.name;
    match e {
        Error::Empty { .. } => fail(format!("'{name}': {e}")),
        Error::NanPixel { index } => {
            // the index spelled out along each axis, innermost last
            let shape = input.images.shape();
            let mut rest = index;
            let mut parts: Vec<String> = Vec::new();
            for (&n, axis) in shape.iter().zip(input.images.axes()).rev() {
                parts.push(format!("{axis} {}", rest % n.max(1)));
                rest /= n.max(1);
            }
            parts.reverse();
            fail(format!("'{name}': {e} ({})", parts.join(", ")))
        }
        other => other.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Input

fn load_input(args: &ComputeArgs) -> CliResult<Input> {
    let (name, values) = match &args.input {
        None => (
            SAMPLE_NAME.to_string(),
            decode_image(SAMPLE_PNG, ImageFormat::Png, SAMPLE_NAME)?,
        ),
        Some(path) => (path.display().to_string(), load_file(path)?),
    };
    match to_images(values, Some(args.batch)) {
        Ok(images) => Ok(Input { name, images }),
        Err(e) => Err(fail(format!("'{name}': {e}"))),
    }
}

/// A probability map: a 2D .npy as is, or a PNG/TIFF scaled to [0,1] (by 255 or 65535).
fn load_map(path: &Path) -> CliResult<Input> {
    let name = path.display().to_string();
    let (values, full_scale) = load_file_scaled(path)?;
    let values = match full_scale {
        Some(scale) => values.mapv(|v| v / scale),
        None => values,
    };
    match to_images(values, None) {
        Ok(images) => Ok(Input { name, images }),
        Err(e) => Err(fail(format!("'{name}': {e}"))),
    }
}

fn load_file(path: &Path) -> CliResult<ArrayD<f32>> {
    load_file_scaled(path).map(|(values, _)| values)
}

/// The file's values, and for an image file its full-scale value (255 or 65535).
fn load_file_scaled(path: &Path) -> CliResult<(ArrayD<f32>, Option<f32>)> {
    let name = path.display().to_string();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match extension.as_deref() {
        Some("npy") => None,
        Some("png") => Some(ImageFormat::Png),
        Some("tif" | "tiff") => Some(ImageFormat::Tiff),
        _ => {
            return Err(fail(format!(
                "'{name}': unsupported file type (expected .npy, .png, .tif or .tiff)"
            )))
        }
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read '{name}': {e}")))?;
    match format {
        None => npy::read_f32(&bytes)
            .map(|values| (values, None))
            .map_err(|e| fail(format!("'{name}': {e}"))),
        Some(format) => {
            decode_image_scaled(&bytes, format, &name).map(|(values, scale)| (values, Some(scale)))
        }
    }
}

/// Decode an 8- or 16-bit grayscale PNG/TIFF into an `H x W` array.
fn decode_image(bytes: &[u8], format: ImageFormat, name: &str) -> CliResult<ArrayD<f32>> {
    decode_image_scaled(bytes, format, name).map(|(values, _)| values)
}

/// Decode an 8- or 16-bit grayscale PNG/TIFF, with its full-scale value (255 or 65535).
fn decode_image_scaled(
    bytes: &[u8],
    format: ImageFormat,
    name: &str,
) -> CliResult<(ArrayD<f32>, f32)> {
    let image = ImageReader::with_format(Cursor::new(bytes), format)
        .decode()
        .map_err(|e| fail(format!("cannot decode '{name}': {e}")))?;
    let shape = IxDyn(&[image.height() as usize, image.width() as usize]);
    let (values, scale): (Vec<f32>, f32) = match image {
        DynamicImage::ImageLuma8(buffer) => (
            buffer.into_raw().into_iter().map(Pixel::to_f32).collect(),
            255.0,
        ),
        DynamicImage::ImageLuma16(buffer) => (
            buffer.into_raw().into_iter().map(Pixel::to_f32).collect(),
            65535.0,
        ),
        other => {
            return Err(fail(format!(
                "'{name}' is not a grayscale image (colour type {:?}); only 8- and 16-bit \
                 grayscale images are accepted: convert it to grayscale first",
                other.color()
            )))
        }
    };
    ArrayD::from_shape_vec(shape, values)
        .map(|values| (values, scale))
        .map_err(|e| fail(format!("'{name}': {e}")))
}

/// Check the number of dimensions: a 2D image or a 3D volume; with `--batch` a 3D stack of images
/// (a 2D image is then a stack of one) or a 4D stack of volumes.
/// `batch`: the value of `--batch`, or `None` for a command that has no such flag (a map).
fn to_images(values: ArrayD<f32>, batch: Option<bool>) -> Result<Images, String> {
    let has_flag = batch.is_some();
    let batch = batch.unwrap_or(false);
    let shape = values.shape().to_vec();
    let bad = |e: ndarray::ShapeError| format!("{e} (shape {shape:?})");
    match (shape.len(), batch) {
        (2, false) => values
            .into_dimensionality::<Ix2>()
            .map(Images::Single)
            .map_err(bad),
        (2, true) => values
            .insert_axis(Axis(0))
            .into_dimensionality::<Ix3>()
            .map(Images::Batch)
            .map_err(bad),
        (3, true) => values
            .into_dimensionality::<Ix3>()
            .map(Images::Batch)
            .map_err(bad),
        (3, false) => values
            .into_dimensionality::<Ix3>()
            .map(Images::Volume)
            .map_err(bad),
        (4, true) => values
            .into_dimensionality::<ndarray::Ix4>()
            .map(Images::VolumeBatch)
            .map_err(bad),
        (4, false) if has_flag => Err(format!(
            "expected a 2D image or a 3D volume, got a 4D array (shape {shape:?}); pass --batch \
             to treat it as a stack of volumes"
        )),
        (n, true) => Err(format!(
            "expected, with --batch, a 3D stack of images or a 4D stack of volumes; got a {n}D \
             array (shape {shape:?})"
        )),
        (n, false) => Err(format!(
            "expected a 2D image or a 3D volume, got a {n}D array (shape {shape:?})"
        )),
    }
}

/// Reading `.npy` files of the pixel types the library accepts, without trusting the header's shape
/// for an allocation before the file is known to hold that much data.
mod npy {
    use ndarray::ArrayD;
    use ndarray_npy::{ReadNpyExt, ReadableElement};
    use wgpu_persistence::image::Pixel;

    const MAGIC: &[u8] = b"\x93NUMPY";
    const SUPPORTED: &str = "float32, float64, uint8, uint16, int16, int32";

    #[derive(Debug, Clone, Copy)]
    enum Dtype {
        F32,
        F64,
        U8,
        U16,
        I16,
        I32,
    }

    impl Dtype {
        /// The descriptors `ndarray-npy` reads for each type.
        fn from_descr(descr: &str) -> Option<Self> {
            Some(match descr {
                "<f4" | ">f4" => Self::F32,
                "<f8" | ">f8" => Self::F64,
                "|u1" | "u1" | "B" => Self::U8,
                "<u2" | ">u2" => Self::U16,
                "<i2" | ">i2" => Self::I16,
                "<i4" | ">i4" => Self::I32,
                _ => return None,
            })
        }

        fn size(self) -> usize {
            match self {
                Self::U8 => 1,
                Self::U16 | Self::I16 => 2,
                Self::F32 | Self::I32 => 4,
                Self::F64 => 8,
            }
        }
    }

    /// What the CLI needs from the header: the type, the shape, where the data start.
    struct Header {
        descr: String,
        shape: Vec<usize>,
        data_offset: usize,
    }

    /// Read a `.npy` file of any supported dtype as `f32` (converted as the library converts).
    pub fn read_f32(bytes: &[u8]) -> Result<ArrayD<f32>, String> {
        let header = parse_header(bytes)?;
        let dtype = Dtype::from_descr(&header.descr).ok_or_else(|| {
            format!(
                "unsupported dtype '{}' (supported: {SUPPORTED})",
                header.descr
            )
        })?;
        let needed = header
            .shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| format!("shape {:?} is too large", header.shape))?;
        let available = bytes.len() - header.data_offset;
        if needed > available {
            return Err(format!(
                "truncated .npy file: shape {:?} of '{}' needs {needed} bytes of data, the file has {available}",
                header.shape, header.descr
            ));
        }
        match dtype {
            Dtype::F32 => convert::<f32>(bytes),
            Dtype::F64 => convert::<f64>(bytes),
            Dtype::U8 => convert::<u8>(bytes),
            Dtype::U16 => convert::<u16>(bytes),
            Dtype::I16 => convert::<i16>(bytes),
            Dtype::I32 => convert::<i32>(bytes),
        }
    }

    fn convert<T: ReadableElement + Pixel>(bytes: &[u8]) -> Result<ArrayD<f32>, String> {
        let array = ArrayD::<T>::read_npy(bytes).map_err(|e| format!("invalid .npy file: {e}"))?;
        Ok(array.mapv(Pixel::to_f32))
    }

    fn parse_header(bytes: &[u8]) -> Result<Header, String> {
        if !bytes.starts_with(MAGIC) || bytes.len() < 10 {
            return Err("not a .npy file (missing the \\x93NUMPY magic string)".into());
        }
        let (len, start): (usize, usize) = match bytes[6] {
            1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
            2 | 3 => match bytes.get(8..12) {
                Some(&[a, b, c, d]) => (u32::from_le_bytes([a, b, c, d]) as usize, 12),
                _ => return Err("truncated .npy header".into()),
            },
            v => return Err(format!("unsupported .npy format version {v}")),
        };
        let end = start
            .checked_add(len)
            .filter(|&end| end <= bytes.len())
            .ok_or("truncated .npy header")?;
        let text =
            std::str::from_utf8(&bytes[start..end]).map_err(|_| "the .npy header is not text")?;
        Ok(Header {
            descr: string_value(text, "descr")?,
            shape: tuple_value(text, "shape")?,
            data_offset: end,
        })
    }

    /// The text after `'key':` in the header dictionary.
    fn value_after<'a>(text: &'a str, key: &str) -> Result<&'a str, String> {
        ['\'', '"']
            .iter()
            .find_map(|q| {
                let pattern = format!("{q}{key}{q}");
                let at = text.find(&pattern)?;
                text[at + pattern.len()..].trim_start().strip_prefix(':')
            })
            .map(str::trim_start)
            .ok_or_else(|| format!("the .npy header has no '{key}' entry"))
    }

    fn string_value(text: &str, key: &str) -> Result<String, String> {
        let value = value_after(text, key)?;
        let unsupported = || {
            format!(
                "unsupported dtype (structured or non-string descriptor; supported: {SUPPORTED})"
            )
        };
        let quote = value
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
            .ok_or_else(unsupported)?;
        let body = &value[1..];
        let close = body.find(quote).ok_or_else(unsupported)?;
        Ok(body[..close].to_string())
    }

    fn tuple_value(text: &str, key: &str) -> Result<Vec<usize>, String> {
        let value = value_after(text, key)?;
        let body = value
            .strip_prefix('(')
            .and_then(|rest| rest.split_once(')'))
            .map(|(body, _)| body)
            .ok_or_else(|| format!("cannot parse the .npy '{key}' entry"))?;
        body.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| format!("cannot parse the .npy '{key}' entry ('{s}')"))
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Output

/// Run `write` on the output file, or on stdout. A closed stdout (`| head`) is not an error.
fn write_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> CliResult<()> {
    match path {
        Some(path) => {
            let name = path.display();
            let file =
                File::create(path).map_err(|e| fail(format!("cannot create '{name}': {e}")))?;
            let mut out = BufWriter::new(file);
            write(&mut out)
                .and_then(|()| out.flush())
                .map_err(|e| fail(format!("cannot write '{name}': {e}")))
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            match write(&mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(fail(format!("cannot write to stdout: {e}")))
                }
                _ => Ok(()),
            }
        }
    }
}

/// CSV rows; `f32` Display is the shortest decimal that parses back to the same value (`inf`, `-inf`).
fn write_csv(w: &mut dyn Write, diagrams: &[Diagram], batch: bool) -> io::Result<()> {
    if batch {
        w.write_all(b"image,")?;
    }
    writeln!(w, "dim,birth,death,birth_index,death_index")?;
    for (image, diagram) in diagrams.iter().enumerate() {
        for (dim, pairs) in diagram.pairs.iter().enumerate() {
            for p in pairs {
                if batch {
                    write!(w, "{image},")?;
                }
                write!(w, "{dim},{},{},{},", p.birth, p.death, p.birth_index)?;
                match p.death_index {
                    Some(i) => writeln!(w, "{i}")?,
                    None => writeln!(w)?,
                }
            }
        }
    }
    Ok(())
}

/// An `f32` as a JSON number, or as the string `"inf"` / `"-inf"` (JSON has no infinity).
struct JsonF32(f32);

impl Serialize for JsonF32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            v if v.is_finite() => s.serialize_f32(v),
            v if v == f32::INFINITY => s.serialize_str("inf"),
            v if v == f32::NEG_INFINITY => s.serialize_str("-inf"),
            _ => s.serialize_str("nan"),
        }
    }
}

#[derive(Serialize)]
struct JsonPair {
    birth: JsonF32,
    death: JsonF32,
    birth_index: usize,
    death_index: Option<usize>,
}

#[derive(Serialize)]
struct JsonDiagram<'a> {
    shape: &'a [usize],
    backend: String,
    pairs: Vec<Vec<JsonPair>>,
}

impl<'a> From<&'a Diagram> for JsonDiagram<'a> {
    fn from(d: &'a Diagram) -> Self {
        let pairs = d
            .pairs
            .iter()
            .map(|dim| {
                dim.iter()
                    .map(|p| JsonPair {
                        birth: JsonF32(p.birth),
                        death: JsonF32(p.death),
                        birth_index: p.birth_index,
                        death_index: p.death_index,
                    })
                    .collect()
            })
            .collect();
        JsonDiagram {
            shape: &d.shape,
            backend: d.backend.to_string(),
            pairs,
        }
    }
}

fn write_json(w: &mut dyn Write, diagrams: &[Diagram], batch: bool) -> io::Result<()> {
    let json: Vec<JsonDiagram<'_>> = diagrams.iter().map(JsonDiagram::from).collect();
    match (batch, json.as_slice()) {
        (false, [single]) => serde_json::to_writer(&mut *w, single)?,
        _ => serde_json::to_writer(&mut *w, &json)?,
    }
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 3.0, 10.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn infinities_are_strings_in_json() {
        let text = serde_json::to_string(&[
            JsonF32(1.5),
            JsonF32(f32::INFINITY),
            JsonF32(f32::NEG_INFINITY),
        ])
        .expect("serialises");
        assert_eq!(text, r#"[1.5,"inf","-inf"]"#);
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
