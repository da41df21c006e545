//! The GPU engine: records every stage of a diagram (or a whole batch) into one encoder, submits once,
//! and reads the compacted pairs back (or, where the pair records would not fit one storage binding,
//! the pairing state, which the host compacts).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use bytemuck::{Pod, Zeroable};

use crate::diagram::RawPair;
use crate::grid::{GraphKind, Grid};
use crate::image::ImageStack;
use crate::kernels::{
    apparent_pairs::ApparentPairs, boruvka_control::BoruvkaControl,
    boruvka_first_round::BoruvkaFirstRound, boruvka_hook::BoruvkaHook, boruvka_init::BoruvkaInit,
    boruvka_select::BoruvkaSelect, compact_pairs::CompactPairs, gradient_scatter::GradientScatter,
    groups_for, order_keys::OrderKeys, pointer_jump::PointerJump, radix_histogram::RadixHistogram,
    radix_scatter::RadixScatter, rank_scatter::RankScatter, scan_apply::ScanApply,
    scan_reduce::ScanReduce, GraphParams, KernelTime, KernelTimer,
};
use crate::options::{Construction, Options};
use crate::{Error, Result};

/// Fewest rounds recorded at first for a new shape: the budget is `log2(vertices) + 4` but at least
/// this, doubled (and remembered for that shape) when an input needs more. Rounds past convergence
/// dispatch no work but still cost 8 dispatches each, which on a CPU adapter (lavapipe) is most of the
/// time of a small diagram; noise images need about `log2(pixels)` rounds (11 for 64^2, 19 for 256^2).
pub const INITIAL_ROUNDS: u32 = 8;

/// The first budget of hooking rounds for graphs of up to `vertices` vertices per image.
fn initial_rounds(vertices: u64) -> u32 {
    (u64::BITS - vertices.leading_zeros() + 4).max(INITIAL_ROUNDS)
}
/// Rounds after which the engine gives up with [`Error::NotConverged`] (never seen: each round at
/// least one component per connected group of components merges, and in practice they halve).
const MAX_ROUNDS: u32 = 1 << 14;
const RECORD_WORDS: usize = 6;
const RECORD_BYTES: u64 = RECORD_WORDS as u64 * 4;
const CONTROL_WORDS: usize = 16;
/// Control words of both graphs, then six resolved 64-bit timestamps.
const READBACK_BYTES: u64 = (2 * CONTROL_WORDS * 4 + 48) as u64;
const ARG_WORDS: usize = 12;
/// Indirect slots (byte offsets) of `shaders/common/control.wgsl`.
const SLOT_SELECT_FIRST: u64 = 0;
const SLOT_SELECT_REST: u64 = 12;
const SLOT_HOOK: u64 = 24;
const SLOT_JUMP: u64 = 36;

/// The kernels that read a graph (`#import grid`), compiled for image graphs or for volume graphs.
#[derive(Debug)]
struct GraphKernels {
    init: BoruvkaInit,
    first_round: BoruvkaFirstRound,
    select: BoruvkaSelect,
    compact: CompactPairs,
    /// Volumes only: H1's apparent pairs.
    apparent: Option<ApparentPairs>,
}

impl GraphKernels {
    fn new(device: &wgpu::Device, volume: bool) -> Self {
        Self {
            init: BoruvkaInit::new(device, volume),
            first_round: BoruvkaFirstRound::new(device, volume),
            select: BoruvkaSelect::new(device, volume),
            compact: CompactPairs::new(device, volume),
            apparent: volume.then(|| ApparentPairs::new(device)),
        }
    }
}

/// Every compiled kernel.
#[derive(Debug)]
pub struct Kernels {
    order_keys: OrderKeys,
    radix_histogram: RadixHistogram,
    radix_scatter: RadixScatter,
    scan_reduce: ScanReduce,
    scan_apply: ScanApply,
    rank_scatter: RankScatter,
    /// The graph kernels for images, and (made on first use) for volumes.
    image_graphs: GraphKernels,
    volume_graphs: std::sync::OnceLock<GraphKernels>,
    boruvka_hook: BoruvkaHook,
    pointer_jump: PointerJump,
    boruvka_control: BoruvkaControl,
    gradient_scatter: GradientScatter,
}

impl Kernels {
    /// The graph kernels for image graphs, or for volume graphs (compiled on first use).
    fn graphs(&self, device: &wgpu::Device, volume: bool) -> &GraphKernels {
        if volume {
            self.volume_graphs
                .get_or_init(|| GraphKernels::new(device, true))
        } else {
            &self.image_graphs
        }
    }

    fn new(device: &wgpu::Device) -> Self {
        Self {
            order_keys: OrderKeys::new(device),
            radix_histogram: RadixHistogram::new(device),
            radix_scatter: RadixScatter::new(device),
            scan_reduce: ScanReduce::new(device),
            scan_apply: ScanApply::new(device),
            rank_scatter: RankScatter::new(device),
            image_graphs: GraphKernels::new(device, false),
            volume_graphs: std::sync::OnceLock::new(),
            boruvka_hook: BoruvkaHook::new(device),
            pointer_jump: PointerJump::new(device),
            boruvka_control: BoruvkaControl::new(device),
            gradient_scatter: GradientScatter::new(device),
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct KeyParams {
    count: u32,
    superlevel: u32,
    _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SortParams {
    count: u32,
    shift: u32,
    tiles: u32,
    digit_source: u32,
    pixels: u32,
    _pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ScanParams {
    count: u32,
    use_offsets: u32,
    _pad: [u32; 2],
}

/// Capacities below the adapter's, so that small inputs take the paths large ones take (for tests).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapacityOverride {
    /// Most live edges one edge list holds (`None`: what one storage binding holds).
    pub edge_list: Option<u32>,
    /// Compact the pairs on the host even where the records would fit one storage binding.
    pub host_compaction: bool,
}

/// What a workspace was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WorkspaceKey {
    images: usize,
    /// Slices of a volume (1 for images).
    depth: usize,
    height: usize,
    width: usize,
    volume: bool,
    construction: Construction,
    capacity: CapacityOverride,
}

impl WorkspaceKey {
    fn of(stack: &ImageStack, options: &Options, capacity: CapacityOverride) -> Self {
        Self {
            images: stack.count,
            depth: stack.depth,
            height: stack.height,
            width: stack.width,
            volume: stack.volume,
            construction: options.construction,
            capacity,
        }
    }

    /// Pixels (voxels) of one image (volume).
    fn pixels(&self) -> usize {
        self.depth * self.height * self.width
    }

    /// The H0 graph and the dual graph (H1 of an image, H2 of a volume).
    fn grids(&self) -> Result<[Grid; 2]> {
        if self.volume {
            let (p, d) = GraphKind::of_volume(self.construction).ok_or_else(|| {
                Error::InvalidArgument(
                    "the Freudenthal construction is 2D only; use V or T for volumes".into(),
                )
            })?;
            let (dd, h, w) = (self.depth, self.height, self.width);
            return Ok([Grid::volume(p, dd, h, w), Grid::volume(d, dd, h, w)]);
        }
        let (p, d) = GraphKind::of(self.construction);
        Ok([
            Grid::new(p, self.height, self.width),
            Grid::new(d, self.height, self.width),
        ])
    }
}

/// The parameters of one graph of a batch.
fn graph_params(grid: &Grid, images: usize, pixels: usize, flags: u32) -> GraphParams {
    GraphParams {
        kind: grid.kind as u32,
        height: grid.height,
        width: grid.width,
        images: images as u32,
        pixels: pixels as u32,
        vertices: grid.vertex_count(),
        edges: grid.edge_count(),
        flags,
        depth: grid.depth,
        _pad: [0; 3],
    }
}

struct ScanLevel {
    count: u32,
    reduce: Option<wgpu::BindGroup>,
    apply: wgpu::BindGroup,
}

struct GraphStage {
    grid: Grid,
    control: wgpu::Buffer,
    args: wgpu::Buffer,
    records: wgpu::Buffer,
    params: wgpu::Buffer,
    init: wgpu::BindGroup,
    first_round: wgpu::BindGroup,
    /// `[parity][mode]`.
    select: Vec<Vec<wgpu::BindGroup>>,
    /// `[parity]`.
    hook: Vec<wgpu::BindGroup>,
    /// `[parity]`.
    jump: Vec<wgpu::BindGroup>,
    control_bind: Vec<wgpu::BindGroup>,
    compact: wgpu::BindGroup,
    vertex_groups: (u32, u32),
    /// When the pairs are compacted on the host: where `vkey`, `best_hi` and `best_lo` of this graph
    /// are copied after its pass (mappable).
    host_state: Option<[wgpu::Buffer; 3]>,
}

/// Every buffer and bind group for one batch shape, reused across calls of that shape.
struct Workspace {
    key: WorkspaceKey,
    values: wgpu::Buffer,
    key_params: wgpu::Buffer,
    keys_bind: wgpu::BindGroup,
    sort_passes: Vec<(wgpu::BindGroup, wgpu::BindGroup)>,
    scan_levels: Vec<ScanLevel>,
    sort_tiles: u32,
    rank_bind: wgpu::BindGroup,
    rank: wgpu::Buffer,
    order: wgpu::Buffer,
    keys: wgpu::Buffer,
    parent: wgpu::Buffer,
    vkey: wgpu::Buffer,
    best: [wgpu::Buffer; 2],
    graphs: Vec<GraphStage>,
    /// Live edges one edge list holds (control word `C_CAPACITY`).
    edge_capacity: u32,
    /// When the pairs are compacted on the host: the ranking's `order` and `keys` are copied here.
    host_ranking: Option<[wgpu::Buffer; 2]>,
    /// Volumes: the bind group of `apparent_pairs`, its words per volume, and where they are copied.
    apparent: Option<(wgpu::BindGroup, u64, wgpu::Buffer, wgpu::Buffer)>,
    readback: wgpu::Buffer,
    /// Query set of six timestamps and the buffer they resolve into, when the device can time passes.
    timestamps: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    /// Hooking rounds recorded per graph: the most this shape has needed (at least [`INITIAL_ROUNDS`]).
    rounds_hint: AtomicU32,
    _keep: Vec<wgpu::Buffer>,
}

fn storage(
    device: &wgpu::Device,
    label: &str,
    bytes: u64,
    extra: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(16).next_multiple_of(4),
        usage: wgpu::BufferUsages::STORAGE | extra,
        mapped_at_creation: false,
    })
}

/// A buffer the host maps to read what the kernels wrote (copied in).
fn mappable(device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(16).next_multiple_of(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

fn uniform<T: Pod>(device: &wgpu::Device, label: &str, value: &T) -> wgpu::Buffer {
    use wgpu::util::DeviceExt;
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::bytes_of(value),
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    })
}

/// Whether a stack fits the device: the largest storage binding and buffer it needs.
fn check_limits(limits: &wgpu::Limits, key: &WorkspaceKey, grids: &[Grid; 2]) -> Result<()> {
    // every index the kernels compute is a u32: vertices and edges of the batch, cell keys
    let per_item = key.pixels() as u64;
    let (mut max_vertices, mut max_edges) = (0u64, 0u64);
    for g in grids {
        // counts are computed in u64 here: a grid past u32 is refused before its u32 counts are used
        let complex = g.complex_vertices_u64();
        max_vertices = max_vertices.max(g.vertex_count_u64());
        max_edges = max_edges.max(if g.kind.is_volume() {
            3 * complex
        } else {
            4 * complex
        });
    }
    let images = key.images as u64;
    // room for a dispatch's padding: invocation ids of a tiled dispatch reach the next 65535 groups
    let index_limit = u32::MAX as u64 - 65535 * 256;
    // keys of a cell: 27 per voxel; of a top cell, 4 (V) or 8 (Freudenthal) per pixel
    let keys_per_item = match (key.volume, key.construction) {
        (true, _) => crate::grid::SLOTS as u64,
        (false, Construction::V) => 4,
        (false, Construction::Freudenthal) => 8,
        (false, Construction::T) => 1,
    };
    for (what, value) in [
        ("pixels in one batch", images * per_item),
        ("graph vertices in one batch", images * max_vertices),
        ("graph edges in one batch", images * max_edges),
        (
            "cell keys of one image or volume (27 per voxel, at most 8 per pixel)",
            per_item * keys_per_item,
        ),
    ] {
        if value > index_limit {
            return Err(Error::TooLarge {
                what,
                value,
                limit: index_limit,
            });
        }
    }
    // every binding holds one word per pixel or per vertex; the edge lists and the pair records are
    // capped at what one binding holds (past it the rounds see every edge, the host compacts)
    let biggest = (max_vertices * images * 4).max(images * per_item * 4);
    let limit = binding_limit(limits);
    if biggest > limit {
        return Err(Error::TooLarge {
            what: "bytes in one storage binding on this adapter",
            value: biggest,
            limit,
        });
    }
    Ok(())
}

/// The most bytes one storage binding may hold on this device.
fn binding_limit(limits: &wgpu::Limits) -> u64 {
    limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
}

/// Whether the pairs of these graphs are compacted on the host, from the pairing state read back: for
/// volumes (they keep every merge, and H1 needs them on the host anyway) and for graphs whose records
/// (24 bytes a vertex at most, both graphs together) could overflow one storage binding.
fn host_compaction(limits: &wgpu::Limits, key: &WorkspaceKey, grids: &[Grid; 2]) -> bool {
    // both graphs' records come back through one readback buffer
    let records: u64 = grids
        .iter()
        .map(|g| g.vertex_count_u64() * key.images as u64 * RECORD_BYTES)
        .sum();
    key.volume || key.capacity.host_compaction || records > binding_limit(limits)
}

impl Workspace {
    fn new(device: &wgpu::Device, k: &Kernels, key: WorkspaceKey, grids: [Grid; 2]) -> Self {
        use wgpu::BufferUsages as U;
        let total = (key.images * key.pixels()) as u32;
        let pixels = key.pixels() as u32;
        let bytes = total as u64 * 4;
        let values = storage(device, "values", bytes, U::COPY_DST);
        let keys = storage(device, "keys", bytes, U::COPY_SRC);
        let sort_keys = [
            storage(device, "sort_keys_a", bytes, U::empty()),
            storage(device, "sort_keys_b", bytes, U::empty()),
        ];
        let sort_payload = [
            storage(device, "payload_a", bytes, U::empty()),
            storage(device, "payload_b", bytes, U::empty()),
        ];
        let rank = storage(device, "rank", bytes, U::COPY_SRC);
        let order = storage(device, "order", bytes, U::COPY_SRC);
        let key_params = uniform(
            device,
            "key_params",
            &KeyParams {
                count: total,
                superlevel: 0,
                _pad: [0; 2],
            },
        );
        let keys_bind = k
            .order_keys
            .0
            .bind(device, &[&key_params, &values, &keys, &sort_payload[0]]);

        // radix sort: 8 key passes, then enough image passes to order the batch by image
        let sort_tiles = total.div_ceil(1024);
        let hist_len = 16 * sort_tiles;
        let hist = storage(device, "radix_hist", hist_len as u64 * 4, U::empty());
        let mut keep = vec![];
        let mut passes = vec![];
        let image_bits = u32::BITS - (key.images as u32 - 1).leading_zeros();
        let mut plan: Vec<(u32, u32)> = (0..8).map(|i| (4 * i, 0)).collect();
        plan.extend((0..image_bits.div_ceil(4)).map(|i| (4 * i, 1)));
        for (i, &(shift, source)) in plan.iter().enumerate() {
            let params = uniform(
                device,
                "sort_params",
                &SortParams {
                    count: total,
                    shift,
                    tiles: sort_tiles,
                    digit_source: source,
                    pixels,
                    _pad: [0; 3],
                },
            );
            let (src_k, src_p) = if i == 0 {
                (&keys, &sort_payload[0])
            } else {
                (&sort_keys[i % 2], &sort_payload[i % 2])
            };
            let (dst_k, dst_p) = (&sort_keys[(i + 1) % 2], &sort_payload[(i + 1) % 2]);
            let h = k
                .radix_histogram
                .0
                .bind(device, &[&params, src_k, src_p, &hist]);
            let s = k
                .radix_scatter
                .0
                .bind(device, &[&params, src_k, src_p, &hist, dst_k, dst_p]);
            passes.push((h, s));
            keep.push(params);
        }
        let sorted_payload = &sort_payload[plan.len() % 2];

        // multi-level exclusive scan of the histogram
        let mut scan_levels = vec![];
        let mut level_buf = hist.clone();
        let mut count = hist_len;
        let no_offsets = storage(device, "no_offsets", 16, U::empty());
        loop {
            let params = uniform(
                device,
                "scan_params",
                &ScanParams {
                    count,
                    use_offsets: 0,
                    _pad: [0; 2],
                },
            );
            if count <= 1024 {
                let apply = k
                    .scan_apply
                    .0
                    .bind(device, &[&params, &level_buf, &no_offsets]);
                scan_levels.push(ScanLevel {
                    count,
                    reduce: None,
                    apply,
                });
                keep.extend([params, no_offsets]);
                break;
            }
            let blocks = count.div_ceil(1024);
            let sums = storage(device, "scan_sums", blocks as u64 * 4, U::empty());
            let params_off = uniform(
                device,
                "scan_params",
                &ScanParams {
                    count,
                    use_offsets: 1,
                    _pad: [0; 2],
                },
            );
            let reduce = k.scan_reduce.0.bind(device, &[&params, &level_buf, &sums]);
            let apply = k
                .scan_apply
                .0
                .bind(device, &[&params_off, &level_buf, &sums]);
            scan_levels.push(ScanLevel {
                count,
                reduce: Some(reduce),
                apply,
            });
            keep.extend([params, params_off]);
            level_buf = sums.clone();
            keep.push(sums);
            count = blocks;
        }
        let rank_params = uniform(device, "rank_params", &[total, pixels, 0, 0]);
        let rank_bind = k
            .rank_scatter
            .0
            .bind(device, &[&rank_params, sorted_payload, &rank, &order]);

        // pairing: the primal and the dual graph share the per-vertex arrays and the lists
        let gk = k.graphs(device, key.volume);
        let max_v = grids
            .iter()
            .map(|g| g.vertex_count() as u64)
            .max()
            .unwrap_or(1)
            * key.images as u64;
        let max_e = grids
            .iter()
            .map(|g| g.edge_count() as u64)
            .max()
            .unwrap_or(1)
            * key.images as u64;
        let limits = device.limits();
        let on_host = host_compaction(&limits, &key, &grids);
        let parent = storage(device, "parent", max_v * 4, U::COPY_SRC);
        let vkey = storage(device, "vkey", max_v * 4, U::COPY_SRC);
        let far_root = storage(device, "far_root", max_v * 4, U::empty());
        // each root's best key (high and low word); a dead vertex keeps the key it died at
        let best = [
            storage(device, "best_hi", max_v * 4, U::COPY_SRC),
            storage(device, "best_lo", max_v * 4, U::COPY_SRC),
        ];
        let edge_capacity = max_e
            .min(binding_limit(&limits) / 4)
            .min(key.capacity.edge_list.unwrap_or(u32::MAX) as u64)
            .max(1) as u32;
        let edge_lists = [
            storage(device, "live_edges_a", edge_capacity as u64 * 4, U::empty()),
            storage(device, "live_edges_b", edge_capacity as u64 * 4, U::empty()),
        ];
        // waiting roots from the start, roots that hooked from the end
        let root_lists = [
            storage(device, "roots_a", max_v * 4, U::empty()),
            storage(device, "roots_b", max_v * 4, U::empty()),
        ];
        let host_ranking = on_host.then(|| {
            [
                mappable(device, "order_readback", bytes),
                mappable(device, "keys_readback", bytes),
            ]
        });
        let mut graphs = vec![];
        for grid in grids {
            let nv = grid.vertex_count() as u64 * key.images as u64;
            let gp = graph_params(&grid, key.images, pixels as usize, 0);
            let params = uniform(device, "graph_params", &gp);
            let control = storage(
                device,
                "control",
                (CONTROL_WORDS * 4) as u64,
                U::COPY_SRC | U::COPY_DST,
            );
            let args = storage(
                device,
                "dispatch_args",
                (ARG_WORDS * 4) as u64,
                U::INDIRECT | U::COPY_DST,
            );
            let records = storage(
                device,
                "pair_records",
                if on_host { 0 } else { nv * RECORD_BYTES },
                U::COPY_SRC,
            );
            let host_state = on_host.then(|| {
                [
                    mappable(device, "vkey_readback", nv * 4),
                    mappable(device, "best_hi_readback", nv * 4),
                    mappable(device, "best_lo_readback", nv * 4),
                ]
            });
            let init = gk.init.0.bind(
                device,
                &[&params, &rank, &parent, &vkey, &best[0], &best[1]],
            );
            let first_round = gk.first_round.0.bind(
                device,
                &[
                    &params,
                    &rank,
                    &parent,
                    &vkey,
                    &best[0],
                    &best[1],
                    &control,
                    &root_lists[1],
                ],
            );
            // round parity p reads list p and writes list 1 - p
            let select = (0..2)
                .map(|p| {
                    gk.select
                        .0
                        .iter()
                        .map(|s| {
                            s.bind(
                                device,
                                &[
                                    &params,
                                    &rank,
                                    &parent,
                                    &best[0],
                                    &best[1],
                                    &far_root,
                                    &control,
                                    &edge_lists[p],
                                    &edge_lists[1 - p],
                                ],
                            )
                        })
                        .collect()
                })
                .collect();
            let hook = (0..2)
                .map(|p| {
                    k.boruvka_hook.0.bind(
                        device,
                        &[
                            &params,
                            &parent,
                            &vkey,
                            &best[0],
                            &best[1],
                            &far_root,
                            &control,
                            &root_lists[p],
                            &root_lists[1 - p],
                        ],
                    )
                })
                .collect();
            let jump = (0..2)
                .map(|p| {
                    k.pointer_jump
                        .0
                        .bind(device, &[&params, &parent, &control, &root_lists[1 - p]])
                })
                .collect();
            let control_bind = k
                .boruvka_control
                .0
                .iter()
                .map(|c| c.bind(device, &[&control, &args]))
                .collect();
            let compact = gk.compact.0.bind(
                device,
                &[
                    &params, &rank, &order, &keys, &vkey, &best[0], &best[1], &records, &control,
                ],
            );
            graphs.push(GraphStage {
                grid,
                control,
                args,
                records,
                params,
                init,
                first_round,
                select,
                hook,
                jump,
                control_bind,
                compact,
                vertex_groups: groups_for(nv, 256),
                host_state,
            });
        }
        // volumes: H1's apparent pairs, 4 bits per square of the complex, from the ranks
        let apparent = match (&gk.apparent, graphs.get(1)) {
            (Some(kernel), Some(dual)) => {
                let words = (dual.grid.edge_count() as u64).div_ceil(8);
                let buffer = storage(
                    device,
                    "apparent",
                    words * key.images as u64 * 4,
                    U::COPY_SRC,
                );
                let bind = kernel.0.bind(device, &[&dual.params, &rank, &buffer]);
                let copy = mappable(device, "apparent_readback", words * key.images as u64 * 4);
                Some((bind, words, buffer, copy))
            }
            _ => None,
        };
        let readback = mappable(device, "readback", READBACK_BYTES);
        keep.extend([
            sort_keys[0].clone(),
            sort_keys[1].clone(),
            sort_payload[0].clone(),
            sort_payload[1].clone(),
            rank.clone(),
            order.clone(),
            keys.clone(),
            hist,
            far_root,
            rank_params,
            edge_lists[0].clone(),
            edge_lists[1].clone(),
            root_lists[0].clone(),
            root_lists[1].clone(),
        ]);
        let timestamps = device
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY)
            .then(|| {
                let set = device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("wgpu-persistence.stages"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 6,
                });
                let resolve = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("timestamps"),
                    size: 48,
                    usage: U::QUERY_RESOLVE | U::COPY_SRC,
                    mapped_at_creation: false,
                });
                (set, resolve)
            });
        Workspace {
            key,
            timestamps,
            rounds_hint: AtomicU32::new(initial_rounds(
                grids
                    .iter()
                    .map(|g| g.vertex_count() as u64)
                    .max()
                    .unwrap_or(1),
            )),
            values,
            key_params,
            keys_bind,
            sort_passes: passes,
            scan_levels,
            sort_tiles,
            rank_bind,
            rank: rank.clone(),
            order: order.clone(),
            keys,
            parent,
            vkey,
            best,
            graphs,
            edge_capacity,
            host_ranking,
            apparent,
            readback,
            _keep: keep,
        }
    }
}

/// The GPU engine: a device, a queue, the compiled kernels and a reusable workspace.
pub struct GpuEngine {
    device: wgpu::Device,
    queue: wgpu::Queue,
    kernels: Kernels,
    info: wgpu::AdapterInfo,
    workspace: Mutex<Option<Workspace>>,
    lost: Arc<Mutex<Option<String>>>,
    capacity: Mutex<CapacityOverride>,
    /// Timestamps inside passes, when the device has them ([`Self::set_kernel_timings`]).
    kernel_timer: Option<KernelTimer>,
    kernel_timing: AtomicBool,
}

impl std::fmt::Debug for GpuEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuEngine")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .finish()
    }
}

/// What one GPU run hands back.
#[derive(Debug, Clone, Default)]
pub struct GpuPairs {
    /// The raw pairs of every image (indices local to each image). For volumes, every merge of the
    /// H0 and H2 graphs (zero persistence too), which H1 on the host needs.
    pub pairs: Vec<Vec<RawPair>>,
    /// Volumes: H1's apparent pairs of every volume, 4 bits per square
    /// ([`crate::cpu::apparent_pairs`]); empty for images.
    pub apparent: Vec<Vec<u32>>,
    /// Statistics of the run.
    pub stats: RunStats,
}

/// Statistics of the last GPU run (for tests and benches).
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    /// Borůvka rounds of the primal and the dual graph.
    pub rounds: [u32; 2],
    /// Submissions made.
    pub submissions: u32,
    /// GPU time of the ranking (keys, sort, ranks), the H0 pairing and the dual pairing (H1 of images, H2 of volumes; each with
    /// its compaction), from timestamp queries, summed over the run's submissions, when the adapter offers them.
    pub stage_seconds: Option<[f64; 3]>,
    /// GPU time of every kernel over all submissions of the run, in order of first dispatch, when
    /// asked for ([`GpuEngine::set_kernel_timings`]) and the device can time inside passes.
    pub kernel_seconds: Option<Vec<KernelTime>>,
    /// With [`Self::kernel_seconds`]: dispatches past the 4096 timestamps a submission can hold,
    /// which no kernel's time includes (0 when every dispatch was timed).
    pub untimed_dispatches: u32,
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
            lost,
            capacity: Mutex::new(CapacityOverride::default()),
        }
    }

    /// Times every kernel of the next runs (summed per kernel in [`RunStats::kernel_seconds`]) with
    /// a timestamp after each dispatch; returns whether the device can (wgpu's
    /// `TIMESTAMP_QUERY_INSIDE_PASSES`). Off by default: the timestamps cost time of their own,
    /// so the stage times and the wall time of a timed run are not those of an untimed one.
    pub fn set_kernel_timings(&self, on: bool) -> bool {
        self.kernel_timing.store(on, Ordering::Relaxed);
        self.kernel_timer.is_some()
    }

    /// Caps capacities below the adapter's for the next calls, so that small inputs take the paths
    /// that large ones take (for tests).
    #[doc(hidden)]
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

    fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| Error::Device(e.to_string()))
    }

    fn read_words(&self, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u32>> {
        let mut words = self.read_all(&[(buffer, bytes)])?;
        Ok(words.pop().unwrap_or_default())
    }

    /// The first `bytes` of each mappable buffer, as words: every map is asked for, then one wait.
    fn read_all(&self, buffers: &[(&wgpu::Buffer, u64)]) -> Result<Vec<Vec<u32>>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut asked = 0;
        for &(buffer, bytes) in buffers.iter().filter(|(_, bytes)| *bytes > 0) {
            let tx = tx.clone();
            buffer
                .slice(..bytes)
                .map_async(wgpu::MapMode::Read, move |r| {
                    let _ = tx.send(r);
                });
            asked += 1;
        }
        if asked > 0 {
            self.wait()?;
        }
        for _ in 0..asked {
            rx.recv()
                .map_err(|e| Error::Readback(e.to_string()))?
                .map_err(|e| Error::Readback(e.to_string()))?;
        }
        buffers
            .iter()
            .map(|&(buffer, bytes)| {
                if bytes == 0 {
                    return Ok(vec![]);
                }
                let words = {
                    let view = buffer
                        .slice(..bytes)
                        .get_mapped_range()
                        .map_err(|e| Error::Readback(e.to_string()))?;
                    bytemuck::cast_slice::<u8, u32>(&view).to_vec()
                };
                buffer.unmap();
                Ok(words)
            })
            .collect()
    }

    /// Raw pairs of every image of the stack (indices local to each image), H1's apparent pairs of
    /// every volume, and run statistics.
    pub fn raw_pairs(&self, stack: &ImageStack, options: &Options) -> Result<GpuPairs> {
        let guard = self.workspace_for(stack, options)?;
        let ws = guard
            .as_ref()
            .ok_or_else(|| Error::Device("no workspace".into()))?;
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let result = self.run(ws, stack, options);
        let validation = pollster::block_on(scope.pop());
        // a lost device makes every later step fail: name the cause, not the symptom
        self.check_lost()?;
        if let Some(e) = validation {
            return Err(Error::Device(format!("validation: {e}")));
        }
        result
    }

    /// The workspace for this stack's shape, made anew (old buffers freed first) when the shape changed.
    fn workspace_for(
        &self,
        stack: &ImageStack,
        options: &Options,
    ) -> Result<std::sync::MutexGuard<'_, Option<Workspace>>> {
        let capacity = self
            .capacity
            .lock()
            .map(|c| *c)
            .map_err(|_| Error::Device("capacity lock poisoned".into()))?;
        let key = WorkspaceKey::of(stack, options, capacity);
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

    /// Runs the ranking and then exactly `rounds` hooking rounds of graph `which` (0: primal, 1: dual),
    /// and reads back `(parent, death)` of its vertices (`death` as `hi, lo` word pairs). For the
    /// kernel tests, which compare this state with the CPU port after the same rounds.
    pub fn pairing_state(
        &self,
        stack: &ImageStack,
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
        let total = stack.values.len() as u32;
        self.write_inputs(ws, stack, options);
        self.queue.write_buffer(
            &g.control,
            0,
            bytemuck::cast_slice(&Self::initial_control(ws, g, stack.count)),
        );
        let nv = (g.grid.vertex_count() as u64) * stack.count as u64;
        let readback = mappable(&self.device, "pairing_state_readback", nv * 12);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-persistence.pairing_state"),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-persistence.pairing_state"),
                timestamp_writes: None,
            });
            self.record_ranking(&mut pass, ws, total, None);
            self.graph_kernels(g)
                .init
                .0
                .dispatch(&mut pass, &g.init, g.vertex_groups, None);
            self.record_rounds(&mut pass, g, rounds, None);
        }
        encoder.copy_buffer_to_buffer(&ws.parent, 0, &readback, 0, Some(nv * 4));
        encoder.copy_buffer_to_buffer(&ws.best[0], 0, &readback, nv * 4, Some(nv * 4));
        encoder.copy_buffer_to_buffer(&ws.best[1], 0, &readback, nv * 8, Some(nv * 4));
        self.queue.submit([encoder.finish()]);
        let mut words = self.read_words(&readback, nv * 12)?;
        let lo = words.split_off(2 * nv as usize);
        let hi = words.split_off(nv as usize);
        // a vertex's death is its best key once it has hooked (NONE while it is a root)
        let death = hi.iter().zip(&lo).flat_map(|(&h, &l)| [h, l]).collect();
        Ok((words, death))
    }

    /// The dense gradient (`pixels` values) from contributions sorted by pixel
    /// ([`crate::cpu::gradient_scatter::sort_contributions`]), summed per pixel in order on the GPU.
    pub fn gradient_scatter(
        &self,
        sorted: &[crate::loss::Contribution],
        pixels: usize,
    ) -> Result<Vec<f32>> {
        use wgpu::util::DeviceExt;
        self.check_lost()?;
        let limit = self.device.limits().max_storage_buffer_binding_size;
        if (pixels as u64) * 4 > limit || (sorted.len() as u64) * 4 > limit {
            return Err(Error::TooLarge {
                what: "bytes in one storage binding on this adapter",
                value: (pixels.max(sorted.len()) as u64) * 4,
                limit,
            });
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pixel: Vec<u32> = sorted.iter().map(|c| c.0).collect();
        let value: Vec<f32> = sorted.iter().map(|c| c.1).collect();
        let make = |label, bytes: &[u8]| {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: if bytes.is_empty() { &[0; 4] } else { bytes },
                    usage: wgpu::BufferUsages::STORAGE,
                })
        };
        let pixel_buf = make("contribution_pixels", bytemuck::cast_slice(&pixel));
        let value_buf = make("contribution_values", bytemuck::cast_slice(&value));
        let bytes = (pixels as u64 * 4).max(4);
        let gradient = storage(
            &self.device,
            "gradient",
            bytes,
            wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        );
        let readback = mappable(&self.device, "gradient_readback", bytes);
        let params = uniform(
            &self.device,
            "scatter_params",
            &[sorted.len() as u32, pixels as u32, 0, 0],
        );
        let bind = self
            .kernels
            .gradient_scatter
            .0
            .bind(&self.device, &[&params, &pixel_buf, &value_buf, &gradient]);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-persistence.gradient"),
            });
        encoder.clear_buffer(&gradient, 0, None);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-persistence.gradient"),
                timestamp_writes: None,
            });
            self.kernels.gradient_scatter.0.dispatch(
                &mut pass,
                &bind,
                groups_for(sorted.len() as u64, 256),
                None,
            );
        }
        encoder.copy_buffer_to_buffer(&gradient, 0, &readback, 0, Some(bytes));
        self.queue.submit([encoder.finish()]);
        let words = self.read_words(&readback, bytes);
        let validation = pollster::block_on(scope.pop());
        self.check_lost()?;
        if let Some(e) = validation {
            return Err(Error::Device(format!("validation: {e}")));
        }
        let mut out: Vec<f32> = bytemuck::cast_slice(&words?).to_vec();
        out.truncate(pixels);
        Ok(out)
    }

    /// `Err` once the device has been lost.
    fn check_lost(&self) -> Result<()> {
        match self.lost.lock().map(|l| l.clone()) {
            Ok(None) => Ok(()),
            Ok(Some(reason)) => Err(Error::Device(format!("device lost ({reason})"))),
            Err(_) => Err(Error::Device("device state lock poisoned".into())),
        }
    }

    fn run(&self, ws: &Workspace, stack: &ImageStack, options: &Options) -> Result<GpuPairs> {
        let total = stack.values.len() as u32;
        self.write_inputs(ws, stack, options);
        // Rounds are recorded up front (empty once converged, through indirect dispatches). A graph
        // that needs more is run again (from its init: the two graphs share their per-vertex arrays,
        // so its state is gone) in another submission with twice as many rounds, without ranking
        // again; the workspace remembers the count for the next call of this shape, which then needs
        // one submission.
        let mut rounds = ws.rounds_hint.load(Ordering::Relaxed);
        let mut stats = RunStats::default();
        let mut seconds = [0.0f64; 3];
        // per-kernel times, when asked for and the device can write timestamps inside passes
        let timer = self
            .kernel_timer
            .as_ref()
            .filter(|_| self.kernel_timing.load(Ordering::Relaxed));
        if let Some(timer) = timer {
            timer.start_run();
        }
        let mut kernel_seconds = Vec::new();
        let period = self.queue.get_timestamp_period() as f64 * 1e-9;
        // the graphs still going; the first submission also ranks
        let mut first = true;
        let mut going: Vec<usize> = (0..ws.graphs.len()).collect();
        let control = loop {
            for &i in &going {
                let g = &ws.graphs[i];
                let initial = Self::initial_control(ws, g, stack.count);
                self.queue
                    .write_buffer(&g.control, 0, bytemuck::cast_slice(&initial));
            }
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-persistence.diagram"),
                });
            // three passes (ranking, H0 pairing, dual pairing), timed when the adapter can
            let timestamps = |i: u32| {
                ws.timestamps
                    .as_ref()
                    .map(|(set, _)| wgpu::ComputePassTimestampWrites {
                        query_set: set,
                        beginning_of_pass_write_index: Some(2 * i),
                        end_of_pass_write_index: Some(2 * i + 1),
                    })
            };
            if first {
                {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("wgpu-persistence.ranking"),
                        timestamp_writes: timestamps(0),
                    });
                    if let Some(timer) = timer {
                        timer.start_pass(&mut pass);
                    }
                    self.record_ranking(&mut pass, ws, total, timer);
                    if let (Some((bind, words, _, _)), Some(kernel)) = (
                        &ws.apparent,
                        &self.kernels.graphs(&self.device, true).apparent,
                    ) {
                        let groups = groups_for(words * stack.count as u64, 256);
                        kernel.0.dispatch(&mut pass, bind, groups, timer);
                    }
                }
                if let Some((_, words, buffer, copy)) = &ws.apparent {
                    let bytes = words * stack.count as u64 * 4;
                    encoder.copy_buffer_to_buffer(buffer, 0, copy, 0, Some(bytes));
                }
                if let Some([order, keys]) = &ws.host_ranking {
                    let bytes = total as u64 * 4;
                    encoder.copy_buffer_to_buffer(&ws.order, 0, order, 0, Some(bytes));
                    encoder.copy_buffer_to_buffer(&ws.keys, 0, keys, 0, Some(bytes));
                }
            }
            for &i in &going {
                let g = &ws.graphs[i];
                {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("wgpu-persistence.pairing"),
                        timestamp_writes: timestamps(i as u32 + 1),
                    });
                    if let Some(timer) = timer {
                        timer.start_pass(&mut pass);
                    }
                    let gk = self.graph_kernels(g);
                    gk.init
                        .0
                        .dispatch(&mut pass, &g.init, g.vertex_groups, timer);
                    self.record_rounds(&mut pass, g, rounds, timer);
                    if g.host_state.is_none() {
                        gk.compact
                            .0
                            .dispatch(&mut pass, &g.compact, g.vertex_groups, timer);
                    }
                }
                // the graphs share the per-vertex arrays: keep this one's state before the next
                if let Some(state) = &g.host_state {
                    let bytes = g.grid.vertex_count() as u64 * stack.count as u64 * 4;
                    for (from, to) in [&ws.vkey, &ws.best[0], &ws.best[1]].into_iter().zip(state) {
                        encoder.copy_buffer_to_buffer(from, 0, to, 0, Some(bytes));
                    }
                }
            }
            // the passes written in this submission: ranking (first only), then the graphs going
            let first_query = if first { 0 } else { 2 * (going[0] as u32 + 1) };
            let last_query = 2 * (going[going.len() - 1] as u32 + 2);
            if let Some((set, resolve)) = &ws.timestamps {
                encoder.resolve_query_set(set, first_query..last_query, resolve, 0);
                encoder.copy_buffer_to_buffer(
                    resolve,
                    0,
                    &ws.readback,
                    (2 * CONTROL_WORDS * 4) as u64,
                    Some(8 * (last_query - first_query) as u64),
                );
            }
            for (i, g) in ws.graphs.iter().enumerate() {
                encoder.copy_buffer_to_buffer(
                    &g.control,
                    0,
                    &ws.readback,
                    (i * CONTROL_WORDS * 4) as u64,
                    Some((CONTROL_WORDS * 4) as u64),
                );
            }
            let timer_bytes = timer.map(|t| t.resolve(&mut encoder));
            self.queue.submit([encoder.finish()]);
            stats.submissions += 1;
            let control = self.read_words(&ws.readback, READBACK_BYTES)?;
            if let (Some(timer), Some(bytes)) = (timer, timer_bytes) {
                let words = match bytes {
                    0 => Vec::new(),
                    _ => self.read_words(timer.readback(), bytes)?,
                };
                timer.collect(&words, period, &mut kernel_seconds);
            }
            if ws.timestamps.is_some() {
                let t = &control[2 * CONTROL_WORDS..];
                let tick = |q: u32| {
                    let j = 2 * (q - first_query) as usize;
                    (t[j] as u64) | ((t[j + 1] as u64) << 32)
                };
                for stage in (first_query / 2)..(last_query / 2) {
                    let ticks = tick(2 * stage + 1).saturating_sub(tick(2 * stage));
                    seconds[stage as usize] += ticks as f64 * period;
                }
            }
            going.retain(|&i| control[i * CONTROL_WORDS] < control[i * CONTROL_WORDS + 1]);
            if going.is_empty() {
                break control;
            }
            if rounds >= MAX_ROUNDS {
                return Err(Error::NotConverged { rounds });
            }
            first = false;
            rounds *= 2;
            ws.rounds_hint.fetch_max(rounds, Ordering::Relaxed);
        };
        for i in 0..ws.graphs.len() {
            stats.rounds[i] = control[i * CONTROL_WORDS + 3];
        }
        if ws.timestamps.is_some() {
            stats.stage_seconds = Some(seconds);
        }
        if let Some(timer) = timer {
            stats.kernel_seconds = Some(kernel_seconds);
            stats.untimed_dispatches = timer.untimed();
        }
        let apparent = match &ws.apparent {
            Some((_, words, _, copy)) => {
                let all = self.read_words(copy, words * stack.count as u64 * 4)?;
                all.chunks(*words as usize).map(|c| c.to_vec()).collect()
            }
            None => Vec::new(),
        };
        if ws.host_ranking.is_some() {
            let pairs = self.compact_on_host(ws, stack, options)?;
            return Ok(GpuPairs {
                pairs,
                apparent,
                stats,
            });
        }
        // read back exactly the records written
        let counts: Vec<u64> = (0..ws.graphs.len())
            .map(|i| control[i * CONTROL_WORDS + 8] as u64)
            .collect();
        let bytes: Vec<u64> = counts.iter().map(|c| c * RECORD_WORDS as u64 * 4).collect();
        let total_bytes: u64 = bytes.iter().sum();
        let mut out: Vec<Vec<RawPair>> = vec![Vec::new(); stack.count];
        if total_bytes > 0 {
            let readback = mappable(&self.device, "records_readback", total_bytes);
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-persistence.readback"),
                });
            let mut offset = 0;
            for (g, &b) in ws.graphs.iter().zip(&bytes) {
                if b > 0 {
                    encoder.copy_buffer_to_buffer(&g.records, 0, &readback, offset, Some(b));
                }
                offset += b;
            }
            self.queue.submit([encoder.finish()]);
            let words = self.read_words(&readback, total_bytes)?;
            for r in words.chunks_exact(RECORD_WORDS) {
                let image = r[0] as usize;
                if let Some(list) = out.get_mut(image) {
                    list.push(RawPair {
                        dim: r[1] & 0xff,
                        cell_slot: r[1] >> 8,
                        order: ((r[2] as u64) << 32) | r[3] as u64,
                        birth_index: r[4],
                        death_index: r[5],
                    });
                }
            }
        }
        Ok(GpuPairs {
            pairs: out,
            apparent,
            stats,
        })
    }

    /// The pairs of every image, compacted on the host ([`crate::cpu::compact_pairs`]) from the
    /// ranking and the pairing state of each graph that [`Self::run`] copied out.
    fn compact_on_host(
        &self,
        ws: &Workspace,
        stack: &ImageStack,
        options: &Options,
    ) -> Result<Vec<Vec<RawPair>>> {
        let bytes = stack.values.len() as u64 * 4;
        let [order, keys] = ws
            .host_ranking
            .as_ref()
            .ok_or_else(|| Error::Internal("no ranking to compact from".into()))?;
        // the ranking, then vkey, best_hi and best_lo of each graph, mapped together
        let mut buffers = vec![(order, bytes), (keys, bytes)];
        for g in &ws.graphs {
            let state = g
                .host_state
                .as_ref()
                .ok_or_else(|| Error::Internal("no pairing state to compact from".into()))?;
            let bytes = g.grid.vertex_count() as u64 * stack.count as u64 * 4;
            buffers.extend(state.iter().map(|b| (b, bytes)));
        }
        let words = self.read_all(&buffers)?;
        let (order, keys) = (&words[0], &words[1]);
        // a volume's merges all come back (zero persistence too): H1 on the host needs their cells
        let keep = options.keep_zero_persistence || stack.volume;
        let mut out: Vec<Vec<RawPair>> = vec![Vec::new(); stack.count];
        for (g, state) in ws.graphs.iter().zip(words[2..].chunks_exact(3)) {
            let (vkey, hi, lo) = (&state[0], &state[1], &state[2]);
            let state = crate::cpu::compact_pairs::PairingState {
                vkey,
                best_hi: hi,
                best_lo: lo,
                order,
                keys,
            };
            let lists =
                crate::cpu::compact_pairs::compact_pairs(&g.grid, stack.count, keep, state)?;
            for (list, pairs) in out.iter_mut().zip(lists) {
                list.extend(pairs);
            }
        }
        Ok(out)
    }

    fn record_ranking(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        ws: &Workspace,
        total: u32,
        timer: Option<&KernelTimer>,
    ) {
        let k = &self.kernels;
        k.order_keys
            .0
            .dispatch(pass, &ws.keys_bind, groups_for(total as u64, 256), timer);
        let tile_groups = groups_for(ws.sort_tiles as u64, 1);
        for (hist_bind, scatter_bind) in &ws.sort_passes {
            k.radix_histogram
                .0
                .dispatch(pass, hist_bind, tile_groups, timer);
            for level in &ws.scan_levels {
                if let Some(reduce) = &level.reduce {
                    k.scan_reduce.0.dispatch(
                        pass,
                        reduce,
                        groups_for(level.count as u64, 1024),
                        timer,
                    );
                }
            }
            for level in ws.scan_levels.iter().rev() {
                k.scan_apply.0.dispatch(
                    pass,
                    &level.apply,
                    groups_for(level.count as u64, 1024),
                    timer,
                );
            }
            k.radix_scatter
                .0
                .dispatch(pass, scatter_bind, tile_groups, timer);
        }
        k.rank_scatter
            .0
            .dispatch(pass, &ws.rank_bind, groups_for(total as u64, 256), timer);
    }

    /// Runs only `order_keys`, the radix sort and `rank_scatter`, and reads back `(rank, order)` of the
    /// whole stack (for the kernel tests).
    pub fn ranks(&self, stack: &ImageStack, options: &Options) -> Result<(Vec<u32>, Vec<u32>)> {
        let guard = self.workspace_for(stack, options)?;
        let ws = guard
            .as_ref()
            .ok_or_else(|| Error::Device("no workspace".into()))?;
        let total = stack.values.len() as u32;
        self.write_inputs(ws, stack, options);
        let bytes = total as u64 * 4;
        let readback = mappable(&self.device, "ranks_readback", 2 * bytes);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-persistence.ranks"),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-persistence.ranks"),
                timestamp_writes: None,
            });
            self.record_ranking(&mut pass, ws, total, None);
        }
        encoder.copy_buffer_to_buffer(&ws.rank, 0, &readback, 0, Some(bytes));
        encoder.copy_buffer_to_buffer(&ws.order, 0, &readback, bytes, Some(bytes));
        self.queue.submit([encoder.finish()]);
        let mut words = self.read_words(&readback, 2 * bytes)?;
        let order = words.split_off(total as usize);
        Ok((words, order))
    }

    /// Uploads the pixels and this call's parameters.
    fn write_inputs(&self, ws: &Workspace, stack: &ImageStack, options: &Options) {
        let total = stack.values.len() as u32;
        self.queue
            .write_buffer(&ws.values, 0, bytemuck::cast_slice(&stack.values));
        self.queue.write_buffer(
            &ws.key_params,
            0,
            bytemuck::bytes_of(&KeyParams {
                count: total,
                superlevel: options.is_superlevel() as u32,
                _pad: [0; 2],
            }),
        );
        // a volume's merges all come back (zero persistence too): H1 on the host needs their cells
        let keep = options.keep_zero_persistence || stack.volume;
        for g in &ws.graphs {
            let gp = graph_params(&g.grid, stack.count, stack.pixels(), keep as u32);
            self.queue
                .write_buffer(&g.params, 0, bytemuck::bytes_of(&gp));
        }
    }

    /// The graph kernels `g` was bound for.
    fn graph_kernels(&self, g: &GraphStage) -> &GraphKernels {
        self.kernels.graphs(&self.device, g.grid.kind.is_volume())
    }

    fn initial_control(ws: &Workspace, g: &GraphStage, images: usize) -> [u32; CONTROL_WORDS] {
        let mut control = [0u32; CONTROL_WORDS];
        let vertices = g.grid.vertex_count() * images as u32;
        control[1] = vertices - images as u32; // all but one root per image hook
        control[2] = ws.edge_capacity;
        control[4] = g.grid.edge_count() * images as u32;
        control[5] = vertices;
        control[7] = u32::MAX; // first round: every edge, implicitly
        control[10] = u32::MAX; // first round: every vertex, implicitly
        control
    }

    /// Records `rounds` hooking rounds of graph `g` (the first is the vertex-local one).
    fn record_rounds(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        g: &GraphStage,
        rounds: u32,
        timer: Option<&KernelTimer>,
    ) {
        let k = &self.kernels;
        let gk = self.graph_kernels(g);
        let control = |pass: &mut wgpu::ComputePass<'_>, mode: usize| {
            k.boruvka_control.0[mode].dispatch(pass, &g.control_bind[mode], (1, 1), timer)
        };
        // round 1 vertex by vertex, then rounds over the live edges and roots
        control(pass, 3);
        gk.first_round
            .0
            .dispatch(pass, &g.first_round, g.vertex_groups, timer);
        control(pass, 2);
        k.pointer_jump
            .0
            .dispatch_indirect(pass, &g.jump[0], &g.args, SLOT_JUMP, timer);
        for round in 1..rounds as usize {
            let p = round % 2;
            control(pass, 0);
            gk.select.0[0].dispatch_indirect(
                pass,
                &g.select[p][0],
                &g.args,
                SLOT_SELECT_FIRST,
                timer,
            );
            control(pass, 1);
            gk.select.0[1].dispatch_indirect(
                pass,
                &g.select[p][1],
                &g.args,
                SLOT_SELECT_REST,
                timer,
            );
            gk.select.0[2].dispatch_indirect(
                pass,
                &g.select[p][2],
                &g.args,
                SLOT_SELECT_REST,
                timer,
            );
            k.boruvka_hook
                .0
                .dispatch_indirect(pass, &g.hook[p], &g.args, SLOT_HOOK, timer);
            control(pass, 2);
            k.pointer_jump
                .0
                .dispatch_indirect(pass, &g.jump[p], &g.args, SLOT_JUMP, timer);
        }
    }
}
