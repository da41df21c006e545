//! The resident path: every stage of a batch's diagrams recorded into the caller's encoder, reading
//! the pixels from the caller's buffer, the pair records left on the device. The host's one step is
//! [`GpuEngine::finish_resident`]: it maps the two graphs' control words and a stamp (144 bytes),
//! which tell whether the recorded work has run and whether every graph converged; a graph that
//! needed more hooking rounds than were recorded is paired again here, on the engine's queue, from
//! the ranks the recorded work left (its records are then those of the rerun).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use super::buffers::{mappable, storage};
use super::engine::{GpuEngine, MAX_ROUNDS};
use super::record::Submission;
use super::workspace::{check_limits, Workspace, WorkspaceKey, CONTROL_BYTES};
use crate::diagram::RawPair;
use crate::input::{Domain, Shape};
use crate::layout::{CONTROL_WORDS, C_HOOKS, C_PAIRS, C_ROUNDS, C_TARGET};
use crate::options::Options;
use crate::{Error, Result};

/// Bytes of the status the host maps: both graphs' control words, then the stamp (padded).
pub(crate) const STATUS_BYTES: u64 = 2 * CONTROL_BYTES + 16;

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
    /// Hooking rounds recorded per graph (doubled when a run needed more).
    rounds: AtomicU32,
    /// Pixels of the batch.
    pub pixels: u64,
}

impl Resident {
    /// Sets the hooking rounds recorded per graph (at least 1).
    pub fn set_rounds(&self, rounds: u32) {
        self.rounds.store(rounds.max(1), Ordering::Relaxed);
    }
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
}

impl GpuEngine {
    /// A resident plan's buffers for `images` items of `shape`.
    pub fn resident(&self, images: usize, shape: Shape, options: &Options) -> Result<Resident> {
        if shape.domain() == Domain::Volume {
            return Err(Error::InvalidArgument(
                "a resident plan takes B x H x W images: H1 of a volume is reduced on the host \
                 (use Context::compute_batch or topological_loss_batch for volumes)"
                    .into(),
            ));
        }
        if images == 0 || shape.pixels() == 0 {
            let mut dims = vec![images];
            dims.extend(shape.dims());
            return Err(Error::Empty { shape: dims });
        }
        let capacity = self
            .capacity
            .lock()
            .map(|c| *c)
            .map_err(|_| Error::Device("capacity lock poisoned".into()))?;
        let key = WorkspaceKey {
            images,
            shape,
            construction: options.construction,
            capacity,
        };
        let grids = key.grids()?;
        check_limits(&self.device.limits(), &key, &grids)?;
        self.check_lost()?;
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let ws = Workspace::new(&self.device, &self.kernels, key, grids);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Device(format!("allocating the plan's buffers: {e}")));
        }
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
        Ok(Resident {
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
            rounds: AtomicU32::new(rounds),
            pixels,
        })
    }

    /// Records the whole diagram of the batch into `encoder`: the pixels are copied from `input` at
    /// byte `offset` (row-major `f32`); nothing is submitted or mapped. Writes the stamp (4 bytes).
    pub fn record_resident(
        &self,
        r: &Resident,
        encoder: &mut wgpu::CommandEncoder,
        input: &wgpu::Buffer,
        offset: u64,
    ) -> Result<()> {
        self.check_lost()?;
        let bytes = r.pixels * 4;
        if !offset.is_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT) {
            return Err(Error::InvalidArgument(format!(
                "the input's byte offset {offset} is not a multiple of {}",
                wgpu::COPY_BUFFER_ALIGNMENT
            )));
        }
        if !input.usage().contains(wgpu::BufferUsages::COPY_SRC) {
            return Err(Error::InvalidArgument(format!(
                "the input buffer's usages {:?} lack COPY_SRC: the plan copies the pixels from it",
                input.usage()
            )));
        }
        if offset
            .checked_add(bytes)
            .is_none_or(|end| end > input.size())
        {
            return Err(Error::InvalidArgument(format!(
                "the input buffer holds {} bytes; {} pixels of f32 from byte {offset} need {}",
                input.size(),
                r.pixels,
                offset.saturating_add(bytes)
            )));
        }
        let ws =
            r.ws.lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        let generation = r.generation.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.write(&r.stamp, 0, &generation.to_le_bytes());
        encoder.copy_buffer_to_buffer(input, offset, &ws.ranking.values, 0, Some(bytes));
        self.record_graphs(r, &ws, encoder, true, &[0, 1]);
        Ok(())
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
    }

    /// Maps the status once the recorded work has run (waiting for it): an error if the last
    /// recording has not been submitted; graphs that did not converge are paired again with twice
    /// the rounds (the plan keeps the count) until they do.
    pub fn finish_resident(&self, r: &Resident) -> Result<ResidentStatus> {
        let generation = r.generation.load(Ordering::Relaxed);
        if generation == 0 {
            return Err(Error::InvalidArgument(
                "nothing was recorded: call record before finish".into(),
            ));
        }
        let ws =
            r.ws.lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        let mut reruns = 0;
        self.validated(|| loop {
            let words = self
                .read(&[(&r.status, STATUS_BYTES)])?
                .pop()
                .unwrap_or_default();
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
            let going: Vec<usize> = (0..ws.graphs.len())
                .filter(|&i| word(i, C_HOOKS) < word(i, C_TARGET))
                .collect();
            if going.is_empty() {
                return Ok(ResidentStatus {
                    pairs: [word(0, C_PAIRS), word(1, C_PAIRS)],
                    rounds: [word(0, C_ROUNDS), word(1, C_ROUNDS)],
                    reruns,
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
            self.record_graphs(r, &ws, &mut encoder, false, &going);
            self.queue.submit([encoder.finish()]);
            reruns += 1;
        })
    }

    /// The raw pairs of every item and the pixels the plan ranked, read back (after
    /// [`Self::finish_resident`]).
    pub fn read_resident(
        &self,
        r: &Resident,
        status: &ResidentStatus,
    ) -> Result<(Vec<Vec<RawPair>>, Vec<f32>)> {
        let mut ws =
            r.ws.lock()
                .map_err(|_| Error::Device("plan lock poisoned".into()))?;
        let counts = status.pairs.map(u64::from);
        let raw = self.validated(|| self.read_records(&mut ws, &counts, r.images))?;
        let bytes = r.pixels * 4;
        let copy = mappable(&self.device, "resident_values", bytes);
        let mut words = self.validated(|| {
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-persistence.resident_values"),
                });
            encoder.copy_buffer_to_buffer(&ws.ranking.values, 0, &copy, 0, Some(bytes));
            self.queue.submit([encoder.finish()]);
            self.read(&[(&copy, bytes)])
        })?;
        let values = bytemuck::cast_slice::<u32, f32>(&words.pop().unwrap_or_default()).to_vec();
        Ok((raw, values))
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
