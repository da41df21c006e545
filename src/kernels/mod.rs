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

    /// Record a dispatch of `groups` (x, y) workgroups.
    pub fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        groups: (u32, u32),
    ) {
        if groups.0 == 0 {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, 1);
    }

    /// Record an indirect dispatch whose size sits at `offset` bytes in `args`.
    pub fn dispatch_indirect(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        args: &wgpu::Buffer,
        offset: u64,
    ) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups_indirect(args, offset);
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
