//! The GPU engine: records every stage of a diagram (or a whole batch) into one encoder — the
//! ranking pass, then one pass per graph (H0, then H1 of an image or H2 of a volume) — submits it,
//! reads back the control words, and then copies exactly the pair records written and reads them
//! (a second, small submission). Where a graph needs more hooking rounds than were recorded, that
//! graph is run again with twice as many, in one more submission; the shape remembers the count.
//! Where the records would not fit one storage binding (and for every volume), the pairing state
//! comes back instead, and the pipeline compacts it on the host.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::buffers::read_words;
use super::kernels::Kernels;
use super::record::{Recorder, Submission};
use super::timing::{KernelTime, KernelTimer, StageTimestamps, STAGES};
use super::workspace::{check_limits, CapacityOverride, Workspace, WorkspaceKey, READBACK_BYTES};
use super::RunStats;
use crate::diagram::RawPair;
use crate::grid::Grid;
use crate::input::{Shape, Stack};
use crate::layout::{CONTROL_WORDS, C_HOOKS, C_PAIRS, C_ROUNDS, C_TARGET};
use crate::options::{Construction, Options};
use crate::{Error, Result};

/// Rounds after which the engine gives up with [`Error::NotConverged`] (never seen: each round at
/// least one component per connected group of components merges, and in practice they halve).
pub(super) const MAX_ROUNDS: u32 = 1 << 14;

/// What the pairing of a stack hands to the host.
#[derive(Debug)]
pub(crate) enum GpuPairs {
    /// The raw pairs of every item (indices local to each item), compacted on the GPU.
    Records(Vec<Vec<RawPair>>),
    /// The pairing state, for the host to compact (volumes; records past one binding).
    State(PairingReadback),
}

/// The state of a finished pairing, read back: the ranking and, per graph, every vertex's birth key
/// and best key (`cpu::ports::compact_pairs` turns it into pairs).
#[derive(Debug)]
pub(crate) struct PairingReadback {
    pub grids: Vec<Grid>,
    /// Pixel of each rank, per item.
    pub order: Vec<u32>,
    /// Order key of each pixel, per item.
    pub keys: Vec<u32>,
    /// Per graph: `vkey`, `best_hi`, `best_lo` of every vertex of the batch.
    pub graphs: Vec<[Vec<u32>; 3]>,
}

/// One GPU run.
#[derive(Debug)]
pub(crate) struct GpuRun {
    pub pairs: GpuPairs,
    /// Volumes: H1's apparent pairs of every volume, 4 bits per square; empty for images.
    pub apparent: Vec<Vec<u32>>,
    pub stats: RunStats,
}

/// Reused buffers of the gradient scatter, grown to the largest call.
#[derive(Debug, Default)]
pub(crate) struct ScatterBuffers {
    pub(super) contributions: u64,
    pub(super) pixels: u64,
    pub(super) buffers: Option<[wgpu::Buffer; 5]>,
}

/// The GPU engine: a device, a queue, the compiled kernels and a reusable workspace.
pub(crate) struct GpuEngine {
    pub(super) device: wgpu::Device,
    pub(super) queue: wgpu::Queue,
    pub(super) kernels: Kernels,
    pub(super) info: wgpu::AdapterInfo,
    pub(super) workspace: Mutex<Option<Workspace>>,
    pub(super) scatter: Mutex<ScatterBuffers>,
    pub(super) lost: Arc<Mutex<Option<String>>>,
    pub(super) capacity: Mutex<CapacityOverride>,
    /// Timestamps inside passes, when the device has them ([`Self::set_kernel_timings`]).
    pub(super) kernel_timer: Option<KernelTimer>,
    pub(super) kernel_timing: AtomicBool,
    pub(super) last_stats: Mutex<RunStats>,
    /// Bytes that crossed the bus since the engine was made: mapped (read back) and written by the
    /// host (`queue.write_buffer`).
    pub(super) mapped: AtomicU64,
    pub(super) written: AtomicU64,
}

impl std::fmt::Debug for GpuEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuEngine")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .finish()
    }
}

impl GpuEngine {
    /// An engine on a device. `owned`: the context made the device, so its device-lost callback is
    /// ours to set; an application's device keeps the application's callback, and a loss is seen in
    /// the errors the device gives instead.
    pub fn new(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        owned: bool,
    ) -> Self {
        let kernels = Kernels::new(&device);
        let lost = Arc::new(Mutex::new(None));
        if owned {
            let flag = lost.clone();
            device.set_device_lost_callback(move |reason, message| {
                if let Ok(mut slot) = flag.lock() {
                    *slot = Some(format!("{reason:?}: {message}"));
                }
            });
        }
        Self {
            kernel_timer: KernelTimer::new(&device),
            kernel_timing: AtomicBool::new(false),
            device,
            queue,
            kernels,
            info,
            workspace: Mutex::new(None),
            scatter: Mutex::new(ScatterBuffers::default()),
            lost,
            capacity: Mutex::new(CapacityOverride::default()),
            last_stats: Mutex::new(RunStats::default()),
            mapped: AtomicU64::new(0),
            written: AtomicU64::new(0),
        }
    }

    /// Times every kernel of the next runs (summed per kernel in [`RunStats::kernel_seconds`]) with
    /// a timestamp after each dispatch; returns whether the device can (wgpu's
    /// `TIMESTAMP_QUERY_INSIDE_PASSES`).
    pub fn set_kernel_timings(&self, on: bool) -> bool {
        self.kernel_timing.store(on, Ordering::Relaxed);
        self.kernel_timer.is_some()
    }

    /// Caps capacities below the adapter's for the next calls (for tests).
    pub fn set_capacity_override(&self, capacity: CapacityOverride) {
        if let Ok(mut c) = self.capacity.lock() {
            *c = capacity;
        }
    }

    /// The adapter's description.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The statistics of the last run.
    pub fn last_stats(&self) -> RunStats {
        self.last_stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// `Err` once the device has been lost.
    pub(super) fn check_lost(&self) -> Result<()> {
        match self.lost.lock().map(|l| l.clone()) {
            Ok(None) => Ok(()),
            Ok(Some(reason)) => Err(Error::Device(format!("device lost ({reason})"))),
            Err(_) => Err(Error::Device("device state lock poisoned".into())),
        }
    }

    /// Runs `work` inside a validation error scope: a lost device or a validation error is the
    /// error, whatever `work` returned.
    pub(super) fn validated<T>(&self, work: impl FnOnce() -> Result<T>) -> Result<T> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let result = work();
        let validation = pollster::block_on(scope.pop());
        // a lost device makes every later step fail: name the cause, not the symptom
        self.check_lost()?;
        if let Some(e) = validation {
            return Err(Error::Device(format!("validation: {e}")));
        }
        result
    }

    /// [`read_words`], counting the bytes mapped.
    pub(super) fn read(&self, buffers: &[(&wgpu::Buffer, u64)]) -> Result<Vec<Vec<u32>>> {
        let bytes: u64 = buffers.iter().map(|&(_, b)| b).sum();
        self.mapped.fetch_add(bytes, Ordering::Relaxed);
        read_words(&self.device, buffers)
    }

    /// `queue.write_buffer`, counting the bytes written.
    pub(super) fn write(&self, buffer: &wgpu::Buffer, offset: u64, data: &[u8]) {
        self.written.fetch_add(data.len() as u64, Ordering::Relaxed);
        self.queue.write_buffer(buffer, offset, data);
    }

    /// A new `COPY_SRC` buffer holding `words`, counting the bytes written.
    pub(super) fn upload(&self, label: &str, words: &[u32]) -> wgpu::Buffer {
        use wgpu::util::DeviceExt;
        self.written
            .fetch_add(4 * words.len() as u64, Ordering::Relaxed);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(words),
                usage: wgpu::BufferUsages::COPY_SRC,
            })
    }

    /// The bytes mapped and written so far.
    pub(super) fn transfers(&self) -> [u64; 2] {
        [
            self.mapped.load(Ordering::Relaxed),
            self.written.load(Ordering::Relaxed),
        ]
    }

    /// Records `record` into one compute pass of a new encoder and `after` into the encoder after
    /// it, submits, and reads back the first bytes of each of `reads` (mappable buffers).
    pub(super) fn submit_and_read(
        &self,
        label: &str,
        record: impl FnOnce(&mut wgpu::ComputePass<'_>),
        after: impl FnOnce(&mut wgpu::CommandEncoder),
        reads: &[(&wgpu::Buffer, u64)],
    ) -> Result<Vec<Vec<u32>>> {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(label),
                timestamp_writes: None,
            });
            record(&mut pass);
        }
        after(&mut encoder);
        self.queue.submit([encoder.finish()]);
        self.read(reads)
    }

    /// The key and graphs of a workspace for `images` items of `shape` with `construction`, checked
    /// against the device's limits (and that the device is not lost).
    pub(super) fn workspace_key(
        &self,
        images: usize,
        shape: Shape,
        construction: Construction,
        resident: bool,
    ) -> Result<(WorkspaceKey, [Grid; 2])> {
        let capacity = self
            .capacity
            .lock()
            .map(|c| *c)
            .map_err(|_| Error::Device("capacity lock poisoned".into()))?;
        let key = WorkspaceKey {
            resident,
            images,
            shape,
            construction,
            capacity,
        };
        let grids = key.grids()?;
        check_limits(&self.device.limits(), &key, &grids)?;
        self.check_lost()?;
        Ok((key, grids))
    }

    /// What `make` allocates, or the device's out-of-memory error while `allocating` it.
    pub(super) fn allocate<T>(&self, allocating: &str, make: impl FnOnce() -> T) -> Result<T> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let made = make();
        match pollster::block_on(scope.pop()) {
            Some(e) => Err(Error::Device(format!("allocating {allocating}: {e}"))),
            None => Ok(made),
        }
    }

    /// The workspace for this stack's shape, made anew (old buffers freed first) when the shape changed.
    pub(super) fn workspace_for(
        &self,
        stack: &Stack,
        options: &Options,
    ) -> Result<MutexGuard<'_, Option<Workspace>>> {
        let (key, grids) =
            self.workspace_key(stack.count(), stack.shape(), options.construction, false)?;
        let mut guard = self
            .workspace
            .lock()
            .map_err(|_| Error::Device("workspace lock poisoned".into()))?;
        if guard.as_ref().map(|w| w.key) != Some(key) {
            *guard = None; // free the old buffers first
            let ws = self.allocate("the workspace", || {
                Workspace::new(&self.device, &self.kernels, key, grids)
            })?;
            *guard = Some(ws);
        }
        Ok(guard)
    }

    /// Uploads the pixels and this call's parameters.
    pub(super) fn write_inputs(&self, ws: &Workspace, stack: &Stack, options: &Options) {
        self.write(&ws.ranking.values, 0, bytemuck::cast_slice(stack.values()));
        ws.write_params(options, |buffer, bytes| self.write(buffer, 0, bytes));
    }

    /// What records the stages, with this engine's kernels.
    pub(super) fn recorder(&self) -> Recorder<'_> {
        Recorder {
            kernels: &self.kernels,
            device: &self.device,
        }
    }

    /// The pairs of every item of the stack, H1's apparent pairs of every volume, and run statistics.
    pub fn run(&self, stack: &Stack, options: &Options) -> Result<GpuRun> {
        let mut guard = self.workspace_for(stack, options)?;
        let ws = guard
            .as_mut()
            .ok_or_else(|| Error::Device("no workspace".into()))?;
        let run = self.validated(|| self.run_in(ws, stack, options))?;
        if let Ok(mut last) = self.last_stats.lock() {
            *last = run.stats.clone();
        }
        Ok(run)
    }

    fn run_in(&self, ws: &mut Workspace, stack: &Stack, options: &Options) -> Result<GpuRun> {
        let before = self.transfers();
        self.write_inputs(ws, stack, options);
        // Rounds are recorded up front (empty once converged, through indirect dispatches). A graph
        // that needs more is run again (from its init: the two graphs share their per-vertex arrays,
        // so its state is gone) in another submission with twice as many rounds, without ranking
        // again; the workspace remembers the count for the next call of this shape, which then needs
        // one submission.
        let mut rounds = ws.rounds_hint.load(Ordering::Relaxed);
        let mut stats = RunStats::default();
        let mut seconds = [0.0f64; STAGES];
        // per-kernel times, when asked for and the device can write timestamps inside passes
        let timer = self
            .kernel_timer
            .as_ref()
            .filter(|_| self.kernel_timing.load(Ordering::Relaxed));
        if let Some(timer) = timer {
            timer.start_run();
        }
        let mut kernel_seconds: Vec<KernelTime> = Vec::new();
        let period = self.queue.get_timestamp_period() as f64 * 1e-9;
        let images = stack.count();
        // the graphs still going; the first submission also ranks
        let mut going: Vec<usize> = (0..ws.graphs.len()).collect();
        let mut ranks = true;
        let control = loop {
            for &i in &going {
                let g = &ws.graphs[i];
                let initial = g.initial_control(images, ws.pairing.edge_capacity);
                self.write(&g.control, 0, bytemuck::cast_slice(&initial));
            }
            let submission = Submission {
                ranks,
                graphs: &going,
                rounds,
                images,
            };
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-persistence.diagram"),
                });
            self.recorder()
                .diagram(&mut encoder, ws, &submission, timer);
            let timer_bytes = timer.map(|t| t.resolve(&mut encoder));
            self.queue.submit([encoder.finish()]);
            stats.submissions += 1;
            let control = self
                .read(&[(&ws.readback, READBACK_BYTES)])?
                .pop()
                .unwrap_or_default();
            if let (Some(timer), Some(bytes)) = (timer, timer_bytes) {
                let words = match bytes {
                    0 => Vec::new(),
                    _ => self
                        .read(&[(timer.readback(), bytes)])?
                        .pop()
                        .unwrap_or_default(),
                };
                timer.collect(&words, period, &mut kernel_seconds);
            }
            if ws.timestamps.is_some() {
                let t = control.get(2 * CONTROL_WORDS as usize..).unwrap_or(&[]);
                StageTimestamps::add_seconds(t, submission.stages(), period, &mut seconds);
            }
            let word = |graph: usize, w: u32| {
                control
                    .get(graph * CONTROL_WORDS as usize + w as usize)
                    .copied()
                    .unwrap_or(0)
            };
            going.retain(|&i| word(i, C_HOOKS) < word(i, C_TARGET));
            if going.is_empty() {
                break (0..ws.graphs.len())
                    .map(|i| [word(i, C_ROUNDS), word(i, C_PAIRS)])
                    .collect::<Vec<_>>();
            }
            if rounds >= MAX_ROUNDS {
                return Err(Error::NotConverged { rounds });
            }
            ranks = false;
            rounds *= 2;
            ws.rounds_hint.fetch_max(rounds, Ordering::Relaxed);
        };
        for (i, &[graph_rounds, _]) in control.iter().enumerate().take(2) {
            stats.rounds[i] = graph_rounds;
        }
        if ws.timestamps.is_some() {
            stats.stage_seconds = Some(seconds);
        }
        if let Some(timer) = timer {
            stats.kernel_seconds = Some(kernel_seconds);
            stats.untimed_dispatches = timer.untimed();
        }
        let apparent = self.read_apparent(ws, images)?;
        let pairs = match &ws.host_ranking {
            Some(_) => GpuPairs::State(self.read_state(ws, images)?),
            None => {
                let counts: Vec<u64> = control.iter().map(|&[_, pairs]| pairs as u64).collect();
                GpuPairs::Records(self.read_records(ws, &counts, images)?)
            }
        };
        let after = self.transfers();
        stats.bytes_mapped = after[0] - before[0];
        stats.bytes_written = after[1] - before[1];
        Ok(GpuRun {
            pairs,
            apparent,
            stats,
        })
    }
}
