//! [`ResidentPlan`]: the diagrams of a batch whose pixels are already on the device (a training
//! step's probability maps, a renderer's image), recorded into the caller's encoder from the caller's
//! buffer, with the pair records left on the device. The contract (who owns what, when results are
//! valid): `docs/resident.md`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::diagram::{assemble, Backend, Diagram};
use crate::gpu::resident::{
    check_range, LossTargets, Resident, ResidentReadback, Target, STATUS_BYTES,
};
use crate::gpu::{GpuEngine, RunStats};
use crate::input::{Domain, Shape};
use crate::layout::{CONTROL_WORDS, C_PAIRS};
use crate::loss::check_priors;
use crate::options::Options;
use crate::options::TopologicalLoss;
use crate::pipeline::volume_diagrams;
use crate::{Error, Result};

/// The largest prior Betti number a resident plan takes: its selection makes one round over the
/// map's pair records per feature kept.
pub const MAX_RESIDENT_BETA: usize = 1024;

/// The priors a resident plan of `images` maps takes: [`check_priors`]'s rules, at most
/// [`MAX_RESIDENT_BETA`] features per map and dimension, one kind for all.
fn check_resident_priors(priors: &[TopologicalLoss], images: usize) -> Result<()> {
    check_priors(priors, images)?;
    if let Some(beta) = priors
        .iter()
        .flat_map(|p| p.betti.iter().take(2))
        .find(|&&b| b > MAX_RESIDENT_BETA)
    {
        return Err(Error::InvalidArgument(format!(
            "a prior Betti number of {beta}: a resident plan keeps at most {MAX_RESIDENT_BETA} \
             features per map and dimension (each is a round over the map's pairs); \
             topological_loss_batch takes any"
        )));
    }
    if priors.iter().any(|p| p.kind != priors[0].kind) {
        return Err(Error::InvalidArgument(
            "all priors of a resident plan must use the same kind (squared or L1)".into(),
        ));
    }
    Ok(())
}

/// A reusable plan for the diagrams of `B x H x W` images (or `B x D x H x W` volumes) of one shape
/// and [`Options`], on a GPU context's device: it owns every scratch buffer and its outputs, and
/// records all of its work into an encoder the caller owns and submits. Made by
/// [`crate::Context::resident_plan`].
///
/// Volumes: H0 and H2 are paired on the device and their records stay there, as for images; H1 of
/// a volume needs the host (a column reduction over the squares that the two graphs did not pair),
/// so it is computed by [`Self::read_diagrams`], from the records and the apparent pairs that the
/// recorded work found. A volume plan computes diagrams only (no loss).
///
/// One step: [`Self::record`] (no submission, no map; a 16-byte stamp goes up with the work), the
/// caller submits, then [`Self::finish`] maps 160 bytes (control words, the stamp, the loss's
/// flags), waits for the work,
/// and reruns on the context's queue the graphs whose hooking rounds had not converged (rare: the
/// plan records the rounds the shape needed before, and doubles them when a run needs more). After
/// `finish`, the outputs ([`Self::outputs`], [`Self::read_diagrams`]) hold the diagrams of the
/// recorded input, until the next `record`.
///
/// ```no_run
/// # fn main() -> wgpu_persistence::Result<()> {
/// use wgpu_persistence::{BackendChoice, Context, Options};
/// let ctx = Context::with_backend(BackendChoice::Gpu)?;
/// let (device, queue) = ctx.device_and_queue().expect("a GPU context");
/// let plan = ctx.resident_plan(&[8, 64, 64], &Options::default().superlevel())?;
/// // the caller's buffer: other data first, the maps at byte 256
/// let maps = device.create_buffer(&wgpu::BufferDescriptor {
///     label: None,
///     size: 256 + 8 * 64 * 64 * 4,
///     usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
///     mapped_at_creation: false,
/// });
/// let mut encoder = device.create_command_encoder(&Default::default());
/// plan.record(&mut encoder, &maps, 256)?;
/// queue.submit([encoder.finish()]);
/// let status = plan.finish()?;
/// println!("{} H0 and {} H1 pairs", status.pairs[0], status.pairs[1]);
/// let diagrams = plan.read_diagrams()?; // or bind plan.outputs()?.records[k] in a kernel of yours
/// # Ok(())
/// # }
/// ```
pub struct ResidentPlan {
    engine: Arc<GpuEngine>,
    inner: Resident,
    /// Bytes the host wrote since the last finish (the stamps).
    written: AtomicU64,
    /// The recording the last `finish` found done, and what it found: `read_diagrams` after
    /// `finish` maps nothing more of the status.
    finished: Mutex<Option<(u32, crate::gpu::resident::ResidentStatus)>>,
}

impl std::fmt::Debug for ResidentPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResidentPlan")
            .field("shape", &self.shape())
            .field("options", &self.inner.options)
            .finish()
    }
}

/// A range of a caller's buffer: the buffer and the byte offset where the data starts.
#[derive(Debug, Clone, Copy)]
pub struct BufferAt<'a> {
    /// The buffer.
    pub buffer: &'a wgpu::Buffer,
    /// Byte offset (a multiple of 4).
    pub offset: u64,
}

impl<'a> BufferAt<'a> {
    /// `buffer` from byte `offset`.
    pub fn new(buffer: &'a wgpu::Buffer, offset: u64) -> Self {
        Self { buffer, offset }
    }

    /// An output of `bytes` here, checked: `COPY_DST` usage, alignment, room.
    fn target(&self, what: &str, bytes: u64) -> Result<Target> {
        check_range(
            what,
            self.buffer,
            self.offset,
            bytes,
            wgpu::BufferUsages::COPY_DST,
        )?;
        Ok(Target {
            buffer: self.buffer.clone(),
            offset: self.offset,
        })
    }
}

/// What [`ResidentPlan::finish`] found.
#[derive(Debug, Clone)]
pub struct ResidentStatus {
    /// Pair records on the device, per dimension (H0, H1): the records written, zero-persistence
    /// pairs left out unless the options keep them.
    pub pairs: [u32; 2],
    /// Rounds each graph ran, the host's submissions (reruns of graphs that had not converged: 0 in
    /// the common case) and the bytes that crossed the bus for this plan since its last `finish`
    /// (the stamp and any new priors written by `record`, the status mapped by `finish`; counted
    /// by the plan, so calls of other threads on the same context do not add theirs).
    pub stats: RunStats,
}

/// Where a plan leaves its results on the device (clones of the plan's buffers: bind them, copy
/// them; the plan writes them again at the next recording).
///
/// For images, `records[k]` holds the pairs of dimension `k` of the whole batch, in no particular
/// order, as 24-byte records of six `u32` (WGSL `PairRecord`, `shaders/compact_pairs.wgsl`): `image`
/// (item of the batch), `dim` (`k`), `order_hi` and `order_lo` (the ranks of the death and birth
/// pixels in the filtration: ordering by them gives the diagram's order), `birth_index` and
/// `death_index` (row-major pixel of the item; `0xFFFF_FFFF` for an essential class). How many
/// there are is the `u32` at byte [`Self::count_offset`] of `control[k]`.
///
/// For volumes, `records[0]` holds H0 and `records[1]` H2 (the graph of the dual complex), every
/// merge of the pairing, zero-persistence ones included (the host's H1 step needs their cells):
/// the low 8 bits of `dim` are the dimension (0 or 2), the bits above name the merging cell (its
/// slot around the voxel `death_index` for H0, `birth_index` for H2).
#[derive(Debug, Clone)]
pub struct ResidentOutputs {
    /// The pair records of H0 and H1 (of a volume: H0 and H2).
    pub records: [wgpu::Buffer; 2],
    /// The control words of the H0 and H1 pairings (a `u32` array).
    pub control: [wgpu::Buffer; 2],
    /// Byte offset of the record count in each control buffer.
    pub count_offset: u64,
    /// The records of each item and dimension: `B x 2` `u32`, item `b`'s H0 at word `2 b`, its H1
    /// at `2 b + 1`.
    pub counts: wgpu::Buffer,
}

impl ResidentPlan {
    pub(crate) fn new(
        engine: Arc<GpuEngine>,
        dims: &[usize],
        options: &Options,
        losses: Option<&[TopologicalLoss]>,
    ) -> Result<Self> {
        let (images, item) = match dims {
            [b, item @ ..] if matches!(item.len(), 2 | 3) => (*b, item),
            _ => {
                return Err(Error::WrongDimensionality {
                    expected: "3 (B x H x W images) or 4 (B x D x H x W volumes)",
                    got: dims.len(),
                    shape: dims.to_vec(),
                })
            }
        };
        if let Some(priors) = losses {
            check_resident_priors(priors, images)?;
        }
        let inner = engine.resident(images, Shape::of(item)?, options, losses)?;
        Ok(Self {
            engine,
            inner,
            written: AtomicU64::new(0),
            finished: Mutex::new(None),
        })
    }

    /// `[B, H, W]`, or `[B, D, H, W]` for volumes.
    pub fn shape(&self) -> Vec<usize> {
        let mut dims = vec![self.inner.images];
        dims.extend(self.inner.shape.dims());
        dims
    }

    /// The options the plan computes with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// Records the diagrams of the `B x H x W` (or `B x D x H x W`) row-major `f32` maps at byte
    /// `offset` of `input` into `encoder` (the caller submits it). `input` needs `COPY_SRC` usage
    /// (the pixels are copied into the plan: the buffer may hold other tensors that the caller binds
    /// elsewhere), `offset` a multiple of 4, and room for all the values from it; the encoder must
    /// come from the context's device. Nothing is submitted or mapped here.
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        offset: u64,
    ) -> Result<()> {
        self.record_counted(encoder, input, offset, None)
    }

    /// Records the diagrams, then the topological loss of every map (a plan made by
    /// [`crate::Context::resident_loss_plan`]): the loss of map `b` goes to the `f32` at
    /// `losses.offset + 4 b` of `losses.buffer`, and `dL_b/dp` of every pixel to `B x H x W` `f32`
    /// from `gradient.offset` of `gradient.buffer`, row-major as the input. The output buffers need
    /// `COPY_DST` usage and 4-byte aligned offsets; they may be the input's buffer, at ranges that do
    /// not overlap the input's or each other's (an overlap is an error). One recording per
    /// [`Self::finish`]: recording again before it is an error. The numbers are those of [`crate::Context::topological_loss_batch`]
    /// on the same maps, bit for bit; they are valid once [`Self::finish`] has returned `Ok` (a map
    /// with a value outside `[0, 1]` or NaN makes it an [`Error::NotAProbability`]).
    pub fn record_loss(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        input: BufferAt<'_>,
        gradient: BufferAt<'_>,
        losses: BufferAt<'_>,
    ) -> Result<()> {
        self.loss()?;
        let [b, h, w] = [self.inner.images, self.inner.shape.pixels(), 1];
        let targets = LossTargets {
            gradient: gradient.target("gradient", (b * h * w) as u64 * 4)?,
            losses: losses.target("losses", b as u64 * 4)?,
        };
        let ranges = [
            ("input", input.buffer, input.offset, self.inner.pixels * 4),
            (
                "gradient",
                gradient.buffer,
                gradient.offset,
                self.inner.pixels * 4,
            ),
            ("losses", losses.buffer, losses.offset, b as u64 * 4),
        ];
        for (i, a) in ranges.iter().enumerate() {
            for c in &ranges[i + 1..] {
                if a.1 == c.1 && a.2 < c.2 + c.3 && c.2 < a.2 + a.3 {
                    return Err(Error::InvalidArgument(format!(
                        "the {} range (bytes {}..{}) and the {} range (bytes {}..{}) overlap in one \
                         buffer",
                        a.0,
                        a.2,
                        a.2 + a.3,
                        c.0,
                        c.2,
                        c.2 + c.3
                    )));
                }
            }
        }
        self.record_counted(encoder, input.buffer, input.offset, Some(targets))
    }

    /// Records (see the engine's `record_resident`), counting the bytes written for `finish`.
    fn record_counted(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        offset: u64,
        targets: Option<LossTargets>,
    ) -> Result<()> {
        let written = self
            .engine
            .record_resident(&self.inner, encoder, input, offset, targets)?;
        self.written.fetch_add(written, Ordering::Relaxed);
        Ok(())
    }

    /// Waits for the last recording to run (the caller must have submitted it: else an error says
    /// so), maps its status (160 bytes), and pairs again on the context's queue any graph whose
    /// rounds had not converged, so that the outputs are right when it returns `Ok`. A lost device,
    /// a validation error or a plan that cannot converge is an error.
    pub fn finish(&self) -> Result<ResidentStatus> {
        let status = self.finish_inner()?;
        let stats = RunStats {
            rounds: status.rounds,
            submissions: status.reruns,
            bytes_mapped: status.mapped,
            bytes_written: self.written.swap(0, Ordering::Relaxed),
            ..RunStats::default()
        };
        Ok(ResidentStatus {
            pairs: status.pairs,
            stats,
        })
    }

    /// The engine's finish, remembered with the recording it found done.
    fn finish_inner(&self) -> Result<crate::gpu::resident::ResidentStatus> {
        let generation = self.inner.generation();
        let status = self.engine.finish_resident(&self.inner)?;
        if let Ok(mut slot) = self.finished.lock() {
            *slot = Some((generation, status));
        }
        Ok(status)
    }

    /// What the last `finish` found, if no recording came after it; else a `finish` now.
    fn finished_status(&self) -> Result<crate::gpu::resident::ResidentStatus> {
        let done = self
            .finished
            .lock()
            .map_err(|_| Error::Device("plan lock poisoned".into()))?
            .filter(|&(generation, _)| generation == self.inner.generation())
            .map(|(_, status)| status);
        match done {
            Some(status) => Ok(status),
            None => self.finish_inner(),
        }
    }

    /// Gives the maps new priors from the next recording on (the plan's own uploads them first, in
    /// its encoder: 16 bytes per map, counted as written), so that one plan serves a training loop
    /// whose batches have different priors. The same rules as at
    /// [`crate::Context::resident_loss_plan`]: one prior for all maps or one per map, at most
    /// [`MAX_RESIDENT_BETA`] features per map and dimension, and the plan's kind (squared or L1)
    /// for all. A recording already made keeps the priors it was made with; priors equal to the
    /// plan's current ones upload nothing.
    pub fn set_priors(&self, priors: &[TopologicalLoss]) -> Result<()> {
        let loss = self.loss()?;
        check_resident_priors(priors, self.inner.images)?;
        if priors[0].options() != self.inner.options {
            return Err(Error::InvalidArgument(format!(
                "priors on the {:?} construction for a plan made on {:?}: a plan's construction \
                 is fixed (make another plan for the other one)",
                priors[0].construction, self.inner.options.construction
            )));
        }
        if priors[0].kind != loss.kind {
            return Err(Error::InvalidArgument(format!(
                "priors of kind {:?} for a plan made with {:?}: a plan's kind is fixed (make \
                 another plan for the other kind)",
                priors[0].kind, loss.kind
            )));
        }
        let words = crate::gpu::resident_loss::priors(priors, self.inner.images);
        let mut next = loss
            .next_priors
            .lock()
            .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        if next.words != words {
            next.words = words;
            next.upload = true;
        }
        Ok(())
    }

    /// The loss's buffers of a plan made with priors.
    fn loss(&self) -> Result<&crate::gpu::resident_loss::ResidentLoss> {
        self.inner.loss.as_ref().ok_or_else(|| {
            Error::InvalidArgument(
                "this plan was made without priors: make it with Context::resident_loss_plan"
                    .into(),
            )
        })
    }

    /// Sets the hooking rounds the next recordings record (the crate's tests of reruns).
    pub(crate) fn set_rounds(&self, rounds: u32) {
        self.inner.set_rounds(rounds);
    }

    /// The plan's output buffers (see [`ResidentOutputs`]).
    pub fn outputs(&self) -> Result<ResidentOutputs> {
        let (r0, c0) = GpuEngine::resident_outputs(&self.inner, 0)?;
        let (r1, c1) = GpuEngine::resident_outputs(&self.inner, 1)?;
        Ok(ResidentOutputs {
            records: [r0, r1],
            control: [c0, c1],
            count_offset: 4 * C_PAIRS as u64,
            counts: self.inner.counts.clone(),
        })
    }

    /// The diagrams of the last recording, read back: [`Self::finish`], then the records and the
    /// pixels (for their values) are mapped. Equal, pair for pair and bit for bit, to
    /// [`crate::Context::compute_batch`] on the same `f32` maps; a NaN among them is an error here.
    pub fn read_diagrams(&self) -> Result<Vec<Diagram>> {
        let status = self.finished_status()?;
        let ResidentReadback {
            raw,
            mut values,
            apparent,
        } = self.engine.read_resident(&self.inner, &status)?;
        // the kernels order -0.0 as +0.0, and the host API reports it so
        values.iter_mut().for_each(|v| *v += 0.0);
        if let Some(index) = values.iter().position(|v| v.is_nan()) {
            return Err(Error::NanPixel { index });
        }
        if self.inner.shape.domain() == Domain::Volume {
            // H1 of each volume on the host, from the merges of H0 and H2 and the apparent pairs
            return volume_diagrams(
                &values,
                self.inner.shape,
                &self.inner.options,
                raw,
                &apparent,
            );
        }
        let n = self.inner.shape.pixels();
        Ok(raw
            .into_iter()
            .enumerate()
            .map(|(b, pairs)| {
                assemble(
                    &values[b * n..(b + 1) * n],
                    self.inner.shape.dims(),
                    pairs,
                    self.inner.options.is_superlevel(),
                    self.inner.options.keep_zero_persistence,
                    Backend::Gpu,
                )
            })
            .collect())
    }
}

const _: () = assert!(STATUS_BYTES == 8 * CONTROL_WORDS as u64 + 32);
