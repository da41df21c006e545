//! The GPU engine: records every stage of a diagram (or a whole batch) into one encoder — the
//! ranking pass, then one pass per graph (H0, then H1 of an image or H2 of a volume) — submits it,
//! reads back the control words, and then copies exactly the pair records written and reads them
//! (a second, small submission). Where a graph needs more hooking rounds than were recorded, that
//! graph is run again with twice as many, in one more submission; the shape remembers the count.
//! Where the records would not fit one storage binding (and for every volume), the pairing state
//! comes back instead, and the pipeline compacts it on the host.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::buffers::{mappable, read_words, storage, uniform};
use super::kernels::boruvka_control::ControlStep;
use super::kernels::boruvka_select::SelectPass;
use super::kernels::{whole, GraphKernels, Kernels};
use super::timing::{KernelTime, KernelTimer, StageTimestamps, STAGES};
use super::workspace::{
    check_limits, CapacityOverride, GraphStage, Ranking, Workspace, WorkspaceKey, CONTROL_BYTES,
    READBACK_BYTES, RECORD_BYTES,
};
use super::RunStats;
use crate::diagram::RawPair;
use crate::grid::Grid;
use crate::input::Stack;
use crate::layout::{
    self, PairRecord, ScatterParams, CONTROL_WORDS, C_HOOKS, C_PAIRS, C_ROUNDS, C_TARGET,
};
use crate::options::Options;
use crate::{Error, Result};

/// Rounds after which the engine gives up with [`Error::NotConverged`] (never seen: each round at
/// least one component per connected group of components merges, and in practice they halve).
const MAX_ROUNDS: u32 = 1 << 14;

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
struct ScatterBuffers {
    contributions: u64,
    pixels: u64,
    buffers: Option<[wgpu::Buffer; 5]>,
}

/// The GPU engine: a device, a queue, the compiled kernels and a reusable workspace.
pub(crate) struct GpuEngine {
    device: wgpu::Device,
    queue: wgpu::Queue,
    kernels: Kernels,
    info: wgpu::AdapterInfo,
    workspace: Mutex<Option<Workspace>>,
    scatter: Mutex<ScatterBuffers>,
    lost: Arc<Mutex<Option<String>>>,
    capacity: Mutex<CapacityOverride>,
    /// Timestamps inside passes, when the device has them ([`Self::set_kernel_timings`]).
    kernel_timer: Option<KernelTimer>,
    kernel_timing: AtomicBool,
    last_stats: Mutex<RunStats>,
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
    /// An engine on an existing device (the caller keeps using it).
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        let kernels = Kernels::new(&device);
        let lost = Arc::new(Mutex::new(None));
        let flag = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = flag.lock() {
                *slot = Some(format!("{reason:?}: {message}"));
            }
        });
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

    /// The statistics of the last run.
    pub fn last_stats(&self) -> RunStats {
        self.last_stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// `Err` once the device has been lost.
    fn check_lost(&self) -> Result<()> {
        match self.lost.lock().map(|l| l.clone()) {
            Ok(None) => Ok(()),
            Ok(Some(reason)) => Err(Error::Device(format!("device lost ({reason})"))),
            Err(_) => Err(Error::Device("device state lock poisoned".into())),
        }
    }

    /// Runs `work` inside a validation error scope: a lost device or a validation error is the
    /// error, whatever `work` returned.
    fn validated<T>(&self, work: impl FnOnce() -> Result<T>) -> Result<T> {
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

    /// Records `record` into one compute pass of a new encoder and `after` into the encoder after
    /// it, submits, and reads back the first bytes of each of `reads` (mappable buffers).
    fn submit_and_read(
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
        read_words(&self.device, reads)
    }

    /// The workspace for this stack's shape, made anew (old buffers freed first) when the shape changed.
    fn workspace_for(
        &self,
        stack: &Stack,
        options: &Options,
    ) -> Result<MutexGuard<'_, Option<Workspace>>> {
        let capacity = self
            .capacity
            .lock()
            .map(|c| *c)
            .map_err(|_| Error::Device("capacity lock poisoned".into()))?;
        let key = WorkspaceKey {
            images: stack.count(),
            shape: stack.shape(),
            construction: options.construction,
            capacity,
        };
        let grids = key.grids()?;
        check_limits(&self.device.limits(), &key, &grids)?;
        self.check_lost()?;
        let mut guard = self
            .workspace
            .lock()
            .map_err(|_| Error::Device("workspace lock poisoned".into()))?;
        if guard.as_ref().map(|w| w.key) != Some(key) {
            *guard = None; // free the old buffers first
            let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
            let ws = Workspace::new(&self.device, &self.kernels, key, grids);
            if let Some(e) = pollster::block_on(scope.pop()) {
                return Err(Error::Device(format!("allocating the workspace: {e}")));
            }
            *guard = Some(ws);
        }
        Ok(guard)
    }

    /// Uploads the pixels and this call's parameters.
    fn write_inputs(&self, ws: &Workspace, stack: &Stack, options: &Options) {
        self.queue
            .write_buffer(&ws.ranking.values, 0, bytemuck::cast_slice(stack.values()));
        ws.write_params(&self.queue, options);
    }

    /// The graph kernels `g` was bound for.
    fn graph_kernels(&self, g: &GraphStage) -> &GraphKernels {
        let domain = match g.grid.kind.is_volume() {
            true => crate::input::Domain::Volume,
            false => crate::input::Domain::Image,
        };
        self.kernels.graphs(&self.device, domain)
    }

    /// Records the ranking: keys, the radix sort (histogram, scan, scatter per pass), the ranks.
    fn record_ranking(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        r: &Ranking,
        timer: Option<&KernelTimer>,
    ) {
        let k = &self.kernels;
        k.order_keys
            .record(pass, &r.keys_bind, r.pixels as u64, timer);
        for sort_pass in &r.passes {
            k.radix_histogram
                .record(pass, &sort_pass.histogram, r.tiles, timer);
            for level in &r.scan_levels {
                if let Some(reduce) = &level.reduce {
                    k.scan_reduce.record(pass, reduce, level.count, timer);
                }
            }
            for level in r.scan_levels.iter().rev() {
                k.scan_apply.record(pass, &level.apply, level.count, timer);
            }
            k.radix_scatter
                .record(pass, &sort_pass.scatter, r.tiles, timer);
        }
        k.rank_scatter
            .record(pass, &r.rank_bind, r.pixels as u64, timer);
    }

    /// Records the pairing of graph `g`: its init and `rounds` hooking rounds (the first is the
    /// vertex-local one).
    fn record_pairing(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        g: &GraphStage,
        rounds: u32,
        timer: Option<&KernelTimer>,
    ) {
        let k = &self.kernels;
        let gk = self.graph_kernels(g);
        let control = |pass: &mut wgpu::ComputePass<'_>, step| {
            k.boruvka_control.record(pass, step, &g.control_bind, timer)
        };
        gk.init.record(pass, &g.init, g.vertices, timer);
        // round 1 vertex by vertex, then rounds over the live edges and roots
        control(pass, ControlStep::FirstRound);
        gk.first_round
            .record(pass, &g.first_round, g.vertices, timer);
        control(pass, ControlStep::AfterHook);
        k.pointer_jump.record(pass, &g.jump[0], &g.args, timer);
        for round in 1..rounds as usize {
            let p = round % 2;
            control(pass, ControlStep::RoundStart);
            gk.select.record(
                pass,
                SelectPass::High,
                &g.select[p],
                &g.args,
                layout::SLOT_SELECT_FIRST,
                timer,
            );
            control(pass, ControlStep::AfterSelect);
            for which in [SelectPass::Low, SelectPass::Target] {
                gk.select.record(
                    pass,
                    which,
                    &g.select[p],
                    &g.args,
                    layout::SLOT_SELECT_REST,
                    timer,
                );
            }
            k.boruvka_hook.record(pass, &g.hook[p], &g.args, timer);
            control(pass, ControlStep::AfterHook);
            k.pointer_jump.record(pass, &g.jump[p], &g.args, timer);
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
        let mut first = true;
        let mut going: Vec<usize> = (0..ws.graphs.len()).collect();
        let control = loop {
            for &i in &going {
                let g = &ws.graphs[i];
                let initial = g.initial_control(images, ws.pairing.edge_capacity);
                self.queue
                    .write_buffer(&g.control, 0, bytemuck::cast_slice(&initial));
            }
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-persistence.diagram"),
                });
            // three passes (ranking, H0 pairing, dual pairing), timed when the adapter can
            let stage_writes = |stage: usize| ws.timestamps.as_ref().map(|t| t.writes(stage));
            if first {
                {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("wgpu-persistence.ranking"),
                        timestamp_writes: stage_writes(0),
                    });
                    if let Some(timer) = timer {
                        timer.start_pass(&mut pass);
                    }
                    self.record_ranking(&mut pass, &ws.ranking, timer);
                    if let (Some(a), Some(kernel)) = (
                        &ws.apparent,
                        &self
                            .kernels
                            .graphs(&self.device, stack.shape().domain())
                            .apparent,
                    ) {
                        kernel.record(&mut pass, &a.bind, a.words * images as u64, timer);
                    }
                }
                if let Some(a) = &ws.apparent {
                    let bytes = a.words * images as u64 * 4;
                    encoder.copy_buffer_to_buffer(&a.buffer, 0, &a.copy, 0, Some(bytes));
                }
                if let Some(h) = &ws.host_ranking {
                    let bytes = ws.ranking.pixels as u64 * 4;
                    encoder.copy_buffer_to_buffer(&ws.ranking.order, 0, &h.order, 0, Some(bytes));
                    encoder.copy_buffer_to_buffer(&ws.ranking.keys, 0, &h.keys, 0, Some(bytes));
                }
            }
            for &i in &going {
                let g = &ws.graphs[i];
                {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("wgpu-persistence.pairing"),
                        timestamp_writes: stage_writes(i + 1),
                    });
                    if let Some(timer) = timer {
                        timer.start_pass(&mut pass);
                    }
                    self.record_pairing(&mut pass, g, rounds, timer);
                    if g.host_state.is_none() {
                        self.graph_kernels(g)
                            .compact
                            .record(&mut pass, &g.compact, g.vertices, timer);
                    }
                }
                // the graphs share the per-vertex arrays: keep this one's state before the next
                if let Some(state) = &g.host_state {
                    let bytes = g.vertices * 4;
                    let p = &ws.pairing;
                    for (from, to) in [&p.vkey, &p.best[0], &p.best[1]].into_iter().zip(state) {
                        encoder.copy_buffer_to_buffer(from, 0, to, 0, Some(bytes));
                    }
                }
            }
            // the stages written in this submission: the ranking (first only), then the graphs going
            let stages = if first { 0 } else { going[0] + 1 }..going[going.len() - 1] + 2;
            if let Some(t) = &ws.timestamps {
                t.resolve(
                    &mut encoder,
                    stages.clone(),
                    &ws.readback,
                    2 * CONTROL_BYTES,
                );
            }
            for (i, g) in ws.graphs.iter().enumerate() {
                encoder.copy_buffer_to_buffer(
                    &g.control,
                    0,
                    &ws.readback,
                    i as u64 * CONTROL_BYTES,
                    Some(CONTROL_BYTES),
                );
            }
            let timer_bytes = timer.map(|t| t.resolve(&mut encoder));
            self.queue.submit([encoder.finish()]);
            stats.submissions += 1;
            let mut words = read_words(&self.device, &[(&ws.readback, READBACK_BYTES)])?;
            let control = words.pop().unwrap_or_default();
            if let (Some(timer), Some(bytes)) = (timer, timer_bytes) {
                let words = match bytes {
                    0 => Vec::new(),
                    _ => read_words(&self.device, &[(timer.readback(), bytes)])?
                        .pop()
                        .unwrap_or_default(),
                };
                timer.collect(&words, period, &mut kernel_seconds);
            }
            if ws.timestamps.is_some() {
                let t = control.get(2 * CONTROL_WORDS as usize..).unwrap_or(&[]);
                StageTimestamps::add_seconds(t, stages, period, &mut seconds);
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
            first = false;
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
        let apparent = match &ws.apparent {
            Some(a) => {
                let bytes = a.words * images as u64 * 4;
                let all = read_words(&self.device, &[(&a.copy, bytes)])?
                    .pop()
                    .unwrap_or_default();
                all.chunks(a.words as usize).map(|c| c.to_vec()).collect()
            }
            None => Vec::new(),
        };
        let pairs = match &ws.host_ranking {
            Some(_) => GpuPairs::State(self.read_state(ws, images)?),
            None => {
                let counts: Vec<u64> = control.iter().map(|&[_, pairs]| pairs as u64).collect();
                GpuPairs::Records(self.read_records(ws, &counts, images)?)
            }
        };
        Ok(GpuRun {
            pairs,
            apparent,
            stats,
        })
    }

    /// Copies exactly the records written (`counts` per graph) and reads them, per item.
    fn read_records(
        &self,
        ws: &mut Workspace,
        counts: &[u64],
        images: usize,
    ) -> Result<Vec<Vec<RawPair>>> {
        let bytes: Vec<u64> = counts.iter().map(|c| c * RECORD_BYTES).collect();
        let total: u64 = bytes.iter().sum();
        let mut out: Vec<Vec<RawPair>> = vec![Vec::new(); images];
        if total == 0 {
            return Ok(out);
        }
        let staging = ws.records_staging.at_least(&self.device, total);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-persistence.readback"),
            });
        let mut offset = 0;
        for (g, &b) in ws.graphs.iter().zip(&bytes) {
            if b > 0 {
                encoder.copy_buffer_to_buffer(&g.records, 0, staging, offset, Some(b));
            }
            offset += b;
        }
        self.queue.submit([encoder.finish()]);
        let words = read_words(&self.device, &[(staging, total)])?
            .pop()
            .unwrap_or_default();
        let records: &[PairRecord] = bytemuck::try_cast_slice(&words)
            .map_err(|e| Error::Internal(format!("pair records: {e}")))?;
        for r in records {
            if let Some(list) = out.get_mut(r.image as usize) {
                list.push(RawPair {
                    dim: r.dim & 0xff,
                    cell_slot: r.dim >> 8,
                    order: ((r.order_hi as u64) << 32) | r.order_lo as u64,
                    birth_index: r.birth_index,
                    death_index: r.death_index,
                });
            }
        }
        Ok(out)
    }

    /// The ranking and the pairing state of each graph that [`Self::run`] copied out.
    fn read_state(&self, ws: &Workspace, images: usize) -> Result<PairingReadback> {
        let bytes = ws.ranking.pixels as u64 * 4;
        let ranking = ws
            .host_ranking
            .as_ref()
            .ok_or_else(|| Error::Internal("no ranking to compact from".into()))?;
        // the ranking, then vkey, best_hi and best_lo of each graph, mapped together
        let mut buffers = vec![(&ranking.order, bytes), (&ranking.keys, bytes)];
        for g in &ws.graphs {
            let state = g
                .host_state
                .as_ref()
                .ok_or_else(|| Error::Internal("no pairing state to compact from".into()))?;
            let bytes = g.grid.vertex_count() as u64 * images as u64 * 4;
            buffers.extend(state.iter().map(|b| (b, bytes)));
        }
        let mut words = read_words(&self.device, &buffers)?.into_iter();
        let mut next = || words.next().unwrap_or_default();
        let (order, keys) = (next(), next());
        let graphs = ws.graphs.iter().map(|_| [next(), next(), next()]).collect();
        Ok(PairingReadback {
            grids: ws.graphs.iter().map(|g| g.grid).collect(),
            order,
            keys,
            graphs,
        })
    }

    /// Runs only the ranking and reads back `(rank, order)` of the whole stack (for the kernel tests).
    pub fn ranks(&self, stack: &Stack, options: &Options) -> Result<(Vec<u32>, Vec<u32>)> {
        let guard = self.workspace_for(stack, options)?;
        let ws = guard
            .as_ref()
            .ok_or_else(|| Error::Device("no workspace".into()))?;
        self.write_inputs(ws, stack, options);
        let bytes = ws.ranking.pixels as u64 * 4;
        let readback = mappable(&self.device, "ranks_readback", 2 * bytes);
        let mut words = self.validated(|| {
            self.submit_and_read(
                "wgpu-persistence.ranks",
                |pass| self.record_ranking(pass, &ws.ranking, None),
                |encoder| {
                    encoder.copy_buffer_to_buffer(&ws.ranking.rank, 0, &readback, 0, Some(bytes));
                    encoder.copy_buffer_to_buffer(
                        &ws.ranking.order,
                        0,
                        &readback,
                        bytes,
                        Some(bytes),
                    );
                },
                &[(&readback, 2 * bytes)],
            )
        })?;
        let mut rank = words.pop().unwrap_or_default();
        let order = rank.split_off(ws.ranking.pixels as usize);
        Ok((rank, order))
    }

    /// Runs the ranking and then exactly `rounds` hooking rounds of graph `which` (0: primal, 1: dual),
    /// and reads back `(parent, death)` of its vertices (`death` as `hi, lo` word pairs). For the
    /// kernel tests, which compare this state with the CPU port after the same rounds.
    pub fn pairing_state(
        &self,
        stack: &Stack,
        options: &Options,
        which: usize,
        rounds: u32,
    ) -> Result<(Vec<u32>, Vec<u32>)> {
        let guard = self.workspace_for(stack, options)?;
        let ws = guard
            .as_ref()
            .ok_or_else(|| Error::Device("no workspace".into()))?;
        let g = ws
            .graphs
            .get(which)
            .ok_or_else(|| Error::InvalidArgument(format!("no graph {which}")))?;
        self.write_inputs(ws, stack, options);
        let initial = g.initial_control(stack.count(), ws.pairing.edge_capacity);
        self.queue
            .write_buffer(&g.control, 0, bytemuck::cast_slice(&initial));
        let nv = g.vertices;
        let readback = mappable(&self.device, "pairing_state_readback", nv * 12);
        let p = &ws.pairing;
        let mut words = self.validated(|| {
            self.submit_and_read(
                "wgpu-persistence.pairing_state",
                |pass| {
                    self.record_ranking(pass, &ws.ranking, None);
                    self.record_pairing(pass, g, rounds, None);
                },
                |encoder| {
                    for (i, from) in [&p.parent, &p.best[0], &p.best[1]].into_iter().enumerate() {
                        encoder.copy_buffer_to_buffer(
                            from,
                            0,
                            &readback,
                            i as u64 * nv * 4,
                            Some(nv * 4),
                        );
                    }
                },
                &[(&readback, nv * 12)],
            )
        })?;
        let mut parent = words.pop().unwrap_or_default();
        let lo = parent.split_off(2 * nv as usize);
        let hi = parent.split_off(nv as usize);
        // a vertex's death is its best key once it has hooked (NONE while it is a root)
        let death = hi.iter().zip(&lo).flat_map(|(&h, &l)| [h, l]).collect();
        Ok((parent, death))
    }

    /// The dense gradient (`len` values) from contributions sorted by pixel (`pixels[i]` gets
    /// `values[i]`), summed per pixel in order on the GPU.
    pub fn gradient_scatter(&self, pixels: &[u32], values: &[f32], len: usize) -> Result<Vec<f32>> {
        self.check_lost()?;
        let limit = self.device.limits().max_storage_buffer_binding_size;
        let count = pixels.len().min(values.len());
        if (len as u64) * 4 > limit || (count as u64) * 4 > limit {
            return Err(Error::TooLarge {
                what: "bytes in one storage binding on this adapter",
                value: (len.max(count) as u64) * 4,
                limit,
            });
        }
        let mut scatter = self
            .scatter
            .lock()
            .map_err(|_| Error::Device("scatter lock poisoned".into()))?;
        let [pixel_buf, value_buf, gradient, readback, params] =
            self.scatter_buffers(&mut scatter, count as u64, len as u64);
        let bytes = (len as u64 * 4).max(4);
        if count > 0 {
            self.queue
                .write_buffer(&pixel_buf, 0, bytemuck::cast_slice(&pixels[..count]));
            self.queue
                .write_buffer(&value_buf, 0, bytemuck::cast_slice(&values[..count]));
        }
        let scatter_params = ScatterParams {
            count: count as u32,
            pixels: len as u32,
        };
        self.queue
            .write_buffer(&params, 0, bytemuck::bytes_of(&scatter_params));
        let bind = self.kernels.gradient_scatter.bind(
            &self.device,
            layout::gradient_scatter::Bindings {
                params: whole(&params),
                pixel: whole(&pixel_buf),
                value: whole(&value_buf),
                gradient: whole(&gradient),
            },
        );
        let mut words = self.validated(|| {
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-persistence.gradient"),
                });
            encoder.clear_buffer(&gradient, 0, Some(bytes.next_multiple_of(4)));
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("wgpu-persistence.gradient"),
                    timestamp_writes: None,
                });
                self.kernels
                    .gradient_scatter
                    .record(&mut pass, &bind, count as u64, None);
            }
            encoder.copy_buffer_to_buffer(&gradient, 0, &readback, 0, Some(bytes));
            self.queue.submit([encoder.finish()]);
            read_words(&self.device, &[(&readback, bytes)])
        })?;
        let mut out: Vec<f32> = bytemuck::cast_slice(&words.pop().unwrap_or_default()).to_vec();
        out.truncate(len);
        Ok(out)
    }

    /// The scatter's buffers, grown to `contributions` and `pixels` when smaller.
    fn scatter_buffers(
        &self,
        s: &mut ScatterBuffers,
        contributions: u64,
        pixels: u64,
    ) -> [wgpu::Buffer; 5] {
        use wgpu::BufferUsages as U;
        if s.contributions < contributions || s.pixels < pixels {
            if let Some(old) = s.buffers.take() {
                old.iter().for_each(|b| b.destroy());
            }
            s.contributions = s
                .contributions
                .max(contributions)
                .max(1)
                .next_power_of_two();
            s.pixels = s.pixels.max(pixels).max(1).next_power_of_two();
        }
        let (d, n, p) = (&self.device, s.contributions.max(1), s.pixels.max(1));
        s.buffers
            .get_or_insert_with(|| {
                [
                    storage(d, "contribution_pixels", n * 4, U::COPY_DST),
                    storage(d, "contribution_values", n * 4, U::COPY_DST),
                    storage(d, "gradient", p * 4, U::COPY_SRC | U::COPY_DST),
                    mappable(d, "gradient_readback", p * 4),
                    uniform(d, "scatter_params", &ScatterParams::default()),
                ]
            })
            .clone()
    }
}
