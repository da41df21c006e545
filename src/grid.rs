//! The six graphs whose elder-rule H0 gives a 2D diagram, and the four of a volume, shared by the
//! CPU ports and (mirrored in `shaders/common/grid.wgsl`, which numbers them: [`GraphKind`] takes its
//! values from there) by the GPU kernels.
//!
//! H0 is the 0-dimensional persistence of a *primal* graph (pixels, with 4-, 6- or 8-connectivity).
//! H1 is, by Alexander duality, the 0-dimensional persistence of a *dual* graph (the top cells plus one
//! exterior cell, joined across every primal edge) in the reversed filtration.
//!
//! Every vertex has a `u32` *birth key* (lower = older) and every edge a `(hi, lo)` *processing key*
//! (lexicographically lower = earlier). Both are in processing order: for the dual graphs they are the
//! bitwise complements of the primal filtration keys, so one elder-rule routine serves all six graphs.
//! All keys are built from pixel ranks (`rank[p]` = position of pixel `p` in the total order of
//! `docs/conventions.md`), so every key is unique and the pairing is unique.

use crate::input::Domain;
use crate::layout;
use crate::options::Construction;

/// Which graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum GraphKind {
    /// V construction, H0: pixels, 4-connected.
    VPrimal = layout::KIND_V_PRIMAL,
    /// V construction, H1: unit squares plus the exterior.
    VDual = layout::KIND_V_DUAL,
    /// T construction, H0: pixels, 8-connected.
    TPrimal = layout::KIND_T_PRIMAL,
    /// T construction, H1: pixels (reversed) plus the exterior, 4-connected.
    TDual = layout::KIND_T_DUAL,
    /// Freudenthal, H0: pixels, 6-connected (4 plus the main diagonal).
    FPrimal = layout::KIND_F_PRIMAL,
    /// Freudenthal, H1: triangles plus the exterior.
    FDual = layout::KIND_F_DUAL,
    /// Volume, V construction, H0: the complex's vertices (the voxels) and edges (6-connected).
    V3Primal = layout::KIND_V3_PRIMAL,
    /// Volume, V construction, H2: the complex's cubes plus the exterior, joined across its squares.
    V3Dual = layout::KIND_V3_DUAL,
    /// Volume, T construction, H0: the complex's vertices (voxel corners) and edges.
    T3Primal = layout::KIND_T3_PRIMAL,
    /// Volume, T construction, H2: the cubes (the voxels) plus the exterior, joined across squares.
    T3Dual = layout::KIND_T3_DUAL,
}

impl GraphKind {
    /// The (primal, dual) graphs of a construction.
    pub fn of(construction: Construction) -> (GraphKind, GraphKind) {
        match construction {
            Construction::V => (GraphKind::VPrimal, GraphKind::VDual),
            Construction::T => (GraphKind::TPrimal, GraphKind::TDual),
            Construction::Freudenthal => (GraphKind::FPrimal, GraphKind::FDual),
        }
    }
    /// The (H0, H2) graphs of a volume's construction: cell-level graphs of the cubical complex,
    /// whose merging edges are the negative edges and the positive squares that H1 leaves out.
    /// `None` for Freudenthal (2D only).
    pub fn of_volume(construction: Construction) -> Option<(GraphKind, GraphKind)> {
        match construction {
            Construction::V => Some((GraphKind::V3Primal, GraphKind::V3Dual)),
            Construction::T => Some((GraphKind::T3Primal, GraphKind::T3Dual)),
            Construction::Freudenthal => None,
        }
    }
    /// Whether this is a dual graph (H1 of an image, H2 of a volume).
    pub fn is_dual(self) -> bool {
        matches!(
            self,
            GraphKind::VDual
                | GraphKind::TDual
                | GraphKind::FDual
                | GraphKind::V3Dual
                | GraphKind::T3Dual
        )
    }
    /// Whether this is a graph of a volume's complex.
    pub fn is_volume(self) -> bool {
        (self as u32) >= layout::KIND_V3_PRIMAL
    }

    /// Whether it is a graph of images or of volumes.
    pub(crate) fn domain(self) -> Domain {
        match self.is_volume() {
            true => Domain::Volume,
            false => Domain::Image,
        }
    }
}

/// Sentinel for "no vertex" / "no key" (`NONE` of `shaders/common/params.wgsl`).
pub const NONE: u32 = layout::NONE;
const _: () = assert!(NONE == u32::MAX);

/// Offsets of a cell from the voxel it enters at, `{-1, 0, 1}^3`: a volume cell's key is
/// `SLOTS * rank + slot` with `slot = (oz+1)*9 + (oy+1)*3 + (ox+1)` (the order of `src/cpu/volume.rs`).
pub const SLOTS: u32 = layout::SLOTS;

/// One graph on one `height x width` image or `depth x height x width` volume.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    /// Which graph.
    pub kind: GraphKind,
    /// Volume slices (1 for an image).
    pub depth: u32,
    /// Image rows.
    pub height: u32,
    /// Image columns.
    pub width: u32,
}

impl Grid {
    /// Whether it is a graph of images or of volumes.
    pub(crate) fn domain(&self) -> Domain {
        self.kind.domain()
    }

    /// A graph on an image.
    pub fn new(kind: GraphKind, height: usize, width: usize) -> Self {
        Self {
            kind,
            depth: 1,
            height: height as u32,
            width: width as u32,
        }
    }

    /// A graph on a volume (`kind` one of the volume kinds).
    pub fn volume(kind: GraphKind, depth: usize, height: usize, width: usize) -> Self {
        Self {
            kind,
            depth: depth as u32,
            height: height as u32,
            width: width as u32,
        }
    }

    fn pixels(&self) -> u32 {
        self.height * self.width
    }

    /// Pixels of one image, voxels of one volume.
    pub fn pixel_count(&self) -> usize {
        self.depth as usize * self.height as usize * self.width as usize
    }
    fn squares(&self) -> u32 {
        self.height.saturating_sub(1) * self.width.saturating_sub(1)
    }
    fn horizontal(&self) -> u32 {
        self.height * self.width.saturating_sub(1)
    }
    fn vertical(&self) -> u32 {
        self.height.saturating_sub(1) * self.width
    }

    /// Number of vertices (for a dual graph the last one is the exterior cell). The GPU engine checks
    /// [`Self::vertex_count_u64`] against `u32` before it uses this; images are capped well below.
    pub fn vertex_count(&self) -> u32 {
        self.vertex_count_u64() as u32
    }

    /// [`Self::vertex_count`] in `u64`, for checking a shape before any `u32` count of it is used.
    pub(crate) fn vertex_count_u64(&self) -> u64 {
        let (h, w) = (self.height as u64, self.width as u64);
        let squares = h.saturating_sub(1) * w.saturating_sub(1);
        match self.kind {
            GraphKind::VPrimal | GraphKind::TPrimal | GraphKind::FPrimal => h * w,
            GraphKind::VDual => squares + 1,
            GraphKind::TDual => h * w + 1,
            GraphKind::FDual => 2 * squares + 1,
            GraphKind::V3Primal | GraphKind::T3Primal => self.complex_vertices_u64(),
            GraphKind::V3Dual | GraphKind::T3Dual => {
                self.cube_shape().iter().map(|&n| n as u64).product::<u64>() + 1
            }
        }
    }

    /// Number of edges.
    pub fn edge_count(&self) -> u32 {
        let hv = self.horizontal() + self.vertical();
        match self.kind {
            GraphKind::V3Primal | GraphKind::V3Dual | GraphKind::T3Primal | GraphKind::T3Dual => {
                3 * self.complex_vertices()
            }
            GraphKind::VPrimal | GraphKind::VDual => hv,
            GraphKind::FPrimal | GraphKind::FDual => hv + self.squares(),
            GraphKind::TPrimal => hv + 2 * self.squares(),
            GraphKind::TDual => hv + 2 * self.width + 2 * self.height,
        }
    }

    /// The pixels at the ends of primal edge `e` (horizontal, vertical, diagonal, anti-diagonal
    /// segments in that order), or for the T dual's boundary edges `(pixel, NONE)`.
    /// Returns also the boundary side (0..4) for those.
    fn edge_pixels(&self, e: u32) -> (u32, u32, u32) {
        let w = self.width;
        let (nh, nv, ns) = (self.horizontal(), self.vertical(), self.squares());
        if e < nh {
            let (y, x) = (e / (w - 1), e % (w - 1));
            let p = y * w + x;
            return (p, p + 1, 0);
        }
        let e = e - nh;
        if e < nv {
            return (e, e + w, 0);
        }
        let e = e - nv;
        if self.kind == GraphKind::TDual {
            // boundary sides: top row, bottom row, left column, right column
            let h = self.height;
            return if e < w {
                (e, NONE, 0)
            } else if e < 2 * w {
                ((h - 1) * w + (e - w), NONE, 1)
            } else if e < 2 * w + h {
                ((e - 2 * w) * w, NONE, 2)
            } else {
                ((e - 2 * w - h) * w + w - 1, NONE, 3)
            };
        }
        let (y, x) = (e % ns / (w - 1), e % ns % (w - 1));
        let p = y * w + x;
        if e < ns {
            (p, p + w + 1, 0)
        } else {
            (p + 1, p + w, 0)
        }
    }

    /// The two vertices joined by edge `e` (they may coincide, e.g. the exterior on both sides of an
    /// edge of a one-row image; such an edge never merges anything).
    pub fn edge_vertices(&self, e: u32) -> (u32, u32) {
        if self.kind.is_volume() {
            return self.volume_edge_vertices(e);
        }
        let (a, b, _) = self.edge_pixels(e);
        let (w, h) = (self.width, self.height);
        match self.kind {
            GraphKind::V3Primal | GraphKind::V3Dual | GraphKind::T3Primal | GraphKind::T3Dual => {
                self.volume_edge_vertices(e)
            }
            GraphKind::VPrimal | GraphKind::TPrimal | GraphKind::FPrimal => (a, b),
            GraphKind::TDual => (a, if b == NONE { self.pixels() } else { b }),
            GraphKind::VDual | GraphKind::FDual => {
                let ext = self.vertex_count() - 1;
                let (y, x) = (a / w, a % w);
                let sq = |yy: u32, xx: u32| yy * (w - 1) + xx;
                let f = self.kind == GraphKind::FDual;
                let (upper, lower) = (|s: u32| 2 * s, |s: u32| 2 * s + 1);
                if e < self.horizontal() {
                    let above = if y > 0 { sq(y - 1, x) } else { NONE };
                    let below = if y < h - 1 { sq(y, x) } else { NONE };
                    if f {
                        (
                            if above == NONE { ext } else { lower(above) },
                            if below == NONE { ext } else { upper(below) },
                        )
                    } else {
                        (
                            if above == NONE { ext } else { above },
                            if below == NONE { ext } else { below },
                        )
                    }
                } else if e < self.horizontal() + self.vertical() {
                    let left = if x > 0 { sq(y, x - 1) } else { NONE };
                    let right = if x < w - 1 { sq(y, x) } else { NONE };
                    if f {
                        (
                            if left == NONE { ext } else { upper(left) },
                            if right == NONE { ext } else { lower(right) },
                        )
                    } else {
                        (
                            if left == NONE { ext } else { left },
                            if right == NONE { ext } else { right },
                        )
                    }
                } else {
                    let s = sq(y, x);
                    (upper(s), lower(s))
                }
            }
        }
    }

    /// Primal filtration key `(hi, lo)` of edge `e`; `hi` is always the rank of the pixel whose value
    /// the edge takes.
    pub fn primal_edge_key(&self, e: u32, rank: &[u32]) -> (u32, u32) {
        let (a, b, side) = self.edge_pixels(e);
        if self.kind == GraphKind::TDual {
            if b == NONE {
                return (rank[a as usize], self.pixels() + side);
            }
            let (ra, rb) = (rank[a as usize], rank[b as usize]);
            return (ra.min(rb), ra.max(rb));
        }
        let (ra, rb) = (rank[a as usize], rank[b as usize]);
        (ra.max(rb), ra.min(rb))
    }

    /// Processing key of edge `e` (primal key, complemented for dual graphs).
    pub fn edge_key(&self, e: u32, rank: &[u32]) -> (u32, u32) {
        if self.kind.is_volume() {
            return self.volume_edge_key(e, rank);
        }
        let (hi, lo) = self.primal_edge_key(e, rank);
        if self.kind.is_dual() {
            (!hi, !lo)
        } else {
            (hi, lo)
        }
    }

    /// Primal filtration key of a dual vertex (top cell): V: `4*M + corner`, F: `8*M + 3*type + corner`,
    /// T: `M`, where `M` is the rank of the pixel whose value the cell takes. The exterior has none.
    pub fn primal_cell_key(&self, v: u32, rank: &[u32]) -> u32 {
        let w = self.width;
        match self.kind {
            GraphKind::VDual => {
                let (y, x) = (v / (w - 1), v % (w - 1));
                let p = y * w + x;
                let corners = [p, p + 1, p + w, p + w + 1];
                let (mut m, mut t) = (0u32, 0u32);
                for (c, &q) in corners.iter().enumerate() {
                    let r = rank[q as usize];
                    if c == 0 || r > m {
                        m = r;
                        t = c as u32;
                    }
                }
                4 * m + t
            }
            GraphKind::FDual => {
                let s = v / 2;
                let (y, x) = (s / (w - 1), s % (w - 1));
                let p = y * w + x;
                let ty = v % 2;
                let corners = if ty == 0 {
                    [p, p + 1, p + w + 1]
                } else {
                    [p, p + w, p + w + 1]
                };
                let (mut m, mut t) = (0u32, 0u32);
                for (c, &q) in corners.iter().enumerate() {
                    let r = rank[q as usize];
                    if c == 0 || r > m {
                        m = r;
                        t = c as u32;
                    }
                }
                8 * m + 3 * ty + t
            }
            _ => rank[v as usize],
        }
    }

    /// Birth key of vertex `v` in processing order (lower = older).
    pub fn vertex_key(&self, v: u32, rank: &[u32]) -> u32 {
        if self.kind.is_volume() {
            return self.volume_vertex_key(v, rank);
        }
        if !self.kind.is_dual() {
            return rank[v as usize];
        }
        if v == self.vertex_count() - 1 {
            return 0; // the exterior is older than every cell
        }
        !self.primal_cell_key(v, rank)
    }

    /// Rank of the pixel whose value a dual vertex takes, from its processing key.
    pub fn cell_pixel_rank(&self, vertex_key: u32) -> u32 {
        let k = !vertex_key;
        match self.kind {
            GraphKind::VDual => k / 4,
            GraphKind::FDual => k / 8,
            GraphKind::V3Dual | GraphKind::T3Dual => k / SLOTS,
            _ => k,
        }
    }

    /// Rank of the pixel whose value vertex `v` (with birth key `vertex_key`) takes: its birth in a
    /// primal graph, its death in a dual one.
    pub fn vertex_rank(&self, vertex_key: u32) -> u32 {
        match self.kind {
            k if k.is_dual() => self.cell_pixel_rank(vertex_key),
            GraphKind::V3Primal | GraphKind::T3Primal => vertex_key / SLOTS,
            _ => vertex_key,
        }
    }

    /// The edges incident to vertex `v` (not the exterior cell), at most 8, in the order of
    /// `incident_edges` in `shaders/common/grid.wgsl`.
    pub fn incident_edges(&self, v: u32) -> Vec<u32> {
        if self.kind.is_volume() {
            return self.volume_incident_edges(v);
        }
        let (w, h) = (self.width, self.height);
        let (nh, nv, ns) = (self.horizontal(), self.vertical(), self.squares());
        let mut out = Vec::with_capacity(8);
        match self.kind {
            GraphKind::VDual | GraphKind::FDual => {
                let s = if self.kind == GraphKind::FDual {
                    v / 2
                } else {
                    v
                };
                let (y, x) = (s / (w - 1), s % (w - 1));
                if self.kind == GraphKind::VDual {
                    out.extend([
                        y * (w - 1) + x,
                        (y + 1) * (w - 1) + x,
                        nh + y * w + x,
                        nh + y * w + x + 1,
                    ]);
                } else if v.is_multiple_of(2) {
                    out.extend([y * (w - 1) + x, nh + y * w + x + 1, nh + nv + s]);
                } else {
                    out.extend([nh + y * w + x, (y + 1) * (w - 1) + x, nh + nv + s]);
                }
            }
            kind => {
                let (y, x) = (v / w, v % w);
                if x + 1 < w {
                    out.push(y * (w - 1) + x);
                }
                if x > 0 {
                    out.push(y * (w - 1) + x - 1);
                }
                if y + 1 < h {
                    out.push(nh + v);
                }
                if y > 0 {
                    out.push(nh + v - w);
                }
                if matches!(kind, GraphKind::TPrimal | GraphKind::FPrimal) {
                    if y + 1 < h && x + 1 < w {
                        out.push(nh + nv + y * (w - 1) + x);
                    }
                    if y > 0 && x > 0 {
                        out.push(nh + nv + (y - 1) * (w - 1) + x - 1);
                    }
                }
                if kind == GraphKind::TPrimal {
                    if y + 1 < h && x > 0 {
                        out.push(nh + nv + ns + y * (w - 1) + x - 1);
                    }
                    if y > 0 && x + 1 < w {
                        out.push(nh + nv + ns + (y - 1) * (w - 1) + x);
                    }
                }
                if kind == GraphKind::TDual {
                    let b = nh + nv;
                    if y == 0 {
                        out.push(b + x);
                    }
                    if y + 1 == h {
                        out.push(b + w + x);
                    }
                    if x == 0 {
                        out.push(b + 2 * w + y);
                    }
                    if x + 1 == w {
                        out.push(b + 2 * w + h + y);
                    }
                }
            }
        }
        out
    }
}

/// The volume graphs: cell-level graphs of the V or T cubical complex (`src/cpu/volume.rs` has the
/// conventions). Cells are named on the complex's vertex grid (V: `D x H x W`, T: one more per axis):
/// an edge or a square is `3 * base vertex + axis` (its open axis for an edge, its closed axis for a
/// square; an id whose cell would leave the grid is a self-loop that never merges), a cube of the
/// dual graph is numbered on the cube grid, and the exterior comes last. A cell's key is
/// `(rank of the voxel it enters at, slot of its offset from that voxel)`, the order of the CPU
/// backend's sweeps, so the edges that merge here are exactly the CPU's negative edges (primal) and
/// positive squares (dual).
impl Grid {
    fn is_t3(&self) -> bool {
        matches!(self.kind, GraphKind::T3Primal | GraphKind::T3Dual)
    }
    /// Vertex grid of the complex, `[z, y, x]`.
    fn complex_shape(&self) -> [u32; 3] {
        let t = self.is_t3() as u32;
        [self.depth + t, self.height + t, self.width + t]
    }
    fn complex_vertices(&self) -> u32 {
        self.complex_shape().iter().product()
    }
    /// Vertices of the complex (a volume graph) or pixels (an image graph), in `u64`: for checking
    /// a shape against `u32` indices before any `u32` count of it is used.
    pub(crate) fn complex_vertices_u64(&self) -> u64 {
        if self.kind.is_volume() {
            self.complex_shape().iter().map(|&n| n as u64).product()
        } else {
            self.height as u64 * self.width as u64
        }
    }
    /// Cube grid of the complex.
    fn cube_shape(&self) -> [u32; 3] {
        self.complex_shape().map(|n| n.saturating_sub(1))
    }
    pub(crate) fn vertex_coordinates(&self, v: u32) -> [u32; 3] {
        let [_, b, c] = self.complex_shape();
        [v / (b * c), (v / c) % b, v % c]
    }
    pub(crate) fn vertex_stride(&self) -> [u32; 3] {
        let [_, b, c] = self.complex_shape();
        [b * c, c, 1]
    }
    fn cube_index(&self, k: [u32; 3]) -> u32 {
        let [_, b, c] = self.cube_shape();
        (k[0] * b + k[1]) * c + k[2]
    }
    /// The voxel a cell (Khalimsky coordinates `k`) enters at: the last of its vertices (V) or the
    /// first of the voxels around it (T); returns `(rank, slot)`.
    fn cell_entry(&self, k: [u32; 3], rank: &[u32]) -> (u32, u32) {
        let t = self.is_t3();
        let size = [self.depth, self.height, self.width];
        // per axis the voxel coordinates that decide, at most two
        let mut lo = [0u32; 3];
        let mut count = [0u32; 3];
        for i in 0..3 {
            let odd = k[i] % 2 == 1;
            (lo[i], count[i]) = match (t, odd) {
                (false, false) => (k[i] / 2, 1),
                (false, true) => (k[i] / 2, 2),
                (true, true) => (k[i] / 2, 1),
                (true, false) => {
                    let h = k[i] / 2;
                    let first = h.saturating_sub(1);
                    let last = h.min(size[i] - 1);
                    (first, last + 1 - first)
                }
            };
        }
        let mut best = (0u32, 0u32);
        let mut found = false;
        for dz in 0..count[0] {
            for dy in 0..count[1] {
                for dx in 0..count[2] {
                    let p = [lo[0] + dz, lo[1] + dy, lo[2] + dx];
                    let r = rank[((p[0] * self.height + p[1]) * self.width + p[2]) as usize];
                    if !found || (if t { r < best.0 } else { r > best.0 }) {
                        let mut slot = 0;
                        for i in 0..3 {
                            let o = k[i] as i64 - 2 * p[i] as i64 - t as i64;
                            slot = 3 * slot + (o + 1) as u32;
                        }
                        best = (r, slot);
                        found = true;
                    }
                }
            }
        }
        best
    }
    /// Whether volume edge id `e` names a cell, and its base vertex's coordinates and axis.
    fn volume_edge_cell(&self, e: u32) -> Option<([u32; 3], usize)> {
        let (v, a) = (e / 3, (e % 3) as usize);
        let c = self.vertex_coordinates(v);
        let shape = self.complex_shape();
        let dual = self.kind.is_dual();
        let fits = (0..3).all(|i| (i == a) == dual || c[i] + 1 < shape[i]);
        fits.then_some((c, a))
    }
    /// Khalimsky coordinates of volume edge `e` (an edge of the complex, or a square for a dual).
    fn volume_edge_khalimsky(&self, c: [u32; 3], a: usize) -> [u32; 3] {
        let dual = self.kind.is_dual();
        std::array::from_fn(|i| 2 * c[i] + ((i == a) != dual) as u32)
    }
    fn volume_edge_vertices(&self, e: u32) -> (u32, u32) {
        let Some((c, a)) = self.volume_edge_cell(e) else {
            let v = if self.kind.is_dual() {
                self.vertex_count() - 1
            } else {
                e / 3
            };
            return (v, v);
        };
        let stride = self.vertex_stride();
        if !self.kind.is_dual() {
            return (e / 3, e / 3 + stride[a]);
        }
        let ext = self.vertex_count() - 1;
        let below = if c[a] >= 1 {
            let mut k = c;
            k[a] -= 1;
            self.cube_index(k)
        } else {
            ext
        };
        let above = if c[a] < self.cube_shape()[a] {
            self.cube_index(c)
        } else {
            ext
        };
        (below, above)
    }
    fn volume_edge_key(&self, e: u32, rank: &[u32]) -> (u32, u32) {
        let Some((c, a)) = self.volume_edge_cell(e) else {
            return (NONE, NONE);
        };
        let key = self.cell_entry(self.volume_edge_khalimsky(c, a), rank);
        if self.kind.is_dual() {
            (!key.0, !key.1)
        } else {
            key
        }
    }
    fn volume_vertex_key(&self, v: u32, rank: &[u32]) -> u32 {
        if !self.kind.is_dual() {
            let c = self.vertex_coordinates(v);
            let (r, slot) = self.cell_entry(c.map(|x| 2 * x), rank);
            return SLOTS * r + slot;
        }
        if v == self.vertex_count() - 1 {
            return 0;
        }
        let [_, b, c] = self.cube_shape();
        let k = [v / (b * c), (v / c) % b, v % c];
        let (r, slot) = self.cell_entry(k.map(|x| 2 * x + 1), rank);
        !(SLOTS * r + slot)
    }
    fn volume_incident_edges(&self, v: u32) -> Vec<u32> {
        let stride = self.vertex_stride();
        let mut out = Vec::with_capacity(6);
        if self.kind.is_dual() {
            let [_, b, c] = self.cube_shape();
            let k = [v / (b * c), (v / c) % b, v % c];
            let base = k[0] * stride[0] + k[1] * stride[1] + k[2];
            for (a, step) in (0u32..).zip(stride) {
                out.push(3 * base + a);
                out.push(3 * (base + step) + a);
            }
        } else {
            let c = self.vertex_coordinates(v);
            let shape = self.complex_shape();
            for a in 0..3 {
                if c[a] + 1 < shape[a] {
                    out.push(3 * v + a as u32);
                }
                if c[a] > 0 {
                    out.push(3 * (v - stride[a]) + a as u32);
                }
            }
        }
        out
    }
}

/// The four edges of square `3 * b + closed axis` on a vertex grid of strides `vertex_stride`, in the
/// order the H1 reduction of `cpu::volume` lists a boundary (before sorting), which the apparent
/// pairs' facet index (`shaders/apparent_pairs.wgsl` and its port) follows: along the second open axis at
/// `b` and one step along the first, then along the first open axis at `b` and one step along the
/// second.
pub fn square_facets(square: usize, vertex_stride: [usize; 3]) -> [usize; 4] {
    let (b, closed) = (square / 3, square % 3);
    let (i0, i1) = match closed {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    };
    [
        3 * b + i1,
        3 * (b + vertex_stride[i0]) + i1,
        3 * b + i0,
        3 * (b + vertex_stride[i1]) + i0,
    ]
}
