//! The resident path: every stage of a batch's diagrams recorded into the caller's encoder, reading
//! the pixels from the caller's buffer, the pair records left on the device. The host's one step is
//! [`GpuEngine::finish_resident`]: it maps the two graphs' control words, a stamp and the loss's
//! flags (160 bytes),
//! which tell whether the recorded work has run and whether every graph converged; a graph that
//! needed more hooking rounds than were recorded is paired again here, on the engine's queue, from
//! the ranks the recorded work left (its records are then those of the rerun).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use super::buffers::{mappable, storage, uniform};
use super::engine::{GpuEngine, MAX_ROUNDS};
use super::kernels::whole;
use super::record::Submission;
use super::resident_loss::ResidentLoss;
use super::workspace::{Workspace, CONTROL_BYTES};
use crate::diagram::RawPair;
use crate::input::{Domain, Shape};
use crate::layout::{self, CountParams, CONTROL_WORDS, C_HOOKS, C_PAIRS, C_ROUNDS, C_TARGET, NONE};
use crate::options::Options;
use crate::options::TopologicalLoss;
use crate::{Error, Result};

/// Bytes of the status the host maps: both graphs' control words, the stamp (padded), the loss's
/// flags (the first pixel that is not a probability; padded).
pub(crate) const STATUS_BYTES: u64 = 2 * CONTROL_BYTES + 32;

/// Checks that the plan can copy `bytes` from byte `offset` of the caller's `what` buffer (`usage`:
/// `COPY_SRC` for an input, `COPY_DST` for an output): the usage, a 4-byte aligned offset, room.
pub(crate) fn check_range(
    what: &str,
    buffer: &wgpu::Buffer,
    offset: u64,
    bytes: u64,
    usage: wgpu::BufferUsages,
) -> Result<()> {
    if !buffer.usage().contains(usage) {
        return Err(Error::InvalidArgument(format!(
            "the {what} buffer's usages {:?} lack {usage:?}: the plan copies through it",
            buffer.usage()
        )));
    }
    if !offset.is_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT) {
        return Err(Error::InvalidArgument(format!(
            "the {what} buffer's byte offset {offset} is not a multiple of {}",
            wgpu::COPY_BUFFER_ALIGNMENT
        )));
    }
    if offset
        .checked_add(bytes)
        .is_none_or(|end| end > buffer.size())
    {
        return Err(Error::InvalidArgument(format!(
            "the {what} buffer holds {} bytes; {bytes} bytes from byte {offset} need {}",
            buffer.size(),
            offset.saturating_add(bytes)
        )));
    }
    Ok(())
}

/// A buffer of the caller's and a byte offset in it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub buffer: wgpu::Buffer,
    pub offset: u64,
}

/// Where a loss recording's results go: the gradient (`B x H x W` `f32`) and the losses (`B`).
#[derive(Debug, Clone)]
pub(crate) struct LossTargets {
    pub gradient: Target,
    pub losses: Target,
}

/// The buffers of one resident plan: a workspace of its own (a plan's outputs are not overwritten by
/// the context's other calls), the initial control words, the stamp and the status readback.
pub(crate) struct Resident {
    pub ws: Mutex<Workspace>,
    pub images: usize,
    pub shape: Shape,
    pub options: Options,
    /// Both graphs' initial control words, copied over the control words by every recording.
    init_control: wgpu::Buffer,
    /// The number of the last recording, written by the host and copied by the recorded work into
    /// the status: the host tells from it whether that work has run.
    stamp: wgpu::Buffer,
    /// Mappable: both graphs' control words, then the stamp.
    status: wgpu::Buffer,
    generation: AtomicU32,
    /// A recording waits for `finish` (a second one before it is refused).
    pending: std::sync::atomic::AtomicBool,
    /// Hooking rounds recorded per graph (doubled when a run needed more).
    rounds: AtomicU32,
    /// Pixels of the batch.
    pub pixels: u64,
    /// The topological loss's buffers, for a plan made with priors.
    pub loss: Option<ResidentLoss>,
    /// Where the last loss recording's results go (a rerun copies them there again).
    targets: Mutex<Option<LossTargets>>,
    /// The loss's flags, and their initial words.
    flags: wgpu::Buffer,
    /// Pair records per item and dimension (`2 * item + dim`), and the bind groups that count them.
    pub counts: wgpu::Buffer,
    count_binds: Vec<wgpu::BindGroup>,
}

impl Resident {
    /// The number of the last recording (0: none yet).
    pub fn generation(&self) -> u32 {
        self.generation.load(Ordering::Acquire)
    }

    /// Sets the hooking rounds recorded per graph (at least 1).
    pub fn set_rounds(&self, rounds: u32) {
        self.rounds.store(rounds.max(1), Ordering::Relaxed);
    }
}

/// What [`GpuEngine::read_resident`] read back.
#[derive(Debug)]
pub(crate) struct ResidentReadback {
    /// The raw pairs of every item (a volume's: every merge of H0 and H2, with its cell).
    pub raw: Vec<Vec<RawPair>>,
    /// The pixels (voxels) the plan ranked, the whole batch.
    pub values: Vec<f32>,
    /// Volumes: H1's apparent pairs of every item; empty for images.
    pub apparent: Vec<Vec<u32>>,
}

/// What [`GpuEngine::finish_resident`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResidentStatus {
    /// Pair records written per graph (H0, H1).
    pub pairs: [u32; 2],
    /// Hooking rounds each graph ran.
    pub rounds: [u32; 2],
    /// Submissions the host made to pair graphs again that had not converged.
    pub reruns: u32,
    /// Bytes of status this finish mapped (counted here, not on the engine: other calls on the
    /// same engine at the same time do not add theirs).
    pub mapped: u64,
}

impl GpuEngine {
    /// A resident plan's buffers for `images` items of `shape`.
    pub fn resident(
        &self,
        images: usize,
        shape: Shape,
        options: &Options,
        losses: Option<&[TopologicalLoss]>,
    ) -> Result<Resident> {
        if shape.domain() == Domain::Volume && losses.is_some() {
            return Err(Error::InvalidArgument(
                "a resident loss plan takes B x H x W maps: H1 of a volume is reduced on the host, \
                 so its loss cannot stay on the device (use topological_loss_batch for volumes; \
                 resident_plan gives their diagrams)"
                    .into(),
            ));
        }
        if images == 0 || shape.pixels() == 0 {
            let mut dims = vec![images];
            dims.extend(shape.dims());
            return Err(Error::Empty { shape: dims });
        }
        let (key, grids) = self.workspace_key(images, shape, options.construction, true)?;
        let ws = self.allocate("the plan's buffers", || {
            Workspace::new(&self.device, &self.kernels, key, grids)
        })?;
        if ws.host_ranking.is_some() {
            return Err(Error::TooLarge {
                what: "bytes of pair records in one storage binding on this adapter (a resident \
                       plan keeps the records on the device; compute_batch compacts larger \
                       batches on the host)",
                value: ws.graphs.iter().map(|g| g.vertices).sum::<u64>()
                    * super::workspace::RECORD_BYTES,
                limit: super::workspace::binding_limit(&self.device.limits()),
            });
        }
        ws.write_params(options, |buffer, bytes| self.write(buffer, 0, bytes));
        let mut initial = Vec::with_capacity(2 * CONTROL_WORDS as usize);
        for g in &ws.graphs {
            initial.extend(g.initial_control(images, ws.pairing.edge_capacity));
        }
        use wgpu::util::DeviceExt;
        let init_control = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("wgpu-persistence.initial_control"),
                contents: bytemuck::cast_slice(&initial),
                usage: wgpu::BufferUsages::COPY_SRC,
            });
        let rounds = ws.rounds_hint.load(Ordering::Relaxed);
        let pixels = ws.ranking.pixels as u64;
        let flags = storage(
            &self.device,
            "loss_flags",
            16,
            wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        );
        let counts = storage(
            &self.device,
            "pair_counts",
            2 * images as u64 * 4,
            wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        );
        let count_params: Vec<wgpu::Buffer> = ws
            .graphs
            .iter()
            .enumerate()
            .map(|(dim, g)| {
                uniform(
                    &self.device,
                    "count_params",
                    &CountParams {
                        images: images as u32,
                        dim: dim as u32,
                        capacity: g.vertices as u32,
                        ..CountParams::default()
                    },
                )
            })
            .collect();
        let count_binds = ws
            .graphs
            .iter()
            .zip(&count_params)
            .map(|(g, params)| {
                self.kernels.loss(&self.device).counts.bind(
                    &self.device,
                    layout::pair_counts::Bindings {
                        params: whole(params),
                        records: whole(&g.records),
                        control: whole(&g.control),
                        counts: whole(&counts),
                    },
                )
            })
            .collect();
        let loss = match losses {
            Some(l) => Some(self.allocate("the loss's buffers", || {
                ResidentLoss::new(&self.device, &self.kernels, &ws, l, &flags, &count_params)
            })?),
            None => None,
        };
        Ok(Resident {
            counts,
            count_binds,
            loss,
            targets: Mutex::new(None),
            flags,
            ws: Mutex::new(ws),
            images,
            shape,
            options: *options,
            init_control,
            stamp: storage(
                &self.device,
                "stamp",
                16,
                wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            ),
            status: mappable(&self.device, "resident_status", STATUS_BYTES),
            generation: AtomicU32::new(0),
            pending: std::sync::atomic::AtomicBool::new(false),
            rounds: AtomicU32::new(rounds),
            pixels,
        })
    }

    /// Records the whole diagram of the batch into `encoder`: the pixels are copied from `input` at
    /// byte `offset` (row-major `f32`); nothing is submitted or mapped. The recording's stamp (16
    /// bytes) travels in a buffer of its own, copied by the encoder: the status shows which
    /// recording ran, whatever else runs on the queue. Returns the bytes the host wrote (the stamp,
    /// and new priors).
    pub fn record_resident(
        &self,
        r: &Resident,
        encoder: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        offset: u64,
        targets: Option<LossTargets>,
    ) -> Result<u64> {
        self.check_lost()?;
        let bytes = r.pixels * 4;
        check_range("input", input, offset, bytes, wgpu::BufferUsages::COPY_SRC)?;
        let ws =
            r.ws.lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        if r.pending.swap(true, Ordering::AcqRel) {
            return Err(Error::InvalidArgument(
                "this plan's last recording has not been finished: call finish before recording \
                 again (one recording per finish; a plan per micro-batch for more)"
                    .into(),
            ));
        }
        // never 0 (nothing recorded), also past 2^32 recordings
        let mut generation = r.generation.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        if generation == 0 {
            generation = r.generation.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        }
        let stamp = self.upload("stamp", &[generation, 0, 0, 0]);
        let mut written = 16;
        encoder.copy_buffer_to_buffer(&stamp, 0, &r.stamp, 0, Some(16));
        encoder.copy_buffer_to_buffer(input, offset, &ws.ranking.values, 0, Some(bytes));
        if let Some(loss) = &r.loss {
            encoder.copy_buffer_to_buffer(&loss.flags_init, 0, &r.flags, 0, Some(16));
            let mut next = loss
                .next_priors
                .lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?;
            if std::mem::take(&mut next.upload) {
                let words: &[u32] = bytemuck::cast_slice(&next.words);
                let up = self.upload("priors", words);
                written += 4 * words.len() as u64;
                encoder.copy_buffer_to_buffer(
                    &up,
                    0,
                    &loss.priors,
                    0,
                    Some(4 * words.len() as u64),
                );
            }
        }
        let mut slot = r
            .targets
            .lock()
            .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        *slot = targets;
        self.record_graphs(r, &ws, encoder, true, &[0, 1], slot.as_ref());
        Ok(written)
    }

    /// Records the loss's kernels after the pairing, and the copies of its results to `targets`.
    fn record_loss(
        &self,
        loss: &ResidentLoss,
        counts: &wgpu::Buffer,
        encoder: &mut wgpu::CommandEncoder,
        targets: &LossTargets,
    ) {
        let lk = self.kernels.loss(&self.device);
        encoder.clear_buffer(&loss.counts, 0, None);
        encoder.clear_buffer(&loss.cursor, 0, None);
        // each map's records in a segment of its own: offsets (scanned below), then the counts
        let half = 2 * loss.images * 4;
        encoder.copy_buffer_to_buffer(counts, 0, &loss.segments, 0, Some(half));
        encoder.copy_buffer_to_buffer(counts, 0, &loss.segments, half, Some(half));
        encoder.clear_buffer(&loss.bucket_cursor, 0, None);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-persistence.loss_terms"),
                timestamp_writes: None,
            });
            self.recorder().scan(&mut pass, &loss.segment_scan, None);
            for g in &loss.graphs {
                lk.buckets.record(&mut pass, &g.buckets, g.records, None);
            }
            for g in &loss.graphs {
                lk.select.record(&mut pass, &g.select, loss.images, None);
            }
            for g in &loss.graphs {
                lk.terms.record(&mut pass, &g.terms, g.records, None);
            }
        }
        let total = loss.images * loss.pixels * 4;
        encoder.copy_buffer_to_buffer(&loss.counts, 0, &loss.offsets, 0, Some(total));
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-persistence.loss_gradient"),
                timestamp_writes: None,
            });
            self.recorder().scan(&mut pass, &loss.scan, None);
            for g in &loss.graphs {
                lk.scatter.record(&mut pass, &g.scatter, g.records, None);
            }
            for g in &loss.graphs {
                lk.gather
                    .record(&mut pass, &g.gather, loss.images * loss.pixels, None);
            }
            lk.reduce.record(&mut pass, &loss.reduce, loss.images, None);
        }
        let (g, l) = (&targets.gradient, &targets.losses);
        encoder.copy_buffer_to_buffer(&loss.gradient, 0, &g.buffer, g.offset, Some(total));
        encoder.copy_buffer_to_buffer(&loss.losses, 0, &l.buffer, l.offset, Some(loss.images * 4));
    }

    /// Records the pairing of `graphs` (after the ranking when `ranks`) and the copies of the
    /// control words and the stamp into the status.
    fn record_graphs(
        &self,
        r: &Resident,
        ws: &Workspace,
        encoder: &mut wgpu::CommandEncoder,
        ranks: bool,
        graphs: &[usize],
        targets: Option<&LossTargets>,
    ) {
        for &i in graphs {
            encoder.copy_buffer_to_buffer(
                &r.init_control,
                i as u64 * CONTROL_BYTES,
                &ws.graphs[i].control,
                0,
                Some(CONTROL_BYTES),
            );
        }
        let submission = Submission {
            ranks,
            graphs,
            rounds: r.rounds.load(Ordering::Relaxed),
            images: r.images,
        };
        self.recorder().diagram(encoder, ws, &submission, None);
        // the per-item counts of both graphs (a rerun leaves the other graph's records as they were)
        encoder.clear_buffer(&r.counts, 0, None);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-persistence.pair_counts"),
                timestamp_writes: None,
            });
            let counter = &self.kernels.loss(&self.device).counts;
            for (g, bind) in ws.graphs.iter().zip(&r.count_binds) {
                counter.record(&mut pass, bind, g.vertices, None);
            }
        }
        if let (Some(loss), Some(targets)) = (&r.loss, targets) {
            self.record_loss(loss, &r.counts, encoder, targets);
        }
        for (i, g) in ws.graphs.iter().enumerate() {
            encoder.copy_buffer_to_buffer(
                &g.control,
                0,
                &r.status,
                i as u64 * CONTROL_BYTES,
                Some(CONTROL_BYTES),
            );
        }
        encoder.copy_buffer_to_buffer(&r.stamp, 0, &r.status, 2 * CONTROL_BYTES, Some(16));
        encoder.copy_buffer_to_buffer(&r.flags, 0, &r.status, 2 * CONTROL_BYTES + 16, Some(16));
    }

    /// Maps the status once the recorded work has run (waiting for it): an error if the last
    /// recording has not been submitted; graphs that did not converge are paired again with twice
    /// the rounds (the plan keeps the count) until they do.
    pub fn finish_resident(&self, r: &Resident) -> Result<ResidentStatus> {
        let ws =
            r.ws.lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        let generation = r.generation.load(Ordering::Acquire);
        if generation == 0 {
            return Err(Error::InvalidArgument(
                "nothing was recorded: call record before finish".into(),
            ));
        }
        // the plan may record again, whatever this finish finds
        r.pending.store(false, Ordering::Release);
        let mut reruns = 0;
        let mut mapped = 0;
        self.validated(|| loop {
            let words = self
                .read(&[(&r.status, STATUS_BYTES)])?
                .pop()
                .unwrap_or_default();
            mapped += STATUS_BYTES;
            let word = |graph: usize, w: u32| {
                words
                    .get(graph * CONTROL_WORDS as usize + w as usize)
                    .copied()
                    .unwrap_or(0)
            };
            let stamp = words.get(2 * CONTROL_WORDS as usize).copied().unwrap_or(0);
            if stamp != generation {
                return Err(Error::InvalidArgument(
                    "the plan's last recording has not run: submit the encoder it was recorded \
                     into before calling finish"
                        .into(),
                ));
            }
            let flag = words
                .get(2 * CONTROL_WORDS as usize + 4)
                .copied()
                .unwrap_or(NONE);
            if r.loss.is_some() && flag != NONE {
                let value = self.read_value(&ws, flag)?;
                return Err(Error::NotAProbability {
                    index: flag as usize,
                    value: f64::from(value),
                });
            }
            let going: Vec<usize> = (0..ws.graphs.len())
                .filter(|&i| word(i, C_HOOKS) < word(i, C_TARGET))
                .collect();
            if going.is_empty() {
                return Ok(ResidentStatus {
                    pairs: [word(0, C_PAIRS), word(1, C_PAIRS)],
                    rounds: [word(0, C_ROUNDS), word(1, C_ROUNDS)],
                    reruns,
                    mapped,
                });
            }
            let rounds = r.rounds.load(Ordering::Relaxed);
            if rounds >= MAX_ROUNDS {
                return Err(Error::NotConverged { rounds });
            }
            r.rounds.store(rounds * 2, Ordering::Relaxed);
            ws.rounds_hint.fetch_max(rounds * 2, Ordering::Relaxed);
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-persistence.resident_rerun"),
                });
            let targets = r
                .targets
                .lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?
                .clone();
            self.record_graphs(r, &ws, &mut encoder, false, &going, targets.as_ref());
            self.queue.submit([encoder.finish()]);
            reruns += 1;
        })
    }

    /// The value of pixel `index` of the batch, read back (an error's detail).
    fn read_value(&self, ws: &Workspace, index: u32) -> Result<f32> {
        let words =
            self.copy_and_read("resident_value", &ws.ranking.values, index as u64 * 4, 4)?;
        Ok(f32::from_bits(words.first().copied().unwrap_or(0)))
    }

    /// `bytes` from byte `offset` of `from`, copied to a new mappable buffer and read back.
    fn copy_and_read(
        &self,
        label: &str,
        from: &wgpu::Buffer,
        offset: u64,
        bytes: u64,
    ) -> Result<Vec<u32>> {
        let copy = mappable(&self.device, label, bytes);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        encoder.copy_buffer_to_buffer(from, offset, &copy, 0, Some(bytes));
        self.queue.submit([encoder.finish()]);
        Ok(self.read(&[(&copy, bytes)])?.pop().unwrap_or_default())
    }

    /// The raw pairs of every item, the pixels the plan ranked and, for volumes, H1's apparent pairs
    /// of every item (the recording copied them out), read back (after [`Self::finish_resident`]).
    pub fn read_resident(&self, r: &Resident, status: &ResidentStatus) -> Result<ResidentReadback> {
        let mut ws =
            r.ws.lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        let counts = status.pairs.map(u64::from);
        let raw = self.validated(|| self.read_records(&mut ws, &counts, r.images))?;
        let bytes = r.pixels * 4;
        let words =
            self.validated(|| self.copy_and_read("resident_values", &ws.ranking.values, 0, bytes))?;
        let values = bytemuck::cast_slice::<u32, f32>(&words).to_vec();
        let apparent = self.validated(|| self.read_apparent(&ws, r.images))?;
        Ok(ResidentReadback {
            raw,
            values,
            apparent,
        })
    }

    /// The pair records of graph `graph` (H0: 0, H1: 1) and its control words (the count of records
    /// is word `C_PAIRS`).
    pub fn resident_outputs(r: &Resident, graph: usize) -> Result<(wgpu::Buffer, wgpu::Buffer)> {
        let ws =
            r.ws.lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        let g = ws
            .graphs
            .get(graph)
            .ok_or_else(|| Error::InvalidArgument(format!("no dimension {graph} in an image")))?;
        Ok((g.records.clone(), g.control.clone()))
    }
}
