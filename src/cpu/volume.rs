//! The CPU backend's 3D pipeline: H0, H1 and H2 of the V or T cubical complex of a `D x H x W` volume.
//!
//! Cells live on the Khalimsky grid: a cell is a point of `Z^3` whose odd coordinates are its open
//! directions (its dimension is how many there are). In V the voxel `(z, y, x)` is the vertex
//! `(2z, 2y, 2x)`; in T it is the cube `(2z+1, 2y+1, 2x+1)`. Either way, a cell next to the voxel `p`
//! sits at an offset `o` in `{-1, 0, 1}^3` from it, and the voxels that decide when it enters are
//! `p + d` for every `d` with `d_i` in `{0, o_i}`: its vertices in V (it enters with the last of them),
//! the cubes that contain it in T (it enters with the first). So a cell *enters at* `p` exactly when
//! those voxels all come before `p` (V) or all after it (T), which one 27-bit mask per voxel answers.
//! The total order of cells is (entry voxel's rank, dimension, offset slot), the same in every pass.
//!
//! 1. **H0**, forward over the voxels: the vertices and edges entering at each voxel, union-find over
//!    vertices with the elder rule (roots are the oldest vertex). An edge that merges is *negative*.
//! 2. **H2**, backward: the cubes and squares, union-find over cubes plus one exterior cell (the
//!    oldest) on the dual graph, where a square joins the two cubes on either side of it. A square
//!    that merges is *positive* (it creates a void); the younger component's root cube kills it.
//! 3. **H1**, forward again: every square that is not positive kills a 1-cycle. Its column of the
//!    boundary matrix is reduced left to right (the standard algorithm), with two reductions that do
//!    not change the pairs: positive squares are left out (their columns reduce to zero: *clearing*)
//!    and negative edges are left out of every column (a negative edge is never the pivot of a reduced
//!    column, and deleting rows that are never pivots keeps every pivot: *compression*). Most columns
//!    find their pivot free at once; only the others are added to and stored.
//!
//! A pair's birth and death voxels are the entry voxels of its creating and killing cells, so the
//! voxel-level pairs do not depend on how cells entering at one voxel are ordered among themselves.
//! Pairs whose two voxels have the same value are dropped unless `keep_zero_persistence` is set, in
//! which case every cell-level pair is reported (in T this includes one H0 pair per vertex of the
//! complex, which has more vertices than voxels).

use super::ports::order_keys::order_keys;
use super::reference::{ranks_of, total_order};
use super::union_find::{find, Forest};
use crate::diagram::{PersistencePair, RawPair};
use crate::grid::square_facets;
use crate::layout::apparent_pairs::APPARENT;
use crate::options::{Construction, Options};
use crate::{Error, Result};

/// No cell / no owner yet.
const NONE: u32 = u32::MAX;
/// Position of an edge that is negative in H0 (left out of H1's columns).
const NEGATIVE: u32 = u32::MAX - 1;
/// The slot of the voxel itself among the 27 offsets.
const CENTRE: usize = 13;

/// The offset of slot `s`: `s = (oz+1)*9 + (oy+1)*3 + (ox+1)`.
const fn offset(s: usize) -> [i64; 3] {
    [
        (s / 9) as i64 - 1,
        ((s / 3) % 3) as i64 - 1,
        (s % 3) as i64 - 1,
    ]
}

/// The voxels (as a mask of slots) that decide when the cell at slot `s` enters, the voxel itself
/// left out.
const fn deciding_voxels(s: usize) -> u32 {
    let o = offset(s);
    let mut mask = 0u32;
    let mut d = 0;
    while d < 27 {
        let e = offset(d);
        let mut inside = d != CENTRE;
        let mut i = 0;
        while i < 3 {
            if e[i] != 0 && e[i] != o[i] {
                inside = false;
            }
            i += 1;
        }
        if inside {
            mask |= 1 << d;
        }
        d += 1;
    }
    mask
}

/// Per construction: which slots hold cells of each dimension (in slot order), and where each cell
/// sits on the vertex grid.
struct Tables {
    /// `slots[k]`: the slots of `k`-cells, ascending.
    slots: [Vec<usize>; 4],
    /// `deciding[s]`: [`deciding_voxels`] of slot `s`.
    deciding: [u32; 27],
    /// `lower[s][i]`: how the cell's base vertex (its Khalimsky coordinates halved, rounded down)
    /// differs from the voxel's vertex along axis `i` (V: -1 where `o_i = -1`; T: +1 where `o_i = 1`).
    lower: [[i64; 3]; 27],
    /// `axis[s]`: for an edge its open axis, for a square its closed axis.
    axis: [usize; 27],
}

impl Tables {
    fn new(construction: Construction) -> Self {
        let t = construction == Construction::T;
        let mut slots: [Vec<usize>; 4] = Default::default();
        let mut deciding = [0u32; 27];
        let mut lower = [[0i64; 3]; 27];
        let mut axis = [0usize; 27];
        for s in 0..27 {
            let o = offset(s);
            let moving = o.iter().filter(|&&v| v != 0).count();
            // V: the open axes are those the offset moves along; T: those it does not
            let dim = if t { 3 - moving } else { moving };
            slots[dim].push(s);
            deciding[s] = deciding_voxels(s);
            for i in 0..3 {
                lower[s][i] = if t { o[i].max(0) } else { o[i].min(0) };
            }
            let open = |i: usize| (o[i] != 0) != t;
            axis[s] = match dim {
                1 => (0..3).find(|&i| open(i)).unwrap_or(0),
                2 => (0..3).find(|&i| !open(i)).unwrap_or(0),
                _ => 0,
            };
        }
        Self {
            slots,
            deciding,
            lower,
            axis,
        }
    }
}

/// A validated volume and its filtration order.
struct Volume {
    /// Voxels in filtration order.
    order: Vec<u32>,
    /// Per rank: bit `s` set when the cell at slot `s` (if it exists) may enter at the voxel of that
    /// rank: the deciding voxel at `s` comes before it (V) or after it or outside the volume (T).
    /// Bit 13 is always set. Kept in rank order so that the sweeps read it sequentially.
    allowed: Vec<u32>,
    /// Per rank: the voxel's vertex-grid index.
    vertex: Vec<u32>,
    /// Vertex grid: V `D x H x W`, T `(D+1) x (H+1) x (W+1)`; every cell is named by its base vertex.
    vertex_shape: [usize; 3],
    vertex_stride: [usize; 3],
    /// Cube grid: V `(D-1) x (H-1) x (W-1)`, T `D x H x W` (sizes per axis).
    cube_shape: [usize; 3],
}

impl Volume {
    fn new(values: &[f32], shape: [usize; 3], options: &Options) -> Result<Self> {
        let [d, h, w] = shape;
        let t = options.construction == Construction::T;
        let vertex_shape = if t { [d + 1, h + 1, w + 1] } else { [d, h, w] };
        let vertices = vertex_shape.iter().product::<usize>();
        // edges and squares are numbered 3 * vertex + axis; H1 tags reduced columns with bit 31, so
        // every such number stays below 2^31 (V always does; a thin T volume may not)
        if vertices.saturating_mul(3) >= 1 << 31 {
            return Err(Error::TooLarge {
                what: "edges of the volume's T complex (3 per vertex)",
                value: vertices as u64 * 3,
                limit: (1u64 << 31) - 1,
            });
        }
        let cube_shape = if t { [d, h, w] } else { [d - 1, h - 1, w - 1] };
        let keys = order_keys(values, options.is_superlevel());
        let order = total_order(&keys);
        drop(keys);
        let rank = ranks_of(&order);
        let by_voxel = allowed_masks(&rank, shape, t);
        drop(rank);
        let vertex_stride = [vertex_shape[1] * vertex_shape[2], vertex_shape[2], 1];
        let allowed = order.iter().map(|&p| by_voxel[p as usize]).collect();
        drop(by_voxel);
        let vertex = order
            .iter()
            .map(|&p| vertex_index(p as usize, [h, w], vertex_stride) as u32)
            .collect();
        Ok(Self {
            order,
            allowed,
            vertex,
            vertex_shape,
            vertex_stride,
            cube_shape,
        })
    }

    fn vertices(&self) -> usize {
        self.vertex_shape.iter().product()
    }

    /// The voxel of rank `r`: its star mask and vertex-grid index.
    #[inline]
    fn voxel(&self, r: usize) -> (u32, usize) {
        (self.allowed[r], self.vertex[r] as usize)
    }

    /// Coordinates of a vertex-grid index.
    #[inline]
    fn coordinates(&self, v: usize) -> [usize; 3] {
        let [sz, sy, _] = self.vertex_stride;
        [v / sz, (v / sy) % self.vertex_shape[1], v % sy]
    }

    /// Base vertex of the cell at slot `s` next to the voxel with vertex index `v`.
    #[inline]
    fn base(&self, tables: &Tables, v: usize, s: usize) -> usize {
        let l = tables.lower[s];
        (v as i64
            + l[0] * self.vertex_stride[0] as i64
            + l[1] * self.vertex_stride[1] as i64
            + l[2]) as usize
    }
}

/// The vertex-grid index of voxel `p` of a `D x H x W` volume (`[h, w]` its rows and columns).
#[inline]
fn vertex_index(p: usize, [h, w]: [usize; 2], vertex_stride: [usize; 3]) -> usize {
    let c = [p / (h * w), (p / w) % h, p % w];
    c[0] * vertex_stride[0] + c[1] * vertex_stride[1] + c[2]
}

/// [`Volume::allowed`] for every voxel, from the ranks.
fn allowed_masks(rank: &[u32], [d, h, w]: [usize; 3], t: bool) -> Vec<u32> {
    // ranks padded by one voxel of `u32::MAX` on every side: outside never comes before anything
    let (pd, ph, pw) = (d + 2, h + 2, w + 2);
    let mut padded = vec![u32::MAX; pd * ph * pw];
    for z in 0..d {
        for y in 0..h {
            let row = ((z + 1) * ph + y + 1) * pw + 1;
            padded[row..row + w].copy_from_slice(&rank[(z * h + y) * w..(z * h + y + 1) * w]);
        }
    }
    let step: [isize; 27] = std::array::from_fn(|s| {
        let o = offset(s);
        (o[0] * (ph * pw) as i64 + o[1] * pw as i64 + o[2]) as isize
    });
    let all = (1u32 << 27) - 1;
    let mut allowed = Vec::with_capacity(d * h * w);
    for z in 0..d {
        for y in 0..h {
            let row = ((z + 1) * ph + y + 1) * pw + 1;
            for x in 0..w {
                let q = row + x;
                let r = padded[q];
                let mut before = 0u32;
                for (s, &st) in step.iter().enumerate() {
                    let n = padded[(q as isize + st) as usize];
                    before |= ((n < r) as u32) << s;
                }
                allowed.push(if t {
                    !before & all
                } else {
                    before | 1 << CENTRE
                });
            }
        }
    }
    allowed
}

/// Union-find with the elder rule: roots are the oldest node of their component. A node's parent,
/// age and entry rank share one 16-byte record, so a find that reaches a root has its age at hand.
struct ElderForest {
    /// `[parent, age, entry rank, unused]` per node.
    nodes: Vec<[u32; 4]>,
}

impl Forest for ElderForest {
    #[inline(always)]
    fn parent(&self, v: u32) -> u32 {
        self.nodes[v as usize][0]
    }
    #[inline(always)]
    fn set_parent(&mut self, v: u32, parent: u32) {
        self.nodes[v as usize][0] = parent;
    }
}

impl ElderForest {
    fn new(len: usize) -> Self {
        Self {
            nodes: vec![[NONE, 0, 0, 0]; len],
        }
    }

    #[inline]
    fn add(&mut self, v: usize, age: u32, entry: u32) {
        self.nodes[v] = [v as u32, age, entry, 0];
    }

    /// Merges the components of `a` and `b`; returns the entry rank of the younger root, which
    /// dies, or `None` when they were one component.
    #[inline]
    fn union(&mut self, a: u32, b: u32) -> Option<u32> {
        let (ra, rb) = (find(self, a), find(self, b));
        if ra == rb {
            return None;
        }
        let (young, old) = if self.nodes[ra as usize][1] > self.nodes[rb as usize][1] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.nodes[young as usize][0] = old;
        Some(self.nodes[young as usize][2])
    }
}

/// How many ranks ahead the sweeps prefetch: a sweep in filtration order visits voxels all over the
/// volume, so without it each step waits for several cache misses one after the other.
const AHEAD: usize = 16;

/// Ask for the cache lines of `data` around vertex-grid index `v` (the 3x3 lines of its
/// neighbourhood in z and y, `per_vertex` elements per vertex).
#[inline]
fn prefetch_around<T>(data: &[T], vol: &Volume, v: usize, per_vertex: usize) {
    let [sz, sy, _] = vol.vertex_stride;
    for dz in [0, sz, sz.wrapping_neg()] {
        for dy in [0, sy, sy.wrapping_neg()] {
            let at = v.wrapping_add(dz).wrapping_add(dy).wrapping_mul(per_vertex);
            super::prefetch(data, at);
        }
    }
}

/// Voxel-level pairs `(birth rank, death rank)` of one dimension.
type RankPairs = Vec<(u32, u32)>;

/// H0: the forward sweep. Returns the pairs and, per edge (`3 * base + axis`), its position among
/// the edges that are not negative, or [`NEGATIVE`]; and the entry rank of each such position.
fn h0(vol: &Volume, tables: &Tables, keep_zero: bool) -> (RankPairs, Vec<u32>, Vec<u32>) {
    let nv = vol.vertices();
    // a vertex's age is its position in the order; its entry rank is the birth of its class
    let mut forest = ElderForest::new(nv);
    let mut edge_position = vec![NONE; 3 * nv];
    let mut position_rank = Vec::with_capacity(2 * vol.order.len());
    let mut pairs = Vec::new();
    let mut next_age = 0u32;
    let n = vol.order.len();
    for r in 0..n {
        if r + AHEAD < n {
            let ahead = vol.vertex[r + AHEAD] as usize;
            prefetch_around(&forest.nodes, vol, ahead, 1);
            prefetch_around(&edge_position, vol, ahead, 3);
        }
        let (allowed, v) = vol.voxel(r);
        for &s in &tables.slots[0] {
            if tables.deciding[s] & !allowed == 0 {
                forest.add(vol.base(tables, v, s), next_age, r as u32);
                next_age += 1;
            }
        }
        for &s in &tables.slots[1] {
            if tables.deciding[s] & !allowed != 0 {
                continue;
            }
            let b = vol.base(tables, v, s);
            let a = tables.axis[s];
            let e = 3 * b + a;
            match forest.union(b as u32, (b + vol.vertex_stride[a]) as u32) {
                None => {
                    edge_position[e] = position_rank.len() as u32;
                    position_rank.push(r as u32);
                }
                Some(birth) => {
                    edge_position[e] = NEGATIVE;
                    if keep_zero || birth != r as u32 {
                        pairs.push((birth, r as u32));
                    }
                }
            }
        }
    }
    (pairs, edge_position, position_rank)
}

/// One bit per square, in the order of the backward sweep, set for the positive ones.
struct SquareBits {
    words: Vec<u64>,
    len: usize,
}

/// H2: the backward sweep over cubes and squares. Returns the pairs and which squares are positive.
fn h2(vol: &Volume, tables: &Tables, keep_zero: bool) -> (RankPairs, SquareBits) {
    let nv = vol.vertices();
    let exterior = nv;
    // ages count cubes in backward order; the exterior is the oldest
    let mut forest = ElderForest::new(nv + 1);
    forest.add(exterior, 0, NONE);
    let mut positive: Vec<u64> = Vec::with_capacity((3 * vol.order.len()).div_ceil(64));
    let mut squares = 0usize;
    let mut pairs = Vec::new();
    let mut next_age = 1u32;
    for r in (0..vol.order.len()).rev() {
        if r >= AHEAD {
            prefetch_around(&forest.nodes, vol, vol.vertex[r - AHEAD] as usize, 1);
        }
        let (allowed, v) = vol.voxel(r);
        for &s in tables.slots[3].iter().rev() {
            if tables.deciding[s] & !allowed == 0 {
                forest.add(vol.base(tables, v, s), next_age, r as u32);
                next_age += 1;
            }
        }
        for &s in tables.slots[2].iter().rev() {
            if tables.deciding[s] & !allowed != 0 {
                continue;
            }
            let b = vol.base(tables, v, s);
            let a = tables.axis[s];
            // the cubes on either side along the closed axis, or the exterior past the border
            let along = vol.coordinates(v)[a] as i64 + tables.lower[s][a];
            let below = if along >= 1 {
                b - vol.vertex_stride[a]
            } else {
                exterior
            };
            let above = if (along as usize) < vol.cube_shape[a] {
                b
            } else {
                exterior
            };
            if squares.is_multiple_of(64) {
                positive.push(0);
            }
            let merged = forest.union(below as u32, above as u32);
            if let Some(death) = merged {
                positive[squares / 64] |= 1 << (squares % 64);
                if keep_zero || death != r as u32 {
                    pairs.push((r as u32, death));
                }
            }
            squares += 1;
        }
    }
    let positive = SquareBits {
        words: positive,
        len: squares,
    };
    (pairs, positive)
}

/// H1: reduction of the columns of the negative squares, in forward order, over the rows of the
/// edges that are not negative. `positive` is [`h2`]'s bit per square, read backward. A square
/// that `apparent` marks takes its youngest facet as pivot without building its column.
fn h1(
    vol: &Volume,
    tables: &Tables,
    keep_zero: bool,
    edge_position: &[u32],
    position_rank: &[u32],
    positive: &SquareBits,
    apparent: Option<&[u32]>,
) -> Result<RankPairs> {
    // the owner of each pivot: the square whose reduced column ends there
    let mut owner = vec![NONE; position_rank.len()];
    // reduced columns that differ from their boundary: (square, start, length) in `stored`
    let mut reduced: Vec<(usize, usize)> = Vec::new();
    let mut stored: Vec<u32> = Vec::new();
    let mut column: Vec<u32> = Vec::with_capacity(64);
    let mut other: Vec<u32> = Vec::with_capacity(64);
    let mut sum: Vec<u32> = Vec::with_capacity(64);
    let mut pairs = Vec::new();
    let mut squares = positive.len;
    let boundary = |square: usize, out: &mut Vec<u32>| {
        let (b, closed) = (square / 3, square % 3);
        out.clear();
        for i in 0..3 {
            if i == closed {
                continue;
            }
            // the open axis `i` ends in two edges along the other open axis
            let j = 3 - closed - i;
            for e in [3 * b + j, 3 * (b + vol.vertex_stride[i]) + j] {
                let position = edge_position[e];
                if position != NEGATIVE {
                    out.push(position);
                }
            }
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
    };
    let n = vol.order.len();
    for r in 0..n {
        if r + AHEAD < n {
            prefetch_around(edge_position, vol, vol.vertex[r + AHEAD] as usize, 3);
        }
        let (allowed, v) = vol.voxel(r);
        for &s in &tables.slots[2] {
            if tables.deciding[s] & !allowed != 0 {
                continue;
            }
            let square = 3 * vol.base(tables, v, s) + tables.axis[s];
            squares -= 1;
            if positive.words[squares / 64] >> (squares % 64) & 1 == 1 {
                continue;
            }
            let nibble = apparent.map_or(0, |a| a[square / 8] >> (4 * (square % 8)) & 0xf);
            if nibble & APPARENT != 0 {
                // its youngest facet is its pivot, and no older square has claimed it
                let facet = square_facets(square, vol.vertex_stride)[(nibble & 3) as usize];
                let position = edge_position[facet];
                if position >= NEGATIVE || owner[position as usize] != NONE {
                    return Err(Error::Internal(format!(
                        "square {square} is marked apparent but its facet is not free"
                    )));
                }
                owner[position as usize] = square as u32;
                let birth = position_rank[position as usize];
                if keep_zero || birth != r as u32 {
                    pairs.push((birth, r as u32));
                }
                continue;
            }
            boundary(square, &mut column);
            let mut added = false;
            while let Some(&pivot) = column.first() {
                let o = owner[pivot as usize];
                if o == NONE {
                    break;
                }
                if o & (1 << 31) != 0 {
                    let (start, end) = reduced[(o & !(1 << 31)) as usize];
                    let owned = &stored[start..end];
                    symmetric_difference(&column, owned, &mut sum);
                } else {
                    boundary(o as usize, &mut other);
                    symmetric_difference(&column, &other, &mut sum);
                }
                std::mem::swap(&mut column, &mut sum);
                added = true;
            }
            // a square that is not positive kills a class: its reduced column is never empty
            let Some(&pivot) = column.first() else {
                return Err(Error::Internal(format!(
                    "a negative square ({square}) reduced to zero in H1"
                )));
            };
            owner[pivot as usize] = if added {
                reduced.push((stored.len(), stored.len() + column.len()));
                stored.extend_from_slice(&column);
                (reduced.len() - 1) as u32 | 1 << 31
            } else {
                square as u32
            };
            let birth = position_rank[pivot as usize];
            if keep_zero || birth != r as u32 {
                pairs.push((birth, r as u32));
            }
        }
    }
    Ok(pairs)
}

/// `a + b` over Z/2 of two columns sorted descending, into `out` (sorted descending).
fn symmetric_difference(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Greater => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Less => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// The tables and the ranked volume both pipelines start from, or `None` for an empty volume.
fn prepare(
    values: &[f32],
    shape: [usize; 3],
    options: &Options,
) -> Result<Option<(Tables, Volume)>> {
    check_shape(values, shape, options)?;
    if values.is_empty() {
        return Ok(None);
    }
    Ok(Some((
        Tables::new(options.construction),
        Volume::new(values, shape, options)?,
    )))
}

/// A volume's construction and shape, before anything is computed.
fn check_shape(values: &[f32], shape: [usize; 3], options: &Options) -> Result<()> {
    if options.construction == Construction::Freudenthal {
        return Err(Error::InvalidArgument(
            "the Freudenthal construction is 2D only; use V or T for volumes".into(),
        ));
    }
    if values.len() != shape.iter().product::<usize>() {
        return Err(Error::ShapeMismatch {
            len: values.len(),
            shape: shape.to_vec(),
            expected: shape.iter().product(),
        });
    }
    Ok(())
}

/// Pairs of one volume (values already validated: no NaN, no `-0.0`), per dimension 0, 1, 2, in the
/// order of the contract (`docs/conventions.md`, section 3), H0's essential class last.
pub fn persistence_pairs(
    values: &[f32],
    shape: [usize; 3],
    options: &Options,
) -> Result<Vec<Vec<PersistencePair>>> {
    let Some((tables, vol)) = prepare(values, shape, options)? else {
        return Ok(vec![Vec::new(); 3]);
    };
    let keep_zero = options.keep_zero_persistence;
    // the two union-find sweeps are independent: on two threads when there are two and enough work
    let ((h0, edge_position, position_rank), (h2, positive)) = super::join(
        vol.order.len() > 1 << 16,
        || h0(&vol, &tables, keep_zero),
        || h2(&vol, &tables, keep_zero),
    );
    let h1 = h1(
        &vol,
        &tables,
        keep_zero,
        &edge_position,
        &position_rank,
        &positive,
        None,
    )?;
    Ok(assemble(values, &vol, options, [h0, h1, h2]))
}

/// What the GPU pairing of a volume hands to [`persistence_pairs_from_merges`].
#[derive(Debug, Clone, Copy)]
pub struct Merges<'a> {
    /// Raw pairs of the H0 graph, every merge (zero persistence too); essential records are skipped.
    pub primal: &'a [RawPair],
    /// Raw pairs of the H2 graph, likewise.
    pub dual: &'a [RawPair],
    /// H1's apparent pairs (`cpu::ports::apparent_pairs`), when known: their columns are not built.
    pub apparent: Option<&'a [u32]>,
}

/// Pairs of one volume from the merges of its H0 and H2 graphs ([`crate::grid::GraphKind::of_volume`]),
/// every merge included (zero persistence too), as the GPU pairing computes them: the H0 and H2
/// pairs are theirs, and H1 is reduced here with their cells (negative edges, positive squares)
/// left out, and the apparent pairs taken as they are.
pub fn persistence_pairs_from_merges(
    values: &[f32],
    shape: [usize; 3],
    options: &Options,
    merges: Merges<'_>,
) -> Result<Vec<Vec<PersistencePair>>> {
    let Merges {
        primal,
        dual,
        apparent,
    } = merges;
    let Some((tables, vol)) = prepare(values, shape, options)? else {
        return Ok(vec![Vec::new(); 3]);
    };
    let keep_zero = options.keep_zero_persistence;
    let [_, h, w] = shape;
    let cells = 3 * vol.vertices();
    // the cell of each merge: named by the voxel it enters at and its slot
    let mark = |merges: &[RawPair], dim: usize, at_death: bool| -> Result<(Vec<u64>, RankPairs)> {
        let mut bits = vec![0u64; cells.div_ceil(64)];
        let mut pairs = Vec::with_capacity(merges.len());
        for m in merges.iter().filter(|m| m.order != u64::MAX) {
            let (birth, death) = ((m.order & 0xffff_ffff) as u32, (m.order >> 32) as u32);
            let p = if at_death {
                m.death_index
            } else {
                m.birth_index
            } as usize;
            let s = m.cell_slot as usize;
            let n = values.len();
            if p >= n
                || birth as usize >= n
                || death as usize >= n
                || !tables.slots[dim].contains(&s)
            {
                return Err(Error::Internal(format!(
                    "a merge names no {dim}-cell (voxel {p}, slot {s})"
                )));
            }
            let v = vertex_index(p, [h, w], vol.vertex_stride);
            let cell = 3 * vol.base(&tables, v, s) + tables.axis[s];
            bits[cell / 64] |= 1 << (cell % 64);
            if keep_zero || birth != death {
                pairs.push((birth, death));
            }
        }
        Ok((bits, pairs))
    };
    let (negative, h0) = mark(primal, 1, true)?;
    let (positive, h2) = mark(dual, 2, false)?;
    let is_set = |bits: &[u64], cell: usize| bits[cell / 64] >> (cell % 64) & 1 == 1;
    // the rows of H1: the edges that are not negative, numbered in the forward order
    let mut edge_position = vec![NONE; cells];
    let mut position_rank = Vec::with_capacity(2 * vol.order.len());
    for r in 0..vol.order.len() {
        let (allowed, v) = vol.voxel(r);
        for &s in &tables.slots[1] {
            if tables.deciding[s] & !allowed == 0 {
                let e = 3 * vol.base(&tables, v, s) + tables.axis[s];
                edge_position[e] = if is_set(&negative, e) {
                    NEGATIVE
                } else {
                    position_rank.push(r as u32);
                    (position_rank.len() - 1) as u32
                };
            }
        }
    }
    // the positive squares, one bit per square in the backward order (as `h2` gives them)
    let mut words: Vec<u64> = Vec::with_capacity((3 * vol.order.len()).div_ceil(64));
    let mut len = 0usize;
    for r in (0..vol.order.len()).rev() {
        let (allowed, v) = vol.voxel(r);
        for &s in tables.slots[2].iter().rev() {
            if tables.deciding[s] & !allowed == 0 {
                if len.is_multiple_of(64) {
                    words.push(0);
                }
                let square = 3 * vol.base(&tables, v, s) + tables.axis[s];
                words[len / 64] |= (is_set(&positive, square) as u64) << (len % 64);
                len += 1;
            }
        }
    }
    let positive = SquareBits { words, len };
    if apparent.is_some_and(|a| a.len() < cells.div_ceil(8)) {
        return Err(Error::Internal(format!(
            "{} apparent-pair words for {cells} squares",
            apparent.map_or(0, |a| a.len())
        )));
    }
    let h1 = h1(
        &vol,
        &tables,
        keep_zero,
        &edge_position,
        &position_rank,
        &positive,
        apparent,
    )?;
    Ok(assemble(values, &vol, options, [h0, h1, h2]))
}

/// The diagram from the voxel-level pairs of each dimension: values attached, ordered as the
/// contract says, zero persistence dropped unless kept, H0's essential class last.
fn assemble(
    values: &[f32],
    vol: &Volume,
    options: &Options,
    dims: [RankPairs; 3],
) -> Vec<Vec<PersistencePair>> {
    let keep_zero = options.keep_zero_persistence;
    let superlevel = options.is_superlevel();
    let order = &vol.order;
    let pair = |&(birth, death): &(u32, u32)| {
        let (b, d) = (
            order[birth as usize] as usize,
            order[death as usize] as usize,
        );
        PersistencePair {
            birth: values[b],
            death: values[d],
            birth_index: b,
            death_index: Some(d),
        }
    };
    let mut out = Vec::with_capacity(3);
    for mut pairs in dims {
        // by death rank, then birth rank; drop equal values unless asked to keep them
        pairs.sort_unstable_by_key(|&(b, d)| ((d as u64) << 32) | b as u64);
        out.push(
            pairs
                .iter()
                .map(pair)
                .filter(|p| keep_zero || p.birth != p.death)
                .collect::<Vec<_>>(),
        );
    }
    let first_voxel = order[0] as usize;
    out[0].push(PersistencePair::essential(
        values[first_voxel],
        first_voxel,
        superlevel,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_count_the_cells_of_a_star() {
        for (construction, counts) in [
            (Construction::V, [1, 6, 12, 8]),
            (Construction::T, [8, 12, 6, 1]),
        ] {
            let t = Tables::new(construction);
            let got: Vec<usize> = t.slots.iter().map(Vec::len).collect();
            assert_eq!(got, counts);
        }
        // an edge is decided by one other voxel, a square by 3, a cube by 7
        assert_eq!(deciding_voxels(CENTRE + 1).count_ones(), 1);
        assert_eq!(deciding_voxels(CENTRE + 4).count_ones(), 3);
        assert_eq!(deciding_voxels(26).count_ones(), 7);
    }

    #[test]
    fn a_hollow_cube_has_one_void() {
        // 3x3x3 of ones with a zero in the middle, superlevel: one component, one void
        let mut v = vec![1.0f32; 27];
        v[13] = 0.0;
        for construction in [Construction::V, Construction::T] {
            let d =
                persistence_pairs(&v, [3, 3, 3], &Options::new(construction).superlevel()).unwrap();
            assert_eq!(d[0].len(), 1, "{construction:?}");
            assert_eq!(d[1].len(), 0, "{construction:?}");
            assert_eq!(d[2].len(), 1, "{construction:?}");
            assert_eq!((d[2][0].birth, d[2][0].death), (1.0, 0.0));
            assert_eq!(d[2][0].death_index, Some(13));
        }
    }
}
