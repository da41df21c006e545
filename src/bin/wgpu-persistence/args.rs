//! The command line: subcommands, their arguments and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use wgpu_persistence::{BackendChoice, Construction, LossKind, RepairOptions};

pub(crate) const DIAGRAM_HELP: &str = "\
INPUT:
  .npy           2D array of float32, float64, uint8, uint16, int16 or int32 (any byte order,
                 C or Fortran order), or a 3D array D x H x W: a volume (V or T construction;
                 its diagram has H0, H1 and H2). With --batch a 3D array B x H x W is a stack of
                 2D images (a 2D array is then a stack of one) and a 4D array B x D x H x W a
                 stack of volumes.
  .png .tif .tiff  8- or 16-bit grayscale (a TIFF also 32-bit float; a PNG of 1, 2 or 4 bits is
                 widened to 8, a transparent grey level is ignored). A TIFF of several pages is
                 a volume D x H x W (with --batch, a stack of images). Colour, palette and
                 grey+alpha images are rejected, not converted: convert them to grayscale yourself
                 so you know which values you analyse.
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

pub(crate) const TIME_HELP: &str = "\
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

pub(crate) const MAP_INPUT_HELP: &str = "\
INPUT (a probability map: a 2D image or a 3D volume D x H x W; with --batch a 3D stack of maps or a
4D stack of volumes):
  .npy           float32, float64, uint8, uint16, int16 or int32, taken as is. Every value must lie
                 in [0,1] (a uint8 .npy holds 0..255: divide it by 255 first; scores from a network:
                 apply its sigmoid or softmax); anything else, infinities included, is an error.
  .png .tif .tiff  8- or 16-bit grayscale, mapped to [0,1]: 8-bit values are divided by 255,
                 16-bit values by 65535; a 32-bit float grayscale TIFF is taken as is. A TIFF of
                 several pages is a volume (with --batch, a stack of maps). Colour images are
                 rejected.
--betti B0,B1[,B2]: the prior Betti numbers of the superlevel sets of the map (B0 components,
  B1 holes, B2 voids of a volume; a B2 is ignored in 2D), e.g. --betti 1,1 for a ring, 1,0 for a
  disk, 1,0,1 for a hollow ball.";

pub(crate) const LOSS_HELP: &str = "\
Prints the topological loss of Clough et al. (IEEE TPAMI 2022) of the map's superlevel filtration
as the last line of stdout (the shortest decimal that parses back to the same f32); with --batch,
one line per map. A feature the prior asks for and the map lacks costs 1 (a bar of length 0). With
--gradient, writes dL/dp in the input's shape: .npy (float32) or .csv (one line per row).";

pub(crate) const REPAIR_HELP: &str = "\
Projected gradient descent on  loss(q) + W * mean((q - map)^2)  from q = map, q kept in [0,1];
each step moves the pixel with the largest gradient by --lr and the others in proportion. Stops
once the Betti numbers of {q >= t} equal the prior for t = 0.45, 0.5 and 0.55 (or after --steps
steps). The map must hold values in [0,1]; a volume takes a prior B0,B1,B2. Writes the repaired
map (float32 .npy, the input's shape) and prints `key: value` lines: loss_before, loss_after,
betti_before, betti_after (of the 0.5-superlevel set, comma-separated), steps; with --batch the
maps are repaired one by one and each line holds one value per map, separated by spaces. If the
prior is not reached, a warning goes to stderr (exit status 0).";

/// Exact persistent homology of 2D images on the GPU (wgpu) and of 3D volumes, with a native CPU
/// backend.
#[derive(Debug, Parser)]
#[command(name = "wgpu-persistence", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// Draw the persistence diagram, the barcode or the critical pixels of an image (PNG or SVG).
    #[command(after_help = PLOT_HELP)]
    Plot(PlotArgs),
}

pub(crate) const PLOT_HELP: &str = "\
KINDS:
  diagram   birth against death per dimension (H0 circles, H1 triangles, H2 crosses), the diagonal,
            essential classes on a dashed line at the edge; the legend counts the pairs.
  barcode   the --top most persistent pairs of each dimension as bars from birth to death
            (essential ones run to the edge).
  overlay   the input in grey with the birth (circles) and death (crosses) pixels of the --top most
            persistent pairs of each dimension; a volume as its maximum-intensity projection (or
            --slice N, with the marks of that slice).
  heatmap   the input as a diverging colour map around 0 (blue negative, red positive) with its
            scale: for the gradient map written by `loss --gradient`; a volume's --slice (default:
            the slice where the values are largest). Computes no diagram.
  all       diagram, barcode and overlay side by side.
With --batch, one picture per item: OUT_0.png, OUT_1.png, ... The output's extension picks the
format (.png or .svg); the default is NAME_KIND.png in the current directory, NAME being the
input's file name without its extension (`sample` for the bundled sample). Inputs as for `diagram`.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlotKind {
    /// Birth against death.
    Diagram,
    /// The most persistent pairs as bars.
    Barcode,
    /// The input with its critical pixels.
    Overlay,
    /// A diverging colour map of the input (a gradient map).
    Heatmap,
    /// Diagram, barcode and overlay side by side.
    All,
}

impl PlotKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            PlotKind::Diagram => "diagram",
            PlotKind::Barcode => "barcode",
            PlotKind::Overlay => "overlay",
            PlotKind::Heatmap => "heatmap",
            PlotKind::All => "all",
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct PlotArgs {
    #[command(flatten)]
    pub(crate) compute: ComputeArgs,
    /// What to draw.
    #[arg(long, short = 'k', value_enum, ignore_case = true, default_value_t = PlotKind::Diagram)]
    pub(crate) kind: PlotKind,
    /// The picture: .png or .svg (default: NAME_KIND.png).
    #[arg(long, short = 'o', value_name = "OUT.png|OUT.svg")]
    pub(crate) output: Option<PathBuf>,
    /// The dimensions to draw, comma-separated (default: all).
    #[arg(long, value_name = "0,1,2")]
    pub(crate) dims: Option<String>,
    /// How many of the most persistent pairs per dimension the barcode and the overlay show.
    #[arg(long, default_value_t = 30)]
    pub(crate) top: usize,
    /// A volume's slice to show in the overlay or the heatmap.
    #[arg(long)]
    pub(crate) slice: Option<usize>,
    /// The picture's size in pixels, WIDTHxHEIGHT (default by kind, e.g. 800x700 for a diagram).
    #[arg(long, value_name = "WxH")]
    pub(crate) size: Option<String>,
}

/// The map and the prior: shared by `loss` and `repair`.
#[derive(Debug, Args)]
pub(crate) struct PriorArgs {
    /// Treat a 3D input (B x H x W) as a stack of 2D maps and a 4D input (B x D x H x W) as a stack
    /// of volumes, each with the prior.
    #[arg(long)]
    pub(crate) batch: bool,
    /// Input probability map: .npy (as is), .png, .tif or .tiff (scaled to [0,1]).
    pub(crate) input: PathBuf,
    /// Prior Betti numbers B0,B1[,B2] (comma-separated non-negative integers).
    #[arg(long, value_name = "B0,B1", allow_hyphen_values = true)]
    pub(crate) betti: String,
    /// Cell complex built on the pixel grid.
    #[arg(long, short = 'c', value_enum, ignore_case = true, default_value_t = ConstructionArg::V)]
    pub(crate) construction: ConstructionArg,
    /// Where to compute.
    #[arg(long, short = 'b', value_enum, ignore_case = true, default_value_t = BackendArg::Auto)]
    pub(crate) backend: BackendArg,
    /// Penalty: squared (the paper's) or l1.
    #[arg(long, value_enum, ignore_case = true, default_value_t = KindArg::Squared)]
    pub(crate) kind: KindArg,
}

#[derive(Debug, Args)]
pub(crate) struct LossArgs {
    #[command(flatten)]
    pub(crate) prior: PriorArgs,
    /// Write the gradient dL/dp (float32, the input's shape) to this file: .npy, or .csv (one line
    /// per row of the map, the rows of a volume's slices and of a batch's maps one after another).
    #[arg(long, value_name = "OUT.npy|OUT.csv")]
    pub(crate) gradient: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RepairArgs {
    #[command(flatten)]
    pub(crate) prior: PriorArgs,
    /// Write the repaired map (float32 .npy) here.
    #[arg(long, short = 'o', value_name = "OUT.npy")]
    pub(crate) output: PathBuf,
    /// The most gradient steps.
    #[arg(long, default_value_t = RepairOptions::default().steps)]
    pub(crate) steps: usize,
    /// How far the pixel with the largest gradient moves per step.
    #[arg(long, default_value_t = RepairOptions::default().lr)]
    pub(crate) lr: f32,
    /// Weight W of the fidelity term W * mean((q - map)^2).
    #[arg(long, default_value_t = RepairOptions::default().fidelity)]
    pub(crate) fidelity: f32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KindArg {
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
pub(crate) struct ComputeArgs {
    /// Input .npy, .png, .tif or .tiff (default: the bundled sample photograph).
    pub(crate) input: Option<PathBuf>,
    /// Cell complex built on the pixel grid.
    #[arg(long, short = 'c', value_enum, ignore_case = true, default_value_t = ConstructionArg::V)]
    pub(crate) construction: ConstructionArg,
    /// Superlevel filtration (the sublevel filtration of -f, reported in values of f).
    #[arg(long)]
    pub(crate) superlevel: bool,
    /// Where to compute.
    #[arg(long, short = 'b', value_enum, ignore_case = true, default_value_t = BackendArg::Auto)]
    pub(crate) backend: BackendArg,
    /// Treat a 3D .npy (B x H x W) as a stack of 2D images and a 4D .npy (B x D x H x W) as a stack
    /// of volumes, one diagram each.
    #[arg(long)]
    pub(crate) batch: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DiagramArgs {
    #[command(flatten)]
    pub(crate) compute: ComputeArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = Format::Csv)]
    pub(crate) format: Format,
    /// Keep pairs whose birth equals their death (dropped by default).
    #[arg(long)]
    pub(crate) keep_zero: bool,
    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub(crate) output: Option<PathBuf>,
    /// Print the wall time and, on the GPU, the time of each stage (timestamp queries) to stderr.
    #[arg(long)]
    pub(crate) timings: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TimeArgs {
    #[command(flatten)]
    pub(crate) compute: ComputeArgs,
    /// Number of timed runs after the warm-up runs.
    #[arg(long, short = 'n', default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) repeat: u32,
    /// Number of untimed runs first: the first allocates the workspace and compiles the pipelines;
    /// the next let the process's allocator settle (glibc's malloc raises its mmap and trim
    /// thresholds over the first few calls, and until then the large result vectors fault in fresh
    /// pages on every call: about 1,600 page faults a call on a 1024x1024 noise image). `0` times
    /// the first call of the process too, as a one-shot `diagram` pays it (not with `--loss`).
    #[arg(long, default_value_t = 3)]
    pub(crate) warmup: u32,
    /// Time the topological loss with this prior and its gradient map instead of the diagram alone:
    /// end to end, from the host array to the gradient on the host (superlevel, as the loss is).
    /// The input is read as `loss` reads a map: an 8- or 16-bit image, the bundled sample too, is
    /// scaled to [0, 1].
    #[arg(long, value_name = "B0,B1")]
    pub(crate) loss: Option<String>,
    /// With `--loss` and `--batch` on the GPU: time one training step on the device instead (a
    /// resident plan: the maps already in a device buffer, the losses and the gradient left in
    /// another; one 160-byte status read per step), not from and to host arrays.
    #[arg(long, requires_all = ["loss", "batch"])]
    pub(crate) resident: bool,
    /// Also print the median time of each GPU stage (timestamp queries) to stderr.
    #[arg(long)]
    pub(crate) timings: bool,
    /// Time every GPU kernel too (a timestamp after each dispatch, summed per kernel) and report
    /// the medians as `gpu_kernel_median_s`. The timestamps cost time of their own: the wall and
    /// stage times of such a run are not those of an untimed one.
    #[arg(long)]
    pub(crate) kernel_timings: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ConstructionArg {
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
pub(crate) enum BackendArg {
    /// A hardware GPU when one is found, else the CPU (a software adapter such as llvmpipe is
    /// skipped: the CPU backend is faster); WGPU_PERSISTENCE_BACKEND can change what it means.
    Auto,
    /// Any GPU adapter, a software one too, or an error when there is none.
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
pub(crate) enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// JSON (infinities as the strings "inf" / "-inf").
    Json,
}
