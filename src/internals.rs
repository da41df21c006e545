//! Test and bench hooks (hidden from the docs; not part of the API).

pub use crate::cpu::image::{persistence_pairs_with, Labelling};
pub use crate::cpu::ports;
pub use crate::cpu::reference;
pub use crate::cpu::union_find::{elder_pairs, elder_pairs_by_pixel, ElderPair};
pub use crate::cpu::volume;
pub use crate::diagram::{assemble, RawPair};
pub use crate::gpu::CapacityOverride;
pub use crate::grid::{square_facets, GraphKind, Grid, NONE, SLOTS};
pub use crate::input::MAX_PIXELS;
/// The Rust mirror of the WGSL contracts.
pub mod layout {
    pub use crate::layout::*;
}

use crate::diagram::RawPair as Raw;
use crate::gpu::{GpuPairs, RunStats};
use crate::input::{Shape, Stack};
use crate::{Context, Error, Options, Result};

fn engine(ctx: &Context) -> Result<&crate::gpu::GpuEngine> {
    ctx.engine()
        .ok_or_else(|| Error::InvalidArgument("this hook needs a GPU context".into()))
}

/// A stack of `count` items of `shape`, validated as the API validates its inputs.
fn stack(values: &[f32], count: usize, shape: Shape) -> Result<Stack> {
    let dims = [vec![count], shape.dims()].concat();
    let view = ndarray::ArrayViewD::from_shape(dims, values)
        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    Stack::batch(view)
}

/// The first rounds the GPU records for a new shape (at least this many).
pub const INITIAL_ROUNDS: u32 = crate::gpu::workspace::INITIAL_ROUNDS;

/// The GPU ranking of a stack read back: `(rank, order)`.
pub fn gpu_ranks(
    ctx: &Context,
    values: &[f32],
    count: usize,
    shape: Shape,
    options: &Options,
) -> Result<(Vec<u32>, Vec<u32>)> {
    engine(ctx)?.ranks(&stack(values, count, shape)?, options)
}

/// The GPU pairing state of graph `which` after the ranking and `rounds` rounds: `(parent, death)`.
pub fn gpu_pairing_state(
    ctx: &Context,
    values: &[f32],
    count: usize,
    shape: Shape,
    options: &Options,
    which: usize,
    rounds: u32,
) -> Result<(Vec<u32>, Vec<u32>)> {
    engine(ctx)?.pairing_state(&stack(values, count, shape)?, options, which, rounds)
}

/// What one GPU run gives the pipeline: the raw pairs of every item (compacted on the host where
/// the engine left a pairing state), H1's apparent pairs of every volume, the statistics.
#[derive(Debug)]
pub struct GpuRaw {
    /// Per item.
    pub pairs: Vec<Vec<Raw>>,
    /// Per volume.
    pub apparent: Vec<Vec<u32>>,
    /// The run's statistics.
    pub stats: RunStats,
}

/// One GPU run of a stack, before values are attached.
pub fn gpu_raw_pairs(
    ctx: &Context,
    values: &[f32],
    count: usize,
    shape: Shape,
    options: &Options,
) -> Result<GpuRaw> {
    let stack = stack(values, count, shape)?;
    let run = engine(ctx)?.run(&stack, options)?;
    let pairs = match run.pairs {
        GpuPairs::Records(raw) => raw,
        GpuPairs::State(state) => crate::pipeline::compact_on_host(&state, &stack, options)?,
    };
    Ok(GpuRaw {
        pairs,
        apparent: run.apparent,
        stats: run.stats,
    })
}

/// The GPU's gradient scatter: `len` values from contributions sorted by pixel.
pub fn gpu_gradient_scatter(
    ctx: &Context,
    pixels: &[u32],
    values: &[f32],
    len: usize,
) -> Result<Vec<f32>> {
    engine(ctx)?.gradient_scatter(pixels, values, len)
}

/// Runs one GPU kernel alone on the given binding contents (words, in binding order; storage
/// bindings are read back into them): the kernel tests hold each kernel to its port with it.
pub fn gpu_run_kernel(
    ctx: &Context,
    name: &str,
    constants: &[(&str, f64)],
    buffers: &mut [Vec<u32>],
    groups: (u32, u32),
) -> Result<()> {
    engine(ctx)?.run_kernel(name, constants, buffers, groups)
}

/// Caps capacities below the adapter's for the next calls of a GPU context.
pub fn set_capacity_override(ctx: &Context, capacity: CapacityOverride) {
    ctx.set_capacity_override(capacity);
}

/// The GPU context's device (to destroy it, in the lost-device test).
pub fn gpu_device(ctx: &Context) -> Option<&wgpu::Device> {
    ctx.engine().map(|e| e.device())
}

/// Sets the hooking rounds a resident plan records (for tests of its reruns).
pub fn set_resident_rounds(plan: &crate::ResidentPlan, rounds: u32) {
    plan.set_rounds(rounds);
}
