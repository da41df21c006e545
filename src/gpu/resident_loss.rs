//! A resident plan's topological loss: the buffers and the recording of the loss kernels after the
//! diagrams, from the pair records on the device to the per-map losses and the gradient `dL/dp`,
//! copied into the caller's buffers. The numbers are the host's ([`crate::loss`]): the same
//! selection, the same terms, each pixel's entries added in the same order, each map's shares in
//! the order of `loss_reduce`.

use super::buffers::{storage, uniform};
use super::kernels::{whole, Kernels};
use super::workspace::{scan_levels, ScanLevel, Workspace};
use crate::layout::{self, LossParams, Prior, Selection, Term, LOSS_L1, LOSS_SQUARED};
use crate::options::{LossKind, TopologicalLoss};

/// One graph's loss buffers and bind groups.
pub(crate) struct LossGraph {
    pub records: u64,
    pub buckets: wgpu::BindGroup,
    pub select: wgpu::BindGroup,
    pub terms: wgpu::BindGroup,
    pub scatter: wgpu::BindGroup,
    pub gather: wgpu::BindGroup,
}

/// The loss's buffers for one plan.
pub(crate) struct ResidentLoss {
    pub graphs: Vec<LossGraph>,
    /// The offsets (scanned in place) and the counts of the records' segments, `2B` words each.
    pub segments: wgpu::Buffer,
    pub segment_scan: Vec<ScanLevel>,
    pub bucket_cursor: wgpu::Buffer,
    pub counts: wgpu::Buffer,
    pub offsets: wgpu::Buffer,
    pub cursor: wgpu::Buffer,
    pub scan: Vec<ScanLevel>,
    pub reduce: wgpu::BindGroup,
    pub gradient: wgpu::Buffer,
    pub losses: wgpu::Buffer,
    /// The initial words of the plan's flags (word 0: the first pixel of the batch that is not a
    /// probability, `NONE` for none).
    pub flags_init: wgpu::Buffer,
    pub images: u64,
    pub pixels: u64,
    /// Every map's prior (`Prior` words), and the loss's kind (the plan's, fixed).
    pub priors: wgpu::Buffer,
    pub kind: LossKind,
    /// The priors of the next recording, and whether it must upload them first (they changed).
    pub next_priors: std::sync::Mutex<NextPriors>,
}

/// A resident loss's priors as the host last set them.
pub(crate) struct NextPriors {
    pub words: Vec<Prior>,
    pub upload: bool,
}

/// The prior of every map: one for all, or one per map.
pub(crate) fn priors(losses: &[TopologicalLoss], images: usize) -> Vec<Prior> {
    (0..images)
        .map(|b| {
            let l = &losses[if losses.len() == 1 { 0 } else { b }];
            let beta =
                |k: usize| l.betti.get(k).copied().unwrap_or(0).min(u32::MAX as usize) as u32;
            let weight = |k: usize| l.weights.get(k).copied().unwrap_or(1.0);
            Prior {
                beta0: beta(0),
                beta1: beta(1),
                weight0: weight(0),
                weight1: weight(1),
            }
        })
        .collect()
}

impl ResidentLoss {
    /// The loss buffers of a plan of `ws`'s shape with these priors (checked by the caller).
    pub fn new(
        device: &wgpu::Device,
        k: &Kernels,
        ws: &Workspace,
        losses: &[TopologicalLoss],
        status: &wgpu::Buffer,
        count_params: &[wgpu::Buffer],
    ) -> Self {
        use wgpu::util::DeviceExt;
        use wgpu::BufferUsages as U;
        let lk = k.loss(device);
        let images = ws.key.images;
        let pixels = ws.key.shape.pixels() as u64;
        let total = images as u64 * pixels;
        let loss_kind = losses.first().map_or(LossKind::Squared, |l| l.kind);
        let kind = match loss_kind {
            LossKind::L1 => LOSS_L1,
            _ => LOSS_SQUARED,
        };
        let prior_words = priors(losses, images);
        let priors = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("wgpu-persistence.priors"),
            contents: bytemuck::cast_slice(&prior_words),
            usage: U::STORAGE | U::COPY_DST,
        });
        let selection = storage(
            device,
            "selection",
            2 * images as u64 * std::mem::size_of::<Selection>() as u64,
            U::empty(),
        );
        let counts = storage(device, "entry_counts", total * 4, U::COPY_DST | U::COPY_SRC);
        let offsets = storage(device, "entry_offsets", total * 4, U::COPY_DST);
        let cursor = storage(device, "entry_cursor", total * 4, U::COPY_DST);
        let capacity: u64 = ws.graphs.iter().map(|g| g.vertices).sum();
        let segments = storage(device, "segments", 4 * images as u64 * 4, U::COPY_DST);
        let bucket_cursor = storage(device, "bucket_cursor", 2 * images as u64 * 4, U::COPY_DST);
        let bucket = storage(device, "bucket", capacity * 4, U::empty());
        let entries = storage(device, "entries", 2 * capacity * 4, U::empty());
        let gradient = storage(device, "gradient", total * 4, U::COPY_SRC);
        let share = storage(device, "loss_share", total * 4, U::empty());
        let losses_buf = storage(device, "losses", images as u64 * 4, U::COPY_SRC);
        let graphs = ws
            .graphs
            .iter()
            .enumerate()
            .map(|(dim, g)| {
                let params = uniform(
                    device,
                    "loss_params",
                    &LossParams {
                        images: images as u32,
                        pixels: pixels as u32,
                        dim: dim as u32,
                        kind,
                        capacity: g.vertices as u32,
                        ..LossParams::default()
                    },
                );
                let pers = storage(device, "persistence", g.vertices * 8, U::empty());
                let terms = storage(
                    device,
                    "terms",
                    g.vertices * std::mem::size_of::<Term>() as u64,
                    U::empty(),
                );
                LossGraph {
                    records: g.vertices,
                    buckets: lk.buckets.bind(
                        device,
                        layout::record_buckets::Bindings {
                            params: whole(&count_params[dim]),
                            records: whole(&g.records),
                            control: whole(&g.control),
                            segments: whole(&segments),
                            cursor: whole(&bucket_cursor),
                            bucket: whole(&bucket),
                        },
                    ),
                    select: lk.select.bind(
                        device,
                        layout::loss_select::Bindings {
                            params: whole(&params),
                            values: whole(&ws.ranking.values),
                            records: whole(&g.records),
                            priors: whole(&priors),
                            selection: whole(&selection),
                            pers: whole(&pers),
                            status: whole(status),
                            segments: whole(&segments),
                            bucket: whole(&bucket),
                        },
                    ),
                    terms: lk.terms.bind(
                        device,
                        layout::loss_terms::Bindings {
                            params: whole(&params),
                            values: whole(&ws.ranking.values),
                            records: whole(&g.records),
                            control: whole(&g.control),
                            priors: whole(&priors),
                            selection: whole(&selection),
                            pers: whole(&pers),
                            terms: whole(&terms),
                            counts: whole(&counts),
                        },
                    ),
                    scatter: lk.scatter.bind(
                        device,
                        layout::loss_scatter::Bindings {
                            params: whole(&params),
                            records: whole(&g.records),
                            control: whole(&g.control),
                            selection: whole(&selection),
                            terms: whole(&terms),
                            offsets: whole(&offsets),
                            cursor: whole(&cursor),
                            entries: whole(&entries),
                        },
                    ),
                    gather: lk.gather.bind(
                        device,
                        layout::loss_gather::Bindings {
                            params: whole(&params),
                            records: whole(&g.records),
                            terms: whole(&terms),
                            selection: whole(&selection),
                            offsets: whole(&offsets),
                            counts: whole(&counts),
                            entries: whole(&entries),
                            gradient: whole(&gradient),
                            share: whole(&share),
                        },
                    ),
                }
            })
            .collect();
        let reduce_params = uniform(
            device,
            "loss_params",
            &LossParams {
                images: images as u32,
                pixels: pixels as u32,
                kind,
                ..LossParams::default()
            },
        );
        let reduce = lk.reduce.bind(
            device,
            layout::loss_reduce::Bindings {
                params: whole(&reduce_params),
                share: whole(&share),
                selection: whole(&selection),
                losses: whole(&losses_buf),
            },
        );
        let flags_init = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("wgpu-persistence.loss_flags_init"),
            contents: bytemuck::cast_slice(&[layout::NONE, 0, 0, 0]),
            usage: U::COPY_SRC,
        });
        Self {
            graphs,
            segment_scan: scan_levels(device, k, &segments, 2 * images as u32),
            segments,
            bucket_cursor,
            scan: scan_levels(device, k, &offsets, total as u32),
            counts,
            offsets,
            cursor,
            reduce,
            gradient,
            losses: losses_buf,
            flags_init,
            images: images as u64,
            pixels,
            priors,
            kind: loss_kind,
            next_priors: std::sync::Mutex::new(NextPriors {
                words: prior_words,
                upload: false,
            }),
        }
    }
}
