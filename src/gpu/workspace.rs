//! Every buffer and bind group of one batch shape, made once and reused by every call of that shape,
//! and the limits that decide whether a shape fits the device at all.
//!
//! A workspace has three parts, in the order the engine records them:
//! - [`Ranking`]: the pixels' values, their order keys, the radix sort's passes and the multi-level
//!   scan of its histograms, and the rank and order of every pixel;
//! - [`Pairing`]: the per-vertex arrays the primal and the dual graph share (they are paired one
//!   after the other) and, per graph, a [`GraphStage`] with its control words, its indirect
//!   arguments, its pair records and the bind groups of every kernel of a round;
//! - for volumes, [`Apparent`]: H1's apparent pairs.

use std::sync::atomic::AtomicU32;

use super::buffers::{mappable, storage, uniform, Staging};
use super::kernels::{whole, Kernels};
use super::timing::StageTimestamps;
use crate::grid::{GraphKind, Grid};
use crate::input::{Domain, Shape};
use crate::layout::{
    self, GraphParams, KeyParams, RankParams, ScanParams, SortParams, ARG_WORDS, CONTROL_WORDS,
    RADIX, SCAN_BLOCK, TILE,
};
use crate::options::{Construction, Options};
use crate::{Error, Result};

/// Bytes of one pair record.
pub(crate) const RECORD_BYTES: u64 = std::mem::size_of::<layout::PairRecord>() as u64;
/// Bytes of one graph's control words.
pub(crate) const CONTROL_BYTES: u64 = 4 * CONTROL_WORDS as u64;
/// Bits of one radix pass's digit.
const RADIX_BITS: u32 = RADIX.trailing_zeros();

/// Fewest rounds recorded at first for a new shape: the budget is `log2(vertices) + 4` but at least
/// this, doubled (and remembered for that shape) when an input needs more. Rounds past convergence
/// dispatch no work but still cost 8 dispatches each, which on a CPU adapter (lavapipe) is most of the
/// time of a small diagram; noise images need about `log2(pixels)` rounds (11 for 64^2, 19 for 256^2).
pub(crate) const INITIAL_ROUNDS: u32 = 8;

/// The first budget of hooking rounds for graphs of up to `vertices` vertices per image.
fn initial_rounds(vertices: u64) -> u32 {
    (u64::BITS - vertices.leading_zeros() + 4).max(INITIAL_ROUNDS)
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
pub(crate) struct WorkspaceKey {
    /// A resident plan's (its records are never read back).
    pub resident: bool,
    pub images: usize,
    pub shape: Shape,
    pub construction: Construction,
    pub capacity: CapacityOverride,
}

impl WorkspaceKey {
    /// Pixels (voxels) of one item.
    fn pixels(&self) -> usize {
        self.shape.pixels()
    }

    /// The H0 graph and the dual graph (H1 of an image, H2 of a volume).
    pub fn grids(&self) -> Result<[Grid; 2]> {
        let [d, h, w] = self.shape.depth_height_width();
        Ok(match self.shape.domain() {
            Domain::Image => {
                let (p, q) = GraphKind::of(self.construction);
                [Grid::new(p, h, w), Grid::new(q, h, w)]
            }
            Domain::Volume => {
                let (p, q) = GraphKind::of_volume(self.construction).ok_or_else(|| {
                    Error::InvalidArgument(
                        "the Freudenthal construction is 2D only; use V or T for volumes".into(),
                    )
                })?;
                [Grid::volume(p, d, h, w), Grid::volume(q, d, h, w)]
            }
        })
    }
}

/// Whether a stack fits the device: the largest storage binding and buffer it needs.
pub(crate) fn check_limits(
    limits: &wgpu::Limits,
    key: &WorkspaceKey,
    grids: &[Grid; 2],
) -> Result<()> {
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
    let index_limit = u32::MAX as u64 - layout::MAX_GROUPS_PER_DIM as u64 * layout::WG as u64;
    // keys of a cell: 27 per voxel; of a top cell, 4 (V) or 8 (Freudenthal) per pixel
    let keys_per_item = match (key.shape.domain(), key.construction) {
        (Domain::Volume, _) => crate::grid::SLOTS as u64,
        (Domain::Image, Construction::V) => 4,
        (Domain::Image, Construction::Freudenthal) => 8,
        (Domain::Image, Construction::T) => 1,
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
pub(crate) fn binding_limit(limits: &wgpu::Limits) -> u64 {
    limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
}

/// Whether the pairs of these graphs are compacted on the host, from the pairing state read back: for
/// volumes (they keep every merge, and H1 needs them on the host anyway; a resident plan's stay on
/// the device, as records) and for graphs whose records (24 bytes a vertex at most, both graphs
/// together) could overflow one storage binding.
fn host_compaction(limits: &wgpu::Limits, key: &WorkspaceKey, grids: &[Grid; 2]) -> bool {
    let per_graph = grids
        .iter()
        .map(|g| g.vertex_count_u64() * key.images as u64 * RECORD_BYTES);
    // both graphs' records come back through one readback buffer; a resident plan's stay where
    // they are, each graph's in its own binding
    let records: u64 = match key.resident {
        true => per_graph.max().unwrap_or(0),
        false => per_graph.sum(),
    };
    (key.shape.domain() == Domain::Volume && !key.resident)
        || key.capacity.host_compaction
        || records > binding_limit(limits)
}

/// The parameters of one graph of a batch.
pub(crate) fn graph_params(
    grid: &Grid,
    images: usize,
    pixels: usize,
    keep_zero: bool,
) -> GraphParams {
    GraphParams {
        kind: grid.kind as u32,
        height: grid.height,
        width: grid.width,
        images: images as u32,
        pixels: pixels as u32,
        vertices: grid.vertex_count(),
        edges: grid.edge_count(),
        flags: keep_zero as u32,
        depth: grid.depth,
        ..GraphParams::default()
    }
}

/// One radix pass: its histogram and scatter bind groups.
pub(crate) struct SortPass {
    pub histogram: wgpu::BindGroup,
    pub scatter: wgpu::BindGroup,
}

/// One level of the multi-level scan of the radix histograms.
pub(crate) struct ScanLevel {
    pub count: u32,
    /// `None` at the top level (one block, no sums above it).
    pub reduce: Option<wgpu::BindGroup>,
    pub apply: wgpu::BindGroup,
}

/// The levels of a multi-level exclusive scan of `count` words of `data`, in place: reduce down the
/// levels, apply back up.
pub(crate) fn scan_levels(
    device: &wgpu::Device,
    k: &Kernels,
    data: &wgpu::Buffer,
    count: u32,
) -> Vec<ScanLevel> {
    use wgpu::BufferUsages as U;
    let mut scan_levels = vec![];
    let mut level = data.clone();
    let mut count = count;
    loop {
        let params =
            |use_offsets| uniform(device, "scan_params", &ScanParams { count, use_offsets });
        if count <= SCAN_BLOCK {
            let no_offsets = storage(device, "no_offsets", 16, U::empty());
            let apply = k.scan_apply.bind(
                device,
                layout::scan_apply::Bindings {
                    params: whole(&params(0)),
                    data: whole(&level),
                    block_offsets: whole(&no_offsets),
                },
            );
            scan_levels.push(ScanLevel {
                count,
                reduce: None,
                apply,
            });
            break;
        }
        let blocks = count.div_ceil(SCAN_BLOCK);
        let sums = storage(device, "scan_sums", blocks as u64 * 4, U::empty());
        let reduce = k.scan_reduce.bind(
            device,
            layout::scan_reduce::Bindings {
                params: whole(&params(0)),
                data: whole(&level),
                block_sums: whole(&sums),
            },
        );
        let apply = k.scan_apply.bind(
            device,
            layout::scan_apply::Bindings {
                params: whole(&params(1)),
                data: whole(&level),
                block_offsets: whole(&sums),
            },
        );
        scan_levels.push(ScanLevel {
            count,
            reduce: Some(reduce),
            apply,
        });
        level = sums;
        count = blocks;
    }
    scan_levels
}

/// Values to keys, keys sorted, ranks and orders.
pub(crate) struct Ranking {
    /// Pixels of the batch.
    pub pixels: u32,
    pub values: wgpu::Buffer,
    pub key_params: wgpu::Buffer,
    pub keys_bind: wgpu::BindGroup,
    pub passes: Vec<SortPass>,
    pub scan_levels: Vec<ScanLevel>,
    pub rank_bind: wgpu::BindGroup,
    pub rank: wgpu::Buffer,
    pub order: wgpu::Buffer,
    pub keys: wgpu::Buffer,
}

impl Ranking {
    fn new(device: &wgpu::Device, k: &Kernels, images: usize, pixels: usize) -> Self {
        use wgpu::BufferUsages as U;
        let total = (images * pixels) as u32;
        let bytes = total as u64 * 4;
        let values = storage(device, "values", bytes, U::COPY_DST | U::COPY_SRC);
        let keys = storage(device, "keys", bytes, U::COPY_SRC);
        let sort_keys = [
            storage(device, "sort_keys_a", bytes, U::empty()),
            storage(device, "sort_keys_b", bytes, U::empty()),
        ];
        let payload = [
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
            },
        );
        let keys_bind = k.order_keys.bind(
            device,
            layout::order_keys::Bindings {
                params: whole(&key_params),
                values: whole(&values),
                keys: whole(&keys),
                payload: whole(&payload[0]),
            },
        );

        // radix sort: the key passes, then enough image passes to order the batch by image
        let tiles = total.div_ceil(TILE);
        let hist_len = RADIX * tiles;
        let hist = storage(device, "radix_hist", hist_len as u64 * 4, U::empty());
        let image_bits = u32::BITS - (images as u32 - 1).leading_zeros();
        let mut plan: Vec<(u32, u32)> = (0..u32::BITS / RADIX_BITS)
            .map(|i| (RADIX_BITS * i, 0))
            .collect();
        plan.extend((0..image_bits.div_ceil(RADIX_BITS)).map(|i| (RADIX_BITS * i, 1)));
        let mut passes = vec![];
        for (i, &(shift, digit_source)) in plan.iter().enumerate() {
            let params = uniform(
                device,
                "sort_params",
                &SortParams {
                    count: total,
                    shift,
                    tiles,
                    digit_source,
                    pixels: pixels as u32,
                },
            );
            let (keys_in, payload_in) = match i {
                0 => (&keys, &payload[0]),
                _ => (&sort_keys[i % 2], &payload[i % 2]),
            };
            let (keys_out, payload_out) = (&sort_keys[(i + 1) % 2], &payload[(i + 1) % 2]);
            passes.push(SortPass {
                histogram: k.radix_histogram.bind(
                    device,
                    layout::radix_histogram::Bindings {
                        params: whole(&params),
                        keys: whole(keys_in),
                        payload: whole(payload_in),
                        hist: whole(&hist),
                    },
                ),
                scatter: k.radix_scatter.bind(
                    device,
                    layout::radix_scatter::Bindings {
                        params: whole(&params),
                        keys_in: whole(keys_in),
                        payload_in: whole(payload_in),
                        offsets: whole(&hist),
                        keys_out: whole(keys_out),
                        payload_out: whole(payload_out),
                    },
                ),
            });
        }
        let sorted_payload = &payload[plan.len() % 2];

        let scan_levels = scan_levels(device, k, &hist, hist_len);
        let rank_params = uniform(
            device,
            "rank_params",
            &RankParams {
                count: total,
                pixels: pixels as u32,
            },
        );
        let rank_bind = k.rank_scatter.bind(
            device,
            layout::rank_scatter::Bindings {
                params: whole(&rank_params),
                sorted_payload: whole(sorted_payload),
                rank: whole(&rank),
                order: whole(&order),
            },
        );
        Ranking {
            pixels: total,
            values,
            key_params,
            keys_bind,
            passes,
            scan_levels,
            rank_bind,
            rank,
            order,
            keys,
        }
    }
}

/// The per-vertex arrays and lists the two graphs share (they are paired one after the other).
pub(crate) struct Pairing {
    pub parent: wgpu::Buffer,
    pub vkey: wgpu::Buffer,
    /// Each root's best key (high and low word); a dead vertex keeps the key it died at.
    pub best: [wgpu::Buffer; 2],
    pub far_root: wgpu::Buffer,
    /// Live edges of the last round and of this one (by round parity).
    pub edge_lists: [wgpu::Buffer; 2],
    /// Waiting roots from the start, roots that hooked from the end (by round parity).
    pub root_lists: [wgpu::Buffer; 2],
    /// Live edges one edge list holds (control word `C_CAPACITY`).
    pub edge_capacity: u32,
}

impl Pairing {
    fn new(device: &wgpu::Device, key: &WorkspaceKey, grids: &[Grid; 2]) -> Self {
        use wgpu::BufferUsages as U;
        let images = key.images as u64;
        let max_v = grids
            .iter()
            .map(|g| g.vertex_count() as u64)
            .max()
            .unwrap_or(1)
            * images;
        let max_e = grids
            .iter()
            .map(|g| g.edge_count() as u64)
            .max()
            .unwrap_or(1)
            * images;
        let edge_capacity = max_e
            .min(binding_limit(&device.limits()) / 4)
            .min(key.capacity.edge_list.unwrap_or(u32::MAX) as u64)
            .max(1) as u32;
        let words = |label| storage(device, label, max_v * 4, U::COPY_SRC);
        Pairing {
            parent: words("parent"),
            vkey: words("vkey"),
            best: [words("best_hi"), words("best_lo")],
            far_root: words("far_root"),
            edge_lists: [
                storage(device, "live_edges_a", edge_capacity as u64 * 4, U::empty()),
                storage(device, "live_edges_b", edge_capacity as u64 * 4, U::empty()),
            ],
            root_lists: [words("roots_a"), words("roots_b")],
            edge_capacity,
        }
    }
}

/// One graph of the batch: its parameters, control words, indirect arguments, pair records and the
/// bind groups of every kernel that pairs it.
pub(crate) struct GraphStage {
    pub grid: Grid,
    /// Vertices of the batch's graphs.
    pub vertices: u64,
    pub params: wgpu::Buffer,
    pub control: wgpu::Buffer,
    pub args: wgpu::Buffer,
    /// One record per vertex (empty when the pairs are compacted on the host).
    pub records: wgpu::Buffer,
    pub init: wgpu::BindGroup,
    pub first_round: wgpu::BindGroup,
    /// By round parity: round `p` reads the lists of parity `p` and writes those of `1 - p`.
    pub select: [wgpu::BindGroup; 2],
    pub hook: [wgpu::BindGroup; 2],
    pub jump: [wgpu::BindGroup; 2],
    pub control_bind: wgpu::BindGroup,
    pub compact: wgpu::BindGroup,
    /// When the pairs are compacted on the host: where `vkey`, `best_hi` and `best_lo` of this graph
    /// are copied after its pass (mappable).
    pub host_state: Option<[wgpu::Buffer; 3]>,
}

impl GraphStage {
    fn new(
        device: &wgpu::Device,
        k: &Kernels,
        grid: Grid,
        images: usize,
        ranking: &Ranking,
        pairing: &Pairing,
        on_host: bool,
    ) -> Self {
        use wgpu::BufferUsages as U;
        let gk = k.graphs(device, grid.domain());
        let vertices = grid.vertex_count() as u64 * images as u64;
        let pixels = grid.pixel_count();
        let params = uniform(
            device,
            "graph_params",
            &graph_params(&grid, images, pixels, false),
        );
        let control = storage(device, "control", CONTROL_BYTES, U::COPY_SRC | U::COPY_DST);
        let args = storage(
            device,
            "dispatch_args",
            4 * ARG_WORDS as u64,
            U::INDIRECT | U::COPY_DST,
        );
        let records = storage(
            device,
            "pair_records",
            if on_host { 0 } else { vertices * RECORD_BYTES },
            U::COPY_SRC,
        );
        let host_state = on_host.then(|| {
            [
                mappable(device, "vkey_readback", vertices * 4),
                mappable(device, "best_hi_readback", vertices * 4),
                mappable(device, "best_lo_readback", vertices * 4),
            ]
        });
        let p = pairing;
        let init = gk.init.bind(
            device,
            layout::boruvka_init::Bindings {
                params: whole(&params),
                rank: whole(&ranking.rank),
                parent: whole(&p.parent),
                vkey: whole(&p.vkey),
                best_hi: whole(&p.best[0]),
                best_lo: whole(&p.best[1]),
            },
        );
        let first_round = gk.first_round.bind(
            device,
            layout::boruvka_first_round::Bindings {
                params: whole(&params),
                rank: whole(&ranking.rank),
                parent: whole(&p.parent),
                vkey: whole(&p.vkey),
                best_hi: whole(&p.best[0]),
                best_lo: whole(&p.best[1]),
                control: whole(&control),
                roots_out: whole(&p.root_lists[1]),
            },
        );
        let select = [0, 1].map(|parity| {
            gk.select.bind(
                device,
                layout::boruvka_select::Bindings {
                    params: whole(&params),
                    rank: whole(&ranking.rank),
                    parent: whole(&p.parent),
                    best_hi: whole(&p.best[0]),
                    best_lo: whole(&p.best[1]),
                    far_root: whole(&p.far_root),
                    control: whole(&control),
                    edges_in: whole(&p.edge_lists[parity]),
                    edges_out: whole(&p.edge_lists[1 - parity]),
                },
            )
        });
        let hook = [0, 1].map(|parity| {
            k.boruvka_hook.bind(
                device,
                layout::boruvka_hook::Bindings {
                    params: whole(&params),
                    parent: whole(&p.parent),
                    vkey: whole(&p.vkey),
                    best_hi: whole(&p.best[0]),
                    best_lo: whole(&p.best[1]),
                    far_root: whole(&p.far_root),
                    control: whole(&control),
                    roots_in: whole(&p.root_lists[parity]),
                    roots_out: whole(&p.root_lists[1 - parity]),
                },
            )
        });
        let jump = [0, 1].map(|parity| {
            k.pointer_jump.bind(
                device,
                layout::pointer_jump::Bindings {
                    params: whole(&params),
                    parent: whole(&p.parent),
                    control: whole(&control),
                    hooked: whole(&p.root_lists[1 - parity]),
                },
            )
        });
        let control_bind = k.boruvka_control.bind(
            device,
            layout::boruvka_control::Bindings {
                control: whole(&control),
                args: whole(&args),
            },
        );
        let compact = gk.compact.bind(
            device,
            layout::compact_pairs::Bindings {
                params: whole(&params),
                rank: whole(&ranking.rank),
                order: whole(&ranking.order),
                keys: whole(&ranking.keys),
                vkey: whole(&p.vkey),
                best_hi: whole(&p.best[0]),
                best_lo: whole(&p.best[1]),
                records: whole(&records),
                control: whole(&control),
            },
        );
        GraphStage {
            grid,
            vertices,
            params,
            control,
            args,
            records,
            init,
            first_round,
            select,
            hook,
            jump,
            control_bind,
            compact,
            host_state,
        }
    }

    /// The control words a pairing of this graph starts from.
    pub fn initial_control(
        &self,
        images: usize,
        edge_capacity: u32,
    ) -> [u32; CONTROL_WORDS as usize] {
        use layout::{C_CAPACITY, C_EDGES, C_EDGES_OUT, C_HOOKED, C_TARGET, C_VERTICES, NONE};
        let mut control = [0u32; CONTROL_WORDS as usize];
        let vertices = self.grid.vertex_count() * images as u32;
        control[C_TARGET as usize] = vertices - images as u32; // all but one root per image hook
        control[C_CAPACITY as usize] = edge_capacity;
        control[C_EDGES as usize] = self.grid.edge_count() * images as u32;
        control[C_VERTICES as usize] = vertices;
        control[C_EDGES_OUT as usize] = NONE; // first round: every edge, implicitly
        control[C_HOOKED as usize] = NONE; // first round: every vertex, implicitly
        control
    }
}

/// Volumes: H1's apparent pairs, 4 bits per square of the complex, from the ranks.
pub(crate) struct Apparent {
    pub bind: wgpu::BindGroup,
    /// Words per volume.
    pub words: u64,
    pub buffer: wgpu::Buffer,
    /// Where they are copied for the host (mappable).
    pub copy: wgpu::Buffer,
}

/// When the pairs are compacted on the host: where the ranking's `order` and `keys` are copied.
pub(crate) struct HostRanking {
    pub order: wgpu::Buffer,
    pub keys: wgpu::Buffer,
}

/// Every buffer and bind group for one batch shape, reused across calls of that shape.
pub(crate) struct Workspace {
    pub key: WorkspaceKey,
    pub ranking: Ranking,
    pub pairing: Pairing,
    pub graphs: Vec<GraphStage>,
    pub apparent: Option<Apparent>,
    pub host_ranking: Option<HostRanking>,
    /// Control words of both graphs, then the stage timestamps (mappable).
    pub readback: wgpu::Buffer,
    /// Where the pair records written are copied (grows to the largest count seen).
    pub records_staging: Staging,
    pub timestamps: Option<StageTimestamps>,
    /// Hooking rounds recorded per graph: the most this shape has needed (at least [`INITIAL_ROUNDS`]).
    pub rounds_hint: AtomicU32,
}

/// Bytes of the readback buffer: both graphs' control words, then the stage timestamps.
pub(crate) const READBACK_BYTES: u64 = 2 * CONTROL_BYTES + StageTimestamps::BYTES;

impl Workspace {
    pub fn new(device: &wgpu::Device, k: &Kernels, key: WorkspaceKey, grids: [Grid; 2]) -> Self {
        let ranking = Ranking::new(device, k, key.images, key.pixels());
        let pairing = Pairing::new(device, &key, &grids);
        let domain = key.shape.domain();
        let gk = k.graphs(device, domain);
        let on_host = host_compaction(&device.limits(), &key, &grids);
        let graphs: Vec<GraphStage> = grids
            .iter()
            .map(|&grid| GraphStage::new(device, k, grid, key.images, &ranking, &pairing, on_host))
            .collect();
        let apparent = match (&gk.apparent, graphs.get(1)) {
            (Some(kernel), Some(dual)) => {
                let words = (dual.grid.edge_count() as u64).div_ceil(8);
                let bytes = words * key.images as u64 * 4;
                let buffer = storage(device, "apparent", bytes, wgpu::BufferUsages::COPY_SRC);
                let bind = kernel.bind(
                    device,
                    layout::apparent_pairs::Bindings {
                        params: whole(&dual.params),
                        rank: whole(&ranking.rank),
                        apparent: whole(&buffer),
                    },
                );
                Some(Apparent {
                    bind,
                    words,
                    buffer,
                    copy: mappable(device, "apparent_readback", bytes),
                })
            }
            _ => None,
        };
        let bytes = ranking.pixels as u64 * 4;
        let host_ranking = on_host.then(|| HostRanking {
            order: mappable(device, "order_readback", bytes),
            keys: mappable(device, "keys_readback", bytes),
        });
        let vertices = grids
            .iter()
            .map(|g| g.vertex_count() as u64)
            .max()
            .unwrap_or(1);
        Workspace {
            key,
            ranking,
            pairing,
            graphs,
            apparent,
            host_ranking,
            readback: mappable(device, "readback", READBACK_BYTES),
            records_staging: Staging::new("records_readback"),
            timestamps: StageTimestamps::new(device),
            rounds_hint: AtomicU32::new(initial_rounds(vertices)),
        }
    }

    /// Uploads this call's parameters (the pixels go in separately).
    pub fn write_params(&self, options: &Options, mut write: impl FnMut(&wgpu::Buffer, &[u8])) {
        write(
            &self.ranking.key_params,
            bytemuck::bytes_of(&KeyParams {
                count: self.ranking.pixels,
                superlevel: options.is_superlevel() as u32,
            }),
        );
        // a volume's merges all come back (zero persistence too): H1 on the host needs their cells
        let keep = options.keep_zero_persistence || self.key.shape.domain() == Domain::Volume;
        for g in &self.graphs {
            let gp = graph_params(&g.grid, self.key.images, self.key.pixels(), keep);
            write(&g.params, bytemuck::bytes_of(&gp));
        }
    }
}
