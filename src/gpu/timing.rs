//! Optional GPU timing from timestamp queries, requested only where the adapter offers them: the
//! time of each stage (ranking, H0 pairing, dual pairing) from timestamps at the passes' ends, and,
//! opt-in, the time of every kernel from a timestamp after each dispatch.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// The stages a diagram's run is timed in: one compute pass each.
pub(crate) const STAGES: usize = 3;

/// Timestamps at the start and end of each stage's pass, and the buffer they resolve into.
#[derive(Debug)]
pub(crate) struct StageTimestamps {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
}

impl StageTimestamps {
    /// The query set, when the device can time passes.
    pub fn new(device: &wgpu::Device) -> Option<Self> {
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return None;
        }
        Some(Self {
            set: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("wgpu-persistence.stages"),
                ty: wgpu::QueryType::Timestamp,
                count: 2 * STAGES as u32,
            }),
            resolve: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("wgpu-persistence.stage_timestamps"),
                size: Self::BYTES,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
        })
    }

    /// Bytes of every stage's two timestamps.
    pub const BYTES: u64 = 16 * STAGES as u64;

    /// The timestamp writes of stage `stage`'s pass.
    pub fn writes(&self, stage: usize) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.set,
            beginning_of_pass_write_index: Some(2 * stage as u32),
            end_of_pass_write_index: Some(2 * stage as u32 + 1),
        }
    }

    /// Records the resolution of the timestamps of `stages` and their copy to `to` at `offset`.
    pub fn resolve(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        stages: std::ops::Range<usize>,
        to: &wgpu::Buffer,
        offset: u64,
    ) {
        let queries = 2 * stages.start as u32..2 * stages.end as u32;
        let bytes = 8 * (queries.end - queries.start) as u64;
        encoder.resolve_query_set(&self.set, queries, &self.resolve, 0);
        encoder.copy_buffer_to_buffer(&self.resolve, 0, to, offset, Some(bytes));
    }

    /// Adds the seconds of each stage of `stages` to `seconds`, from their resolved timestamps
    /// (`words`, as [`Self::resolve`] copied them; `period`: seconds per tick).
    pub fn add_seconds(
        words: &[u32],
        stages: std::ops::Range<usize>,
        period: f64,
        seconds: &mut [f64; STAGES],
    ) {
        let tick = |q: usize| {
            let j = 2 * q;
            match (words.get(j), words.get(j + 1)) {
                (Some(&lo), Some(&hi)) => (lo as u64) | ((hi as u64) << 32),
                _ => 0,
            }
        };
        for (i, stage) in stages.enumerate() {
            let ticks = tick(2 * i + 1).saturating_sub(tick(2 * i));
            seconds[stage] += ticks as f64 * period;
        }
    }
}

/// Timestamps this many dispatches of one submission at most (wgpu's limit on a query set).
pub(crate) const TIMER_QUERIES: u32 = 4096;

/// GPU time of one kernel, summed over its dispatches.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelTime {
    /// The kernel (its WGSL file's name).
    pub kernel: &'static str,
    /// Seconds between the end of the dispatch before it (or the start of its pass) and its end.
    pub seconds: f64,
    /// Dispatches timed (an indirect dispatch of zero workgroups counts too).
    pub dispatches: u32,
}

/// Per-kernel GPU time from a timestamp after every dispatch (wgpu's
/// `TIMESTAMP_QUERY_INSIDE_PASSES`). A dispatch's time is the span from the timestamp before it
/// (the previous dispatch's, or the one at the start of its pass) to its own, so the barrier that
/// waits for the previous dispatch is charged to the next. The timestamps themselves cost time, so
/// this is opt-in (`GpuEngine::set_kernel_timings`).
pub(crate) struct KernelTimer {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// The kernel of every timestamp written in this submission (`""`: the start of a pass).
    stamps: Mutex<Vec<&'static str>>,
    /// Dispatches of this run left untimed because the query set was full.
    untimed: AtomicU32,
}

impl KernelTimer {
    /// A timer, when the device can write timestamps inside passes.
    pub fn new(device: &wgpu::Device) -> Option<Self> {
        let needed =
            wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES;
        if !device.features().contains(needed) {
            return None;
        }
        let bytes = 8 * TIMER_QUERIES as u64;
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        Some(Self {
            set: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("wgpu-persistence.kernels"),
                ty: wgpu::QueryType::Timestamp,
                count: TIMER_QUERIES,
            }),
            resolve: buffer("kernel_timestamps", U::QUERY_RESOLVE | U::COPY_SRC),
            readback: buffer("kernel_timestamps_readback", U::MAP_READ | U::COPY_DST),
            stamps: Mutex::new(Vec::new()),
            untimed: AtomicU32::new(0),
        })
    }

    /// Forgets what an earlier run left (one whose readback failed) before a run starts.
    pub fn start_run(&self) {
        if let Ok(mut stamps) = self.stamps.lock() {
            stamps.clear();
        }
        self.untimed.store(0, Ordering::Relaxed);
    }

    /// Marks the start of a pass: its first dispatch is timed from here.
    pub fn start_pass(&self, pass: &mut wgpu::ComputePass<'_>) {
        self.stamp(pass, "");
    }

    /// Writes a timestamp for `kernel` (`""` at the start of a pass); none once the query set is
    /// full: the rest of the submission goes untimed, and [`Self::untimed`] counts it.
    pub fn stamp(&self, pass: &mut wgpu::ComputePass<'_>, kernel: &'static str) {
        if let Ok(mut stamps) = self.stamps.lock() {
            let index = stamps.len() as u32;
            if index < TIMER_QUERIES {
                pass.write_timestamp(&self.set, index);
                stamps.push(kernel);
            } else {
                self.untimed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Dispatches of this run that found the query set full (their time is in no kernel's).
    pub fn untimed(&self) -> u32 {
        self.untimed.load(Ordering::Relaxed)
    }

    /// Records the copy of this submission's timestamps to the readback buffer; returns how many
    /// bytes [`Self::collect`] needs read from [`Self::readback`].
    pub fn resolve(&self, encoder: &mut wgpu::CommandEncoder) -> u64 {
        let count = self.stamps.lock().map(|s| s.len() as u32).unwrap_or(0);
        if count > 0 {
            encoder.resolve_query_set(&self.set, 0..count, &self.resolve, 0);
            encoder.copy_buffer_to_buffer(
                &self.resolve,
                0,
                &self.readback,
                0,
                Some(8 * count as u64),
            );
        }
        8 * count as u64
    }

    /// The buffer [`Self::resolve`] copies to.
    pub fn readback(&self) -> &wgpu::Buffer {
        &self.readback
    }

    /// Adds every timed dispatch of the submission (`words`: its resolved timestamps, read back) to
    /// `totals`, and forgets the submission's timestamps. `period`: seconds per tick.
    pub fn collect(&self, words: &[u32], period: f64, totals: &mut Vec<KernelTime>) {
        let Ok(mut stamps) = self.stamps.lock() else {
            return;
        };
        let tick = |i: usize| (words[2 * i] as u64) | ((words[2 * i + 1] as u64) << 32);
        for i in 1..stamps.len().min(words.len() / 2) {
            let kernel = stamps[i].trim_start_matches("wgpu-persistence.");
            if kernel.is_empty() {
                continue;
            }
            let seconds = tick(i).saturating_sub(tick(i - 1)) as f64 * period;
            match totals.iter_mut().find(|t| t.kernel == kernel) {
                Some(total) => {
                    total.seconds += seconds;
                    total.dispatches += 1;
                }
                None => totals.push(KernelTime {
                    kernel,
                    seconds,
                    dispatches: 1,
                }),
            }
        }
        stamps.clear();
    }
}
