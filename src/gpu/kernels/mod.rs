//! One struct per WGSL kernel, of the shader's name: its pipeline(s), its explicit bind-group layout,
//! and typed `bind` and `record` methods (bindings by name, from [`crate::layout`]). Kernels record
//! into a caller's compute pass; nothing here creates an encoder or submits.

/// Declares the struct of one kernel (one per shader, of its name): its pipeline from the shader's
/// generated [`Shader`], and a typed `bind` that takes the shader's generated `Bindings` (its
/// buffers by the names the WGSL gives them). Options:
/// - `graphs`: compiled for the graphs of images or of volumes (the override `VOLUME`);
/// - `per invocation` / `per group N`: a `record(pass, bind, items, timer)` that dispatches one
///   invocation per item, or one workgroup per `N` items (a tile, a scan block);
/// - `indirect at SLOT`: a `record(pass, bind, args, timer)` sized by an indirect slot.
///
/// Kernels with modes write their own `new` and `record`.
macro_rules! kernel {
    (@struct $(#[$doc:meta])* $name:ident = $module:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub(crate) struct $name($crate::gpu::kernels::ComputeKernel);

        impl $name {
            /// A bind group of the kernel's buffers, by name.
            pub fn bind(
                &self,
                device: &wgpu::Device,
                bindings: $crate::layout::$module::Bindings<'_>,
            ) -> wgpu::BindGroup {
                self.0.bind(device, &bindings.entries())
            }
        }
    };
    (@new $name:ident = $module:ident) => {
        impl $name {
            pub fn new(device: &wgpu::Device) -> Self {
                Self($crate::gpu::kernels::ComputeKernel::new(
                    device,
                    &$crate::layout::$module::SHADER,
                    &[],
                ))
            }
        }
    };
    (@new $name:ident = $module:ident, graphs) => {
        impl $name {
            /// The kernel for the graphs of images or of volumes.
            pub fn new(device: &wgpu::Device, domain: $crate::input::Domain) -> Self {
                Self($crate::gpu::kernels::ComputeKernel::new(
                    device,
                    &$crate::layout::$module::SHADER,
                    &[("VOLUME", domain.volume_override())],
                ))
            }
        }
    };
    (@record $name:ident, $per_group:expr) => {
        impl $name {
            /// Records a dispatch sized for `items`.
            pub fn record(
                &self,
                pass: &mut wgpu::ComputePass<'_>,
                bind: &wgpu::BindGroup,
                items: u64,
                timer: Option<&$crate::gpu::timing::KernelTimer>,
            ) {
                let groups = $crate::gpu::kernels::groups_for(items, $per_group);
                self.0.dispatch(pass, bind, groups, timer);
            }
        }
    };
    ($(#[$doc:meta])* $name:ident = $module:ident, graphs, per invocation) => {
        kernel!(@struct $(#[$doc])* $name = $module);
        kernel!(@new $name = $module, graphs);
        kernel!(@record $name, $crate::layout::$module::SHADER.workgroup_size[0]);
    };
    ($(#[$doc:meta])* $name:ident = $module:ident, per invocation) => {
        kernel!(@struct $(#[$doc])* $name = $module);
        kernel!(@new $name = $module);
        kernel!(@record $name, $crate::layout::$module::SHADER.workgroup_size[0]);
    };
    ($(#[$doc:meta])* $name:ident = $module:ident, per group $per_group:expr) => {
        kernel!(@struct $(#[$doc])* $name = $module);
        kernel!(@new $name = $module);
        kernel!(@record $name, $per_group);
    };
    ($(#[$doc:meta])* $name:ident = $module:ident, indirect at $slot:expr) => {
        kernel!(@struct $(#[$doc])* $name = $module);
        kernel!(@new $name = $module);
        impl $name {
            /// Records a dispatch sized by the indirect arguments `args` hold at their slot.
            pub fn record(
                &self,
                pass: &mut wgpu::ComputePass<'_>,
                bind: &wgpu::BindGroup,
                args: &wgpu::Buffer,
                timer: Option<&$crate::gpu::timing::KernelTimer>,
            ) {
                self.0.dispatch_indirect(pass, 0, bind, args, $slot, timer);
            }
        }
    };
    ($(#[$doc:meta])* $name:ident = $module:ident) => {
        kernel!(@struct $(#[$doc])* $name = $module);
    };
}
pub(crate) use kernel;

pub(crate) mod apparent_pairs;
pub(crate) mod boruvka_control;
pub(crate) mod boruvka_first_round;
pub(crate) mod boruvka_hook;
pub(crate) mod boruvka_init;
pub(crate) mod boruvka_select;
pub(crate) mod compact_pairs;
pub(crate) mod gradient_scatter;
pub(crate) mod loss_gather;
pub(crate) mod loss_reduce;
pub(crate) mod loss_scatter;
pub(crate) mod loss_select;
pub(crate) mod loss_terms;
pub(crate) mod order_keys;
pub(crate) mod pair_counts;
pub(crate) mod pointer_jump;
pub(crate) mod radix_histogram;
pub(crate) mod radix_scatter;
pub(crate) mod rank_scatter;
pub(crate) mod record_buckets;
pub(crate) mod scan_apply;
pub(crate) mod scan_reduce;

use super::timing::KernelTimer;
use crate::input::Domain;
use crate::layout::{Access, Shader, MAX_GROUPS_PER_DIM};

/// Whether `shader`'s uniform bindings are bound as read-only storage buffers on this device: on a
/// software adapter (device type `Cpu`), where the device allows that many storage bindings.
/// Lavapipe (Mesa 22.3) inlines the values of a pipeline's uniform buffer into its shader at every
/// dispatch that binds it, compiling a new variant each time and never freeing it: about 1 MB of the
/// process's memory per diagram, for as long as the device lives (docs/performance.md, section 6).
/// A storage buffer's values are not inlined: the same calls then take no memory at all
/// (`tests/memory.rs`). The WGSL and the values are the same; only the binding type changes, and
/// every uniform buffer of the crate is also made with `STORAGE` usage for it.
fn params_in_storage(device: &wgpu::Device, shader: &Shader) -> bool {
    device.adapter_info().device_type == wgpu::DeviceType::Cpu
        && shader.access.len() as u32 <= device.limits().max_storage_buffers_per_shader_stage
}

/// The compute pipeline of a shader, or one per variant (values of its override constants), with
/// the explicit bind-group layout (group 0) they share, labelled `wgpu-persistence.<kernel>`.
#[derive(Debug)]
pub(crate) struct ComputeKernel {
    pipelines: Vec<wgpu::ComputePipeline>,
    layout: wgpu::BindGroupLayout,
    label: &'static str,
}

impl ComputeKernel {
    /// The pipeline of `shader` with the given override constants (each one the shader declares).
    pub fn new(device: &wgpu::Device, shader: &Shader, constants: &[(&str, f64)]) -> Self {
        Self::variants(device, shader, &[constants])
    }

    /// One pipeline per set of override constants, all with one bind-group layout: a bind group
    /// serves every variant.
    pub fn variants(device: &wgpu::Device, shader: &Shader, variants: &[&[(&str, f64)]]) -> Self {
        debug_assert!(
            variants
                .iter()
                .flat_map(|v| v.iter())
                .all(|(name, _)| shader.overrides.contains(name)),
            "{}: unknown override in {variants:?}",
            shader.name
        );
        let label = shader.label;
        let in_storage = params_in_storage(device, shader);
        let entries: Vec<wgpu::BindGroupLayoutEntry> = shader
            .access
            .iter()
            .enumerate()
            .map(|(i, access)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match access {
                        Access::Uniform if !in_storage => wgpu::BufferBindingType::Uniform,
                        Access::Uniform => wgpu::BufferBindingType::Storage { read_only: true },
                        Access::Read | Access::ReadWrite => wgpu::BufferBindingType::Storage {
                            read_only: *access == Access::Read,
                        },
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
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
        let source = match in_storage {
            true => shader
                .source
                .replace("var<uniform>", "var<storage, read>")
                .into(),
            false => shader.source.into(),
        };
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source),
        });
        let pipelines = variants
            .iter()
            .map(|constants| {
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(label),
                    layout: Some(&pipeline_layout),
                    module: &module,
                    entry_point: Some("main"),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants,
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: None,
                })
            })
            .collect();
        Self {
            pipelines,
            layout,
            label,
        }
    }

    /// A bind group of the entries a kernel's generated `Bindings::entries` gives.
    pub fn bind(
        &self,
        device: &wgpu::Device,
        entries: &[wgpu::BindGroupEntry<'_>],
    ) -> wgpu::BindGroup {
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.label),
            layout: &self.layout,
            entries,
        })
    }

    /// Records a dispatch of `groups` (x, y) workgroups of the first variant (timed when `timer`
    /// is given).
    pub fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        groups: (u32, u32),
        timer: Option<&KernelTimer>,
    ) {
        self.dispatch_variant(pass, 0, bind, groups, timer);
    }

    /// [`Self::dispatch`] of one variant.
    pub fn dispatch_variant(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        variant: usize,
        bind: &wgpu::BindGroup,
        groups: (u32, u32),
        timer: Option<&KernelTimer>,
    ) {
        if groups.0 == 0 {
            return;
        }
        let Some(pipeline) = self.pipelines.get(variant) else {
            return;
        };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, 1);
        if let Some(timer) = timer {
            timer.stamp(pass, self.label);
        }
    }

    /// Records an indirect dispatch of one variant, whose size sits in the argument buffer `args`
    /// at indirect slot `slot` (a `SLOT_*` of `control.wgsl`; timed when `timer` is given).
    pub fn dispatch_indirect(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        variant: usize,
        bind: &wgpu::BindGroup,
        args: &wgpu::Buffer,
        slot: u32,
        timer: Option<&KernelTimer>,
    ) {
        let Some(pipeline) = self.pipelines.get(variant) else {
            return;
        };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups_indirect(args, crate::layout::slot_offset(slot));
        if let Some(timer) = timer {
            timer.stamp(pass, self.label);
        }
    }
}

/// The whole of `buffer` as a binding.
pub(crate) fn whole(buffer: &wgpu::Buffer) -> wgpu::BufferBinding<'_> {
    buffer.as_entire_buffer_binding()
}

/// Workgroups `(x, y)` for `items` invocations of `per_group` each, tiled into a second dimension past
/// [`MAX_GROUPS_PER_DIM`] groups (as `boruvka_control.wgsl`'s `set_groups` does on the GPU).
pub(crate) fn groups_for(items: u64, per_group: u32) -> (u32, u32) {
    let groups = items.div_ceil(per_group as u64);
    if groups == 0 {
        return (0, 1);
    }
    let max = MAX_GROUPS_PER_DIM as u64;
    if groups <= max {
        return (groups as u32, 1);
    }
    let y = groups.div_ceil(max);
    let x = groups.div_ceil(y);
    (x as u32, y as u32)
}

/// The kernels that read a graph (`#import grid`), compiled for the graphs of images or of volumes.
#[derive(Debug)]
pub(crate) struct GraphKernels {
    pub init: boruvka_init::BoruvkaInit,
    pub first_round: boruvka_first_round::BoruvkaFirstRound,
    pub select: boruvka_select::BoruvkaSelect,
    pub compact: compact_pairs::CompactPairs,
    /// Volumes only: H1's apparent pairs.
    pub apparent: Option<apparent_pairs::ApparentPairs>,
}

impl GraphKernels {
    fn new(device: &wgpu::Device, domain: Domain) -> Self {
        Self {
            init: boruvka_init::BoruvkaInit::new(device, domain),
            first_round: boruvka_first_round::BoruvkaFirstRound::new(device, domain),
            select: boruvka_select::BoruvkaSelect::new(device, domain),
            compact: compact_pairs::CompactPairs::new(device, domain),
            apparent: (domain == Domain::Volume)
                .then(|| apparent_pairs::ApparentPairs::new(device)),
        }
    }
}

/// Every compiled kernel.
#[derive(Debug)]
pub(crate) struct Kernels {
    pub order_keys: order_keys::OrderKeys,
    pub radix_histogram: radix_histogram::RadixHistogram,
    pub radix_scatter: radix_scatter::RadixScatter,
    pub scan_reduce: scan_reduce::ScanReduce,
    pub scan_apply: scan_apply::ScanApply,
    pub rank_scatter: rank_scatter::RankScatter,
    /// The graph kernels for images, and (made on first use) for volumes.
    image_graphs: GraphKernels,
    volume_graphs: std::sync::OnceLock<GraphKernels>,
    pub boruvka_hook: boruvka_hook::BoruvkaHook,
    pub pointer_jump: pointer_jump::PointerJump,
    pub boruvka_control: boruvka_control::BoruvkaControl,
    pub gradient_scatter: gradient_scatter::GradientScatter,
    /// The kernels of resident plans (made on first use).
    loss: std::sync::OnceLock<LossKernels>,
}

/// The kernels of a resident plan: its per-item counts and its topological loss.
#[derive(Debug)]
pub(crate) struct LossKernels {
    pub counts: pair_counts::PairCounts,
    pub buckets: record_buckets::RecordBuckets,
    pub select: loss_select::LossSelect,
    pub terms: loss_terms::LossTerms,
    pub scatter: loss_scatter::LossScatter,
    pub gather: loss_gather::LossGather,
    pub reduce: loss_reduce::LossReduce,
}

impl Kernels {
    pub fn new(device: &wgpu::Device) -> Self {
        Self {
            order_keys: order_keys::OrderKeys::new(device),
            radix_histogram: radix_histogram::RadixHistogram::new(device),
            radix_scatter: radix_scatter::RadixScatter::new(device),
            scan_reduce: scan_reduce::ScanReduce::new(device),
            scan_apply: scan_apply::ScanApply::new(device),
            rank_scatter: rank_scatter::RankScatter::new(device),
            image_graphs: GraphKernels::new(device, Domain::Image),
            volume_graphs: std::sync::OnceLock::new(),
            boruvka_hook: boruvka_hook::BoruvkaHook::new(device),
            pointer_jump: pointer_jump::PointerJump::new(device),
            boruvka_control: boruvka_control::BoruvkaControl::new(device),
            gradient_scatter: gradient_scatter::GradientScatter::new(device),
            loss: std::sync::OnceLock::new(),
        }
    }

    /// The resident plans' kernels (compiled on first use).
    pub fn loss(&self, device: &wgpu::Device) -> &LossKernels {
        self.loss.get_or_init(|| LossKernels {
            counts: pair_counts::PairCounts::new(device),
            buckets: record_buckets::RecordBuckets::new(device),
            select: loss_select::LossSelect::new(device),
            terms: loss_terms::LossTerms::new(device),
            scatter: loss_scatter::LossScatter::new(device),
            gather: loss_gather::LossGather::new(device),
            reduce: loss_reduce::LossReduce::new(device),
        })
    }

    /// The graph kernels for images, or for volumes (compiled on first use).
    pub fn graphs(&self, device: &wgpu::Device, domain: Domain) -> &GraphKernels {
        match domain {
            Domain::Image => &self.image_graphs,
            Domain::Volume => self
                .volume_graphs
                .get_or_init(|| GraphKernels::new(device, Domain::Volume)),
        }
    }
}
