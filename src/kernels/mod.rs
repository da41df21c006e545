//! One struct per WGSL kernel: its pipeline, its explicit bind-group layout, and how to bind and
//! dispatch it. Kernels record into a caller's compute pass; only the engine creates encoders and submits.

pub mod apparent_pairs;
pub mod boruvka_control;
pub mod boruvka_first_round;
pub mod boruvka_hook;
pub mod boruvka_init;
pub mod boruvka_select;
pub mod compact_pairs;
pub mod gradient_scatter;
pub mod order_keys;
pub mod pointer_jump;
pub mod radix_histogram;
pub mod radix_scatter;
pub mod rank_scatter;
pub mod scan_apply;
pub mod scan_reduce;

use bytemuck::{Pod, Zeroable};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Most workgroups per dispatch dimension (WebGPU's default limit).
pub const MAX_GROUPS_PER_DIM: u32 = 65535;

/// Parameters of one graph of a batch; mirrors `GraphParams` in `shaders/common/params.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct GraphParams {
    /// `GraphKind` as `u32`.
    pub kind: u32,
    /// Image rows.
    pub height: u32,
    /// Image columns.
    pub width: u32,
    /// Images in the batch.
    pub images: u32,
    /// Pixels per image.
    pub pixels: u32,
    /// Vertices of one image's graph.
    pub vertices: u32,
    /// Edges of one image's graph.
    pub edges: u32,
    /// Bit 0: keep zero-persistence pairs.
    pub flags: u32,
    /// Volume slices (1 for images).
    pub depth: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 3],
}

/// How a binding is used by a kernel.
#[derive(Debug, Clone, Copy)]
pub enum Binding {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// A compute pipeline with its bind-group layout.
#[derive(Debug)]
pub struct ComputeKernel {
    /// The pipeline (entry point `main`).
    pub pipeline: wgpu::ComputePipeline,
    /// Its explicit bind-group layout (group 0).
    pub layout: wgpu::BindGroupLayout,
    label: &'static str,
}

impl ComputeKernel {
    /// Build a kernel from resolved WGSL, its bindings in order, and override constants.
    pub fn new(
        device: &wgpu::Device,
        label: &'static str,
        source: &str,
        bindings: &[Binding],
        constants: &[(&str, f64)],
    ) -> Self {
        let entries: Vec<wgpu::BindGroupLayoutEntry> = bindings
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: match b {
                    Binding::Uniform => wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    Binding::Read | Binding::ReadWrite => wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage {
                            read_only: matches!(b, Binding::Read),
                        },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                },
                count: None,
            })
            .collect();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        Self {
            pipeline,
            layout,
            label,
        }
    }

    /// A bind group of `buffers`, in binding order.
    pub fn bind(&self, device: &wgpu::Device, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.label),
            layout: &self.layout,
            entries: &entries,
        })
    }

    /// Record a dispatch of `groups` (x, y) workgroups (timed when `timer` is given).
    pub fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        groups: (u32, u32),
        timer: Option<&KernelTimer>,
    ) {
        if groups.0 == 0 {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, 1);
        if let Some(timer) = timer {
            timer.stamp(pass, self.label);
        }
    }

    /// Record an indirect dispatch whose size sits at `offset` bytes in `args` (timed when `timer`
    /// is given).
    pub fn dispatch_indirect(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        args: &wgpu::Buffer,
        offset: u64,
        timer: Option<&KernelTimer>,
    ) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups_indirect(args, offset);
        if let Some(timer) = timer {
            timer.stamp(pass, self.label);
        }
    }
}

/// Workgroups `(x, y)` for `items` invocations of `per_group` each, tiled into a second dimension past
/// 65535 groups.
pub fn groups_for(items: u64, per_group: u32) -> (u32, u32) {
    let groups = items.div_ceil(per_group as u64);
    if groups == 0 {
        return (0, 1);
    }
    if groups <= MAX_GROUPS_PER_DIM as u64 {
        return (groups as u32, 1);
    }
    let y = groups.div_ceil(MAX_GROUPS_PER_DIM as u64);
    let x = groups.div_ceil(y);
    (x as u32, y as u32)
}

macro_rules! shader {
    ($name:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/", $name, ".wgsl"))
    };
}
pub(crate) use shader;

/// Timestamps this many dispatches of one submission at most (wgpu's limit on a query set).
pub const TIMER_QUERIES: u32 = 4096;

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
pub struct KernelTimer {
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
