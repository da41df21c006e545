//! The GPU backend: WGSL kernels on a wgpu device.
//!
//! - [`engine`]: the [`engine::GpuEngine`] and its run: upload, record, submit, read the control words,
//!   run again with more rounds where a graph needs them;
//! - `record`: what one submission records (the ranking pass, one pass per graph);
//! - `readback`: the pair records, the pairing state or the apparent pairs, read back;
//! - [`workspace`]: the buffers and bind groups of one batch shape, and the limits it must fit;
//! - [`kernels`]: one struct per shader, bound by name;
//! - [`timing`]: the optional timestamp queries; [`buffers`]: making and mapping buffers;
//! - `resident`: a plan's stages recorded into the caller's encoder, outputs left on the device;
//!   `resident_loss`: its topological loss;
//! - `scatter`: the loss's gradient scatter; `probes`: the kernel tests' hooks.

pub(crate) mod buffers;
pub(crate) mod engine;
pub(crate) mod kernels;
mod probes;
mod readback;
mod record;
pub(crate) mod resident;
pub(crate) mod resident_loss;
mod scatter;
pub(crate) mod timing;
pub(crate) mod workspace;

pub(crate) use engine::{GpuEngine, GpuPairs, GpuRun, PairingReadback};
pub use timing::KernelTime;
pub use workspace::CapacityOverride;

/// Statistics of the last GPU run (zero on the CPU backend), for tests, benches and `time`.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    /// Borůvka rounds of the primal and the dual graph.
    pub rounds: [u32; 2],
    /// Submissions made for the diagrams (the copy of the pair records comes after them).
    pub submissions: u32,
    /// GPU time of the ranking (keys, sort, ranks), the H0 pairing and the dual pairing (H1 of images,
    /// H2 of volumes; each with its compaction), from timestamp queries, summed over the run's
    /// submissions, when the adapter offers them.
    pub stage_seconds: Option<[f64; 3]>,
    /// GPU time of every kernel over all submissions of the run, in order of first dispatch, when
    /// asked for ([`crate::Context::set_kernel_timings`]) and the device can time inside passes.
    pub kernel_seconds: Option<Vec<KernelTime>>,
    /// With [`Self::kernel_seconds`]: dispatches past the 4096 timestamps a submission can hold,
    /// which no kernel's time includes (0 when every dispatch was timed).
    pub untimed_dispatches: u32,
    /// Bytes the host read back from the device in the call (mapped buffers): control words, pair
    /// records or pairing state, and for a loss the gradient. A resident plan's
    /// [`crate::ResidentPlan::finish`] maps the control words only.
    pub bytes_mapped: u64,
    /// Bytes the host wrote to the device in the call (`queue.write_buffer`): the pixels, the
    /// parameters and control words, and for a loss the gradient's contributions.
    pub bytes_written: u64,
}
