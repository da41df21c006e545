//! The CPU backend's 2D pipeline: elder-rule pairing of *critical pixels* only.
//!
//! Both dimensions of a 2D diagram are the 0-dimensional persistence of a pixel graph (see
//! [`crate::grid`]): H0 of the pixels in filtration order with the primal connectivity (V: 4, T: 8,
//! Freudenthal: 6), H1 of the pixels in *reverse* order with the dual connectivity (V: 8, T: 4,
//! Freudenthal: 6) plus one exterior cell next to every border pixel, which is the oldest. In either
//! sweep a pixel only matters when it merges components, and whether it can is decided by its 3x3
//! neighbourhood alone: the neighbours that come before it split, along the ring of its 8 neighbours,
//! into runs that are connected through those neighbours. A pixel whose preceding neighbours form one
//! run joins one component and pairs nothing; a pixel with none starts a component; only a pixel with
//! two runs or more (a *saddle*) can merge. So:
//!
//! 1. one streaming pass over the image computes, for every pixel, the bit mask of its 8 neighbours
//!    that precede it, and lists the saddles (about a quarter of the pixels on noise, 0.5% on smooth
//!    images). They are the same pixels in both sweeps: the two connectivities are dual, and a pixel
//!    with two runs of preceding neighbours or more in one has as many runs of following ones in the
//!    other;
//! 2. each run of a saddle gets the component (a minimum) it descends to: where saddles are dense,
//!    one raster pass labels most pixels and the rest are walked down on demand; where they are
//!    sparse, only the runs' neighbours are walked, several walks interleaved; walks label the pixels
//!    they pass;
//! 3. only the saddles are sorted (an LSD radix sort), once for both sweeps; each sweep gathers its
//!    merges in that order (backwards in the reverse sweep) and applies them with a union-find over
//!    minima. On one thread the sweeps run one after the other, and the second skips the saddles
//!    that closed no cycle in the first: by duality a saddle merges in one sweep as many components
//!    as it closes cycles in the other.
//!
//! Nothing is allocated per pixel or per pair beyond flat arrays, and there is no global sort. The
//! output equals the reference pipeline ([`super::raw_pairs`] + [`crate::diagram::assemble`]) with
//! zero-persistence pairs dropped, indices and order included; `tests/cpu_algorithms.rs` checks it.

use super::ports::order_keys::order_key;
use super::union_find::find;
use crate::diagram::PersistencePair;
use crate::options::{Construction, Options};
use std::cell::RefCell;
use std::sync::OnceLock;
use std::thread::LocalKey;

/// Neighbour directions around a pixel, in ring order: N, NE, E, SE, S, SW, W, NW.
const RING: [(isize, isize); 8] = [
    (-1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
    (1, 0),
    (1, -1),
    (0, -1),
    (-1, -1),
];

/// Rank of each ring position when a step or a run's representative is chosen: raster-earlier
/// neighbours first (N, NW, NE, W, then E, SW, S, SE), which saddles met earlier in raster order have
/// most likely labelled already.
const PREFERENCE: [u8; 8] = [0, 2, 4, 7, 6, 5, 3, 1];

/// Label of a pixel whose component has not been looked up yet.
const UNSET: u32 = 0;
/// Label (union-find id) of the exterior cell of the H1 sweep.
const EXTERIOR: u32 = 1;
/// `RingTable::step` entry of a pixel with no preceding neighbour: it starts a component.
const NO_STEP: u8 = 8;

/// Pixel connectivity of one sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Connectivity {
    Four,
    Six,
    Eight,
}

impl Connectivity {
    /// Whether the pixel at offset `(dy, dx)` is a neighbour (Freudenthal: `(y, x)` joins
    /// `(y+1, x+1)` and `(y-1, x-1)`, the SE and NW diagonals).
    fn joins(self, dy: isize, dx: isize) -> bool {
        match self {
            Connectivity::Four => dy.abs() + dx.abs() == 1,
            Connectivity::Six => dy.abs() + dx.abs() == 1 || (dy == dx && dy.abs() == 1),
            Connectivity::Eight => dy.abs().max(dx.abs()) == 1,
        }
    }
    /// Whether ring position `p` is a neighbour of the centre.
    fn member(self, p: usize) -> bool {
        self.joins(RING[p].0, RING[p].1)
    }
    /// Whether two ring positions are neighbours of each other in this connectivity (preceding
    /// pixels at both are then in one component already).
    fn adjacent(self, a: usize, b: usize) -> bool {
        self.joins(RING[b].0 - RING[a].0, RING[b].1 - RING[a].1)
    }
    fn table(self) -> &'static RingTable {
        static TABLES: OnceLock<[RingTable; 3]> = OnceLock::new();
        let tables = TABLES.get_or_init(|| {
            [
                RingTable::new(Connectivity::Four),
                RingTable::new(Connectivity::Six),
                RingTable::new(Connectivity::Eight),
            ]
        });
        &tables[self as usize]
    }
}

/// What a pixel's mask of preceding neighbours says, for one connectivity.
struct RingTable {
    /// Number of runs of preceding neighbours that contain a neighbour (0-4).
    runs: [u8; 256],
    /// One neighbour (ring position) of each such run.
    reps: [[u8; 4]; 256],
    /// A preceding neighbour to step to, raster-earlier ones first, or [`NO_STEP`].
    step: [u8; 256],
    /// The preceding neighbour nearest the middle of the longest run of preceding ring positions
    /// (on a smooth image, about the steepest way down), or [`NO_STEP`]: what walks step to.
    descent: [u8; 256],
}

impl RingTable {
    fn new(conn: Connectivity) -> Self {
        let mut table = RingTable {
            runs: [0; 256],
            reps: [[0; 4]; 256],
            step: [NO_STEP; 256],
            descent: [NO_STEP; 256],
        };
        for mask in 0..256usize {
            let set = |pos: usize| mask >> pos & 1 == 1;
            if let Some(first) = (0..8)
                .filter(|&p| conn.member(p) && set(p))
                .min_by_key(|&p| PREFERENCE[p])
            {
                table.step[mask] = first as u8;
                table.descent[mask] = middle_of_longest_run(mask as u8, conn);
            }
            // components of the preceding ring positions, linked where they are neighbours of each
            // other (any ring position links: a preceding corner joins two side neighbours in 4- and
            // 6-connectivity); only components that hold a neighbour of the pixel count
            let mut component = [usize::MAX; 8];
            let mut count = 0usize;
            for start in 0..8 {
                if !set(start) || component[start] != usize::MAX {
                    continue;
                }
                let mut stack = vec![start];
                component[start] = start;
                let mut rep: Option<usize> = None;
                while let Some(a) = stack.pop() {
                    if conn.member(a) && rep.is_none_or(|r| PREFERENCE[a] < PREFERENCE[r]) {
                        rep = Some(a);
                    }
                    for (b, slot) in component.iter_mut().enumerate() {
                        if set(b) && *slot == usize::MAX && conn.adjacent(a, b) {
                            *slot = start;
                            stack.push(b);
                        }
                    }
                }
                if let Some(r) = rep {
                    table.reps[mask][count] = r as u8;
                    count += 1;
                }
            }
            table.runs[mask] = count as u8;
        }
        table
    }
}

/// The neighbour (ring position) of `conn` set in `mask` that is nearest the middle of the longest
/// cyclic run of set ring positions (ties: the first such run, then the lower position). The caller
/// makes sure that some neighbour is set.
fn middle_of_longest_run(mask: u8, conn: Connectivity) -> u8 {
    let set = |pos: usize| mask >> (pos % 8) & 1 == 1;
    // (length, start) of the longest run; a full ring is one run from N
    let mut best = (0usize, 0usize);
    for start in 0..8 {
        if !set(start) || (set(start + 7) && mask != 0xff) {
            continue;
        }
        let length = (0..8).take_while(|&i| set(start + i)).count();
        if length > best.0 {
            best = (length, start);
        }
    }
    // in half steps around the ring
    let middle = 2 * best.1 + best.0 - 1;
    let distance = |pos: usize| {
        let d = (2 * pos + 16 - middle % 16) % 16;
        d.min(16 - d)
    };
    (0..8)
        .filter(|&p| conn.member(p) && set(p))
        .min_by_key(|&p| distance(p))
        .unwrap_or(NO_STEP as usize) as u8
}

/// `if choose { a } else { b }` written with masks, so that no branch is asked for (for choices
/// that go either way at random).
#[inline(always)]
fn select(choose: bool, a: u32, b: u32) -> u32 {
    let all = 0u32.wrapping_sub(choose as u32);
    (a & all) | (b & !all)
}

/// The value whose order key is `key` (the inverse of [`order_key`]; `-0.0` never comes back).
#[inline]
fn key_value(key: u32, superlevel: bool) -> f32 {
    let bits = if key & 0x8000_0000 != 0 {
        key & 0x7fff_ffff
    } else {
        !key
    };
    let x = f32::from_bits(bits);
    if superlevel {
        0.0 - x
    } else {
        x
    }
}

/// Buffers of one image, kept per thread between calls: allocating and faulting in tens of MB per
/// call cost about a tenth of the time on 1024x1024 noise.
#[derive(Default)]
struct ImageBuffers {
    keys: Vec<u32>,
    masks: Vec<u8>,
    saddles: Vec<u32>,
    order: Vec<u64>,
    order_scratch: Vec<u64>,
    cycles: Vec<u64>,
}

/// Buffers of one sweep, kept per thread between calls (with the other sweep's: the calling
/// thread owns both, whichever threads run the sweeps).
#[derive(Default)]
struct SweepBuffers {
    label: Vec<u32>,
    parent: Vec<u32>,
    age: Vec<u64>,
    components: Vec<[u32; 4]>,
    merges: Vec<Merge>,
    pairs: Vec<(u64, u64)>,
    pair_scratch: Vec<(u64, u64)>,
    pending: Vec<u32>,
    kept: Vec<u64>,
}

/// Descents walked at a time by [`Sweep::walk_pending`].
const LANES: usize = 8;

/// How many saddles ahead [`Sweep::list_merges`] asks for their records.
const GATHER_AHEAD: usize = 32;

/// How many merges ahead [`Sweep::run`] asks for the union-find records.
const PREFETCH_AHEAD: usize = 8;

/// Most bits of one radix-sort pass: 14 where there are hundreds of thousands of items (the keys of
/// the uniform noise of the benchmarks span 28 bits: 2 passes), fewer for fewer items (a pass costs
/// its buckets too).
const RADIX_BITS: u32 = 14;

/// Buffers for images of more padded cells than this are not kept (they would hold hundreds of MB).
const KEEP_BUFFERS_UP_TO: usize = 1 << 22;

thread_local! {
    static IMAGE_BUFFERS: RefCell<ImageBuffers> = RefCell::default();
    static SWEEP_BUFFERS: RefCell<[SweepBuffers; 2]> = RefCell::default();
}

/// Pixels from which the labels of both sweeps are laid out on a second thread while the first
/// prepares the image: in a fresh process that is most of the pages the sweeps fault in, moved off
/// the critical path (a `rayon::join` costs microseconds; below this it is not worth them).
const AHEAD_PIXELS: usize = 1 << 16;

impl SweepBuffers {
    /// Every label [`UNSET`], but the pad cells of the reverse sweep: [`EXTERIOR`].
    fn lay_out_labels(&mut self, stride: usize, height: usize, reverse: bool) {
        let label = &mut self.label;
        label.clear();
        label.resize((height + 2) * stride, UNSET);
        if reverse {
            let s = stride;
            label[..s].fill(EXTERIOR);
            label[(height + 1) * s..].fill(EXTERIOR);
            for y in 1..=height {
                label[y * s] = EXTERIOR;
                label[y * s + s - 1] = EXTERIOR;
            }
        }
    }

    /// Room for the components of `saddles` saddles, faulted in ahead of [`Sweep::list_components`].
    fn make_room_for(&mut self, saddles: usize) {
        make_room_for_components(&mut self.components, saddles);
    }
}

/// Grows `components` to at least `saddles` records. Every record is written before it is read,
/// so their values do not matter and the buffer only grows.
fn make_room_for_components(components: &mut Vec<[u32; 4]>, saddles: usize) {
    if components.len() < saddles {
        components.resize(saddles, [UNSET; 4]);
    }
}

/// This thread's kept buffers (empty ones when none are kept, or when they are in use).
fn take_buffers<T: Default>(key: &'static LocalKey<RefCell<T>>) -> T {
    key.with(|cell| {
        cell.try_borrow_mut()
            .map(|mut kept| std::mem::take(&mut *kept))
            .unwrap_or_default()
    })
}

/// Keeps `buffers` for this thread's next call, when they are for an image of at most
/// [`KEEP_BUFFERS_UP_TO`] cells.
fn keep_buffers<T>(key: &'static LocalKey<RefCell<T>>, buffers: T, cells: usize) {
    if cells <= KEEP_BUFFERS_UP_TO {
        key.with(|cell| {
            if let Ok(mut kept) = cell.try_borrow_mut() {
                *kept = buffers;
            }
        });
    }
}

/// The image padded by one cell of key `u32::MAX` on every side: in the forward sweep a pad cell never
/// precedes a pixel; in the reverse sweep it always does, and it is the exterior cell.
struct Padded {
    keys: Vec<u32>,
    /// Bit `i` set when ring neighbour `i` precedes the pixel in the forward order.
    masks: Vec<u8>,
    /// The saddles (padded indices, increasing): the same pixels in both sweeps (a pixel with two
    /// runs of preceding neighbours or more in one sweep has as many runs of following ones in the
    /// other).
    saddles: Vec<u32>,
    /// `(key << 32) | i` for every saddle `saddles[i]`, in the forward order ([`Self::sort_saddles`]).
    order: Vec<u64>,
    order_scratch: Vec<u64>,
    /// The forward sweep's marks by place in the list of saddles ([`Sweep::cycles`]); their buffer
    /// is kept with the image's (the marks by padded index are made per call).
    cycles: Vec<u64>,
    width: usize,
    height: usize,
    stride: usize,
    offsets: [isize; 8],
    /// `ceil(2^64 / stride)`: `p / stride` as a multiplication, exact for `p < 2^32`.
    stride_inverse: u128,
}

impl Padded {
    fn new(
        values: &[f32],
        height: usize,
        width: usize,
        superlevel: bool,
        buffers: ImageBuffers,
    ) -> Self {
        let stride = width + 2;
        let cells = (height + 2) * stride;
        let ImageBuffers {
            mut keys,
            mut masks,
            mut saddles,
            order,
            order_scratch,
            cycles,
        } = buffers;
        keys.clear();
        keys.reserve(cells);
        keys.resize(stride + 1, u32::MAX);
        for row in values.chunks_exact(width) {
            keys.extend(row.iter().map(|&v| order_key(v, superlevel)));
            keys.extend([u32::MAX; 2]);
        }
        keys.resize(cells, u32::MAX);
        masks.clear();
        masks.resize(cells, 0);
        saddles.clear();
        let offsets = RING.map(|(dy, dx)| dy * stride as isize + dx);
        Padded {
            keys,
            masks,
            saddles,
            order,
            order_scratch,
            cycles,
            width,
            height,
            stride,
            offsets,
            stride_inverse: (1u128 << 64) / stride as u128 + 1,
        }
    }

    /// `(key, padded index)`: the total order of `docs/conventions.md` (the padded index is monotone in the
    /// linear index).
    #[inline]
    fn order(&self, p: usize) -> u64 {
        ((self.keys[p] as u64) << 32) | p as u64
    }

    #[inline]
    fn linear_index(&self, p: u32) -> usize {
        let row = ((p as u128 * self.stride_inverse) >> 64) as usize;
        (row - 1) * self.width + (p as usize - row * self.stride) - 1
    }

    /// Fills `masks` and the saddle list; returns the first pixel of the order.
    fn masks_and_saddles(&mut self, primal: &RingTable) -> u32 {
        let mut class = [0u8; 256];
        for (m, c) in class.iter_mut().enumerate() {
            *c = (primal.runs[m] >= 2) as u8;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: this CPU has AVX2
            return unsafe { self.masks_and_saddles_avx2(&class) };
        }
        self.masks_and_saddles_with(&class)
    }

    /// [`Self::masks_and_saddles`] compiled for AVX2 (eight masks per instruction instead of four).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn masks_and_saddles_avx2(&mut self, class: &[u8; 256]) -> u32 {
        self.masks_and_saddles_with(class)
    }

    #[inline(always)]
    fn masks_and_saddles_with(&mut self, class: &[u8; 256]) -> u32 {
        let (s, n) = (self.stride, self.width);
        let mut saddles = std::mem::take(&mut self.saddles);
        // one row's saddles, appended to without branches: every pixel is written, the length grows
        // when it is a saddle
        let mut saddle_row = vec![0u32; n];
        let mut classes = vec![0u8; n];
        // the least key and the first row that holds it
        let (mut least, mut least_row) = (u32::MAX, 1);
        for y in 1..=self.height {
            let row = y * s;
            let mid = &self.keys[row..row + n + 2];
            let masks = &mut self.masks[row + 1..row + 1 + n];
            row_masks(
                &self.keys[row - s..row - s + n + 2],
                mid,
                &self.keys[row + s..row + s + n + 2],
                masks,
            );
            let row_least = mid[1..n + 1].iter().fold(u32::MAX, |a, &b| a.min(b));
            if row_least < least {
                (least, least_row) = (row_least, y);
            }
            for (c, &m) in classes.iter_mut().zip(masks.iter()) {
                *c = class[m as usize];
            }
            let mut len = 0;
            // most pixels of a smooth image are regular: skip eight at a time
            for (chunk, word) in classes.chunks(8).enumerate() {
                if word.len() == 8 && word.iter().fold(0, |a, &c| a | c) == 0 {
                    continue;
                }
                for (i, &c) in word.iter().enumerate() {
                    saddle_row[len] = (row + 1 + chunk * 8 + i) as u32;
                    len += c as usize;
                }
            }
            saddles.extend_from_slice(&saddle_row[..len]);
        }
        // the first pixel of the order: the first index holding the least key
        let row = least_row * s;
        let first = row
            + self.keys[row..row + s]
                .iter()
                .position(|&k| k == least)
                .unwrap_or(1);
        self.saddles = saddles;
        first as u32
    }

    /// Sorts the saddles in the forward order into `order` (one sort serves both sweeps: the
    /// reverse sweep reads it backwards). The radix sort is stable and the saddles are listed in
    /// increasing index, so ties in the key come out in increasing index, as the order has them.
    fn sort_saddles(&mut self) {
        let keys = &self.keys;
        self.order.clear();
        self.order.extend(
            self.saddles
                .iter()
                .enumerate()
                .map(|(i, &p)| (keys[p as usize] as u64) << 32 | i as u64),
        );
        radix_sort_by(&mut self.order, &mut self.order_scratch, 32, |&e| e);
    }

    fn into_buffers(self) -> ImageBuffers {
        ImageBuffers {
            keys: self.keys,
            masks: self.masks,
            saddles: self.saddles,
            order: self.order,
            order_scratch: self.order_scratch,
            cycles: self.cycles,
        }
    }
}

/// Masks of preceding neighbours of one row: `up`, `mid`, `down` are the padded rows above, at and
/// below it (`out.len() + 2` keys each). Written so that it vectorizes.
#[inline(always)]
fn row_masks(up: &[u32], mid: &[u32], down: &[u32], out: &mut [u8]) {
    let n = out.len();
    let (up, mid, down) = (&up[..n + 2], &mid[..n + 2], &down[..n + 2]);
    for (x, m) in out.iter_mut().enumerate() {
        let k = mid[x + 1];
        // raster-earlier neighbours precede on ties, raster-later ones do not
        *m = (up[x + 1] <= k) as u8
            | ((up[x + 2] <= k) as u8) << 1
            | ((mid[x + 2] < k) as u8) << 2
            | ((down[x + 2] < k) as u8) << 3
            | ((down[x + 1] < k) as u8) << 4
            | ((down[x] < k) as u8) << 5
            | ((mid[x] <= k) as u8) << 6
            | ((up[x] <= k) as u8) << 7;
    }
}

/// A merge at a saddle of one sweep: the saddle's place in the sweep's order and two components
/// (ids) that its runs of preceding neighbours descend to.
#[derive(Debug, Clone, Copy, Default)]
struct Merge {
    age: u64,
    a: u32,
    b: u32,
}

/// One elder-rule sweep (forward for H0, reverse for H1) over the saddles.
struct Sweep<'a> {
    image: &'a Padded,
    table: &'static RingTable,
    /// `0` forward, `0xff` reverse: the mask of preceding neighbours is `masks[p] ^ flip`.
    flip: u8,
    /// Union-find id of the component a pixel descends to, or [`UNSET`].
    label: Vec<u32>,
    /// Union-find parent of each component (kept apart from `age` so that finds stay in cache).
    parent: Vec<u32>,
    /// Place in the sweep's order of the pixel that created each component (lower = older; for the
    /// forward sweep the low 32 bits are that pixel's padded index).
    age: Vec<u64>,
    /// The different components that the runs of each saddle (`image.saddles[i]`) descend to,
    /// [`UNSET`] after the last; not written for a skipped saddle ([`Self::list_components`]).
    components: Vec<[u32; 4]>,
    /// The merges in this sweep's order ([`Self::list_merges`]): the first `merge_count`, as many
    /// as [`Self::list_components`] counted.
    merges: Vec<Merge>,
    merge_count: usize,
    /// `(age of the saddle, age of the creator of the component that dies there)` ([`Self::run`]).
    pairs: Vec<(u64, u64)>,
    pair_scratch: Vec<(u64, u64)>,
    /// Unlabelled pixels that saddles' runs start from ([`Self::walk_pending`]).
    pending: Vec<u32>,
    /// The saddles of `order` that are not skipped ([`Self::list_merges`]).
    kept: Vec<u64>,
    /// When [`Self::mark_cycles`] (the first of two sweeps on one thread), a bit per saddle (by
    /// place in the list of saddles), set at the saddles where some run joins a component that
    /// another run has joined already (it closes a cycle). While the sweep runs, a bit per padded
    /// pixel.
    cycles: Vec<u64>,
    mark_cycles: bool,
    /// The second sweep on one thread: the first sweep's `cycles`. A saddle merges in one sweep only
    /// where it closes a cycle in the other (by duality, it merges as many components in one as it
    /// closes cycles in the other), so the others are skipped.
    only_cycles: Option<&'a [u64]>,
}

impl<'a> Sweep<'a> {
    /// A sweep over `image` with `buffers`, whose labels [`SweepBuffers::lay_out_labels`] has laid
    /// out for this sweep's direction.
    fn new(image: &'a Padded, conn: Connectivity, reverse: bool, buffers: SweepBuffers) -> Self {
        let SweepBuffers {
            label,
            mut parent,
            mut age,
            components,
            merges,
            mut pairs,
            pair_scratch,
            pending,
            kept,
        } = buffers;
        debug_assert_eq!(label.len(), image.keys.len(), "labels laid out");
        // pad cells labelled for the other direction would send the reverse sweep's walks past
        // the border (they would never end): fail here instead
        let pad = if reverse { EXTERIOR } else { UNSET };
        debug_assert!(
            [label.first(), label.last()] == [Some(&pad); 2],
            "labels laid out for the {} sweep",
            if reverse { "reverse" } else { "forward" }
        );
        // ids 0 (unset) and 1 (the exterior, the oldest of all) are reserved
        parent.clear();
        parent.extend([UNSET, EXTERIOR]);
        age.clear();
        age.extend([0, 0]);
        pairs.clear();
        Sweep {
            image,
            table: conn.table(),
            flip: if reverse { 0xff } else { 0 },
            label,
            parent,
            age,
            components,
            merges,
            merge_count: 0,
            pairs,
            pair_scratch,
            pending,
            kept,
            cycles: Vec::new(),
            mark_cycles: false,
            only_cycles: None,
        }
    }

    fn into_buffers(self) -> SweepBuffers {
        SweepBuffers {
            label: self.label,
            parent: self.parent,
            age: self.age,
            components: self.components,
            merges: self.merges,
            pairs: self.pairs,
            pair_scratch: self.pair_scratch,
            pending: self.pending,
            kept: self.kept,
        }
    }

    /// The place of pixel `p` in this sweep's order.
    #[inline]
    fn age_of(&self, p: usize) -> u64 {
        let order = self.image.order(p);
        if self.flip == 0 {
            order
        } else {
            !order
        }
    }

    /// The mask of pixel `p`'s neighbours that precede it in this sweep.
    #[inline]
    fn preceding(&self, p: usize) -> usize {
        (self.image.masks[p] ^ self.flip) as usize
    }

    /// The neighbours that saddle `p`'s runs start from, one per run.
    #[inline]
    fn run_starts(&self, p: usize) -> impl Iterator<Item = usize> {
        let mask = self.preceding(p);
        let (table, offsets) = (self.table, self.image.offsets);
        table.reps[mask][..table.runs[mask] as usize]
            .iter()
            .map(move |&rep| (p as isize + offsets[rep as usize]) as usize)
    }

    /// Starts a component at minimum `q`; returns its id (the caller labels `q` with it).
    #[inline]
    fn start_component(&mut self, q: usize) -> u32 {
        let id = self.parent.len() as u32;
        self.parent.push(id);
        self.age.push(self.age_of(q));
        id
    }

    /// The preceding neighbour pixel `q` steps to, or `None` when `q` starts a component.
    #[inline]
    fn step(&self, q: usize) -> Option<usize> {
        let step = self.table.descent[self.preceding(q)];
        (step != NO_STEP).then(|| (q as isize + self.image.offsets[step as usize]) as usize)
    }

    /// Labels unlabelled pixel `p`, and every pixel on its way down, with the component it
    /// descends to; returns that component.
    #[inline(never)]
    fn walk(&mut self, p: usize) -> u32 {
        let (table, offsets, flip) = (self.table, self.image.offsets, self.flip);
        let masks = &self.image.masks[..];
        // local slices, so that the compiler keeps them in registers
        let step = |q: usize| {
            let step = table.descent[(masks[q] ^ flip) as usize];
            (step != NO_STEP).then(|| (q as isize + offsets[step as usize]) as usize)
        };
        let label = &self.label[..];
        let mut q = p;
        let found = loop {
            let id = label[q];
            if id != UNSET {
                break Some(id);
            }
            match step(q) {
                Some(next) => q = next,
                None => break None,
            }
        };
        let id = found.unwrap_or_else(|| self.start_component(q));
        let label = &mut self.label[..];
        label[q] = id;
        let mut v = p;
        while v != q {
            label[v] = id;
            match step(v) {
                Some(next) => v = next,
                None => break,
            }
        }
        id
    }

    /// Labels, in one raster pass, every pixel whose descent reaches a minimum through raster-earlier
    /// steps only (most pixels of a noisy image: the step prefers N, NW, NE and W); every minimum
    /// gets its component here. The rest are walked when a saddle looks ([`Self::walk`]).
    fn label_in_raster_order(&mut self) {
        let image = self.image;
        let (s, n) = (image.stride, image.width);
        // for each forward mask: the offset of the raster-earlier step of this sweep's mask, or 0
        // (the pixel itself, still unset) for none, and whether the pixel is a minimum (1) or not
        let mut steps = [(0i32, 0u32); 256];
        for (mask, entry) in steps.iter_mut().enumerate() {
            let step = self.table.step[mask ^ self.flip as usize];
            if step == NO_STEP {
                entry.1 = 1;
            } else if PREFERENCE[step as usize] < 4 {
                entry.0 = image.offsets[step as usize] as i32;
            }
        }
        // without branches (on noise a tenth to a fifth of the pixels are minima, at random): every
        // pixel is written to the row's list of minima, which grows when it is one; a local slice
        // of the labels, so that the compiler keeps it in registers
        let mut minima = vec![0u32; n];
        for y in 1..=image.height {
            let row = y * s;
            let label = &mut self.label[..];
            let first_id = self.parent.len() as u32;
            let mut count = 0;
            for (p, &mask) in (row + 1..).zip(&image.masks[row + 1..row + 1 + n]) {
                let (offset, minimum) = steps[mask as usize];
                let below = label[(p as isize + offset as isize) as usize];
                minima[count] = p as u32;
                label[p] = select(minimum != 0, first_id + count as u32, below);
                count += minimum as usize;
            }
            // the row's minima get their components in the order of their ids
            for &p in &minima[..count] {
                self.start_component(p as usize);
            }
        }
    }

    /// Whether [`Self::pairs`] labels in raster order.
    fn labels_in_raster_order(&self, labelling: Labelling) -> bool {
        match labelling {
            Labelling::Raster => true,
            Labelling::Walks => false,
            // dense saddles (noise): label every pixel in one raster pass, then walk the few left;
            // sparse saddles (smooth images): walk only from where the saddles look, several at a
            // time
            Labelling::Auto => self.image.saddles.len() * 8 > self.image.width * self.image.height,
        }
    }

    /// Lists the unlabelled neighbours that the saddles' runs start from and walks them.
    fn walk_from_saddles(&mut self, saddles: &[u32]) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        for (i, &p) in saddles.iter().enumerate() {
            // a skipped saddle's runs are not looked at
            if self.only_cycles.is_some_and(|only| bit(only, i) == 0) {
                continue;
            }
            for q in self.run_starts(p as usize) {
                if self.label[q] == UNSET {
                    pending.push(q as u32);
                }
            }
        }
        self.pending = pending;
        self.walk_pending();
    }

    /// Labels every pixel listed in `pending` (and every pixel on the way down), walking [`LANES`]
    /// descents at a time, one step of each in turn, so that their cache misses overlap instead of
    /// following each other.
    fn walk_pending(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let mut paths: [Vec<u32>; LANES] = std::array::from_fn(|_| Vec::new());
        let mut current = [usize::MAX; LANES];
        let mut next = 0;
        let mut take = |label: &[u32]| loop {
            match pending.get(next) {
                None => break usize::MAX,
                Some(&q) => {
                    next += 1;
                    if label[q as usize] == UNSET {
                        break q as usize;
                    }
                }
            }
        };
        for lane in current.iter_mut() {
            *lane = take(&self.label);
        }
        let mut active = current.iter().filter(|&&q| q != usize::MAX).count();
        while active > 0 {
            for (lane, path) in current.iter_mut().zip(paths.iter_mut()) {
                let q = *lane;
                if q == usize::MAX {
                    continue;
                }
                let mut id = self.label[q];
                if id == UNSET {
                    match self.step(q) {
                        Some(down) => {
                            // the lane comes back to it after a step of every other lane
                            super::prefetch(&self.label, down);
                            super::prefetch(&self.image.masks, down);
                            path.push(q as u32);
                            *lane = down;
                            continue;
                        }
                        None => {
                            id = self.start_component(q);
                            self.label[q] = id;
                        }
                    }
                }
                for &v in path.iter() {
                    self.label[v as usize] = id;
                }
                path.clear();
                *lane = take(&self.label);
                if *lane == usize::MAX {
                    active -= 1;
                }
            }
        }
        self.pending = pending;
    }

    /// The pairs of this sweep, in `pairs` ([`Self::run`]; the reverse sweep's by death).
    fn pairs(&mut self, labelling: Labelling) {
        let image = self.image;
        if self.mark_cycles {
            self.cycles.clear();
            self.cycles.resize(image.keys.len().div_ceil(64), 0);
        }
        if self.labels_in_raster_order(labelling) {
            self.label_in_raster_order();
        } else {
            self.walk_from_saddles(&image.saddles);
        }
        // visiting the saddles in raster order keeps the walks local
        self.list_components(&image.saddles);
        self.list_merges(&image.order, &image.saddles);
        self.run();
        if self.flip != 0 {
            self.sort_pairs_by_death();
        }
        if self.mark_cycles {
            // the marks, by padded index, become marks by place in the list of saddles
            let mut marks = vec![0u64; image.saddles.len().div_ceil(64)];
            for (i, &p) in image.saddles.iter().enumerate() {
                marks[i / 64] |= bit(&self.cycles, p as usize) << (i % 64);
            }
            self.cycles = marks;
        }
    }

    /// Lists, for each saddle, the different components its runs descend to, [`UNSET`] after the
    /// last.
    fn list_components(&mut self, saddles: &[u32]) {
        let mut components = std::mem::take(&mut self.components);
        make_room_for_components(&mut components, saddles.len());
        // a saddle of `k` different components gives `k - 1` merges
        let mut merges = 0;
        match self.only_cycles {
            None => {
                let mut cycles = std::mem::take(&mut self.cycles);
                for (ids, &p) in components.iter_mut().zip(saddles) {
                    let p = p as usize;
                    let (count, repeats) = self.saddle_components(p, ids);
                    merges += count - 1;
                    if self.mark_cycles && repeats {
                        set_bit(&mut cycles, p);
                    }
                }
                self.cycles = cycles;
            }
            // the marked saddles only, in raster order, found a word of marks at a time (a test
            // per saddle would go either way at random)
            Some(only) => {
                for (w, &word) in only.iter().enumerate() {
                    let mut bits = word;
                    while bits != 0 {
                        let i = w * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        let (count, _) =
                            self.saddle_components(saddles[i] as usize, &mut components[i]);
                        merges += count - 1;
                    }
                }
            }
        }
        self.components = components;
        self.merge_count = merges;
    }

    /// Writes into `ids` the different components that saddle `p`'s runs descend to, [`UNSET`]
    /// after the last (in place: a record put together on the stack and then copied costs a failed
    /// store-to-load forwarding per saddle); returns how many there are, and whether two runs share
    /// one.
    #[inline(always)]
    fn saddle_components(&mut self, p: usize, ids: &mut [u32; 4]) -> (usize, bool) {
        let (table, offsets, flip) = (self.table, self.image.offsets, self.flip);
        let masks = &self.image.masks[..];
        *ids = [UNSET; 4];
        let mask = (masks[p] ^ flip) as usize;
        let runs = table.runs[mask] as usize;
        let mut count = 0;
        for &rep in &table.reps[mask][..runs] {
            let q = (p as isize + offsets[rep as usize]) as usize;
            let mut id = self.label[q];
            if id == UNSET {
                // most walks on noise end after one step: take it here
                let step = table.descent[(masks[q] ^ flip) as usize];
                if step != NO_STEP {
                    id = self.label[(q as isize + offsets[step as usize]) as usize];
                }
                if id == UNSET {
                    id = self.walk(q);
                } else {
                    self.label[q] = id;
                }
            }
            if !ids[..count].contains(&id) {
                ids[count] = id;
                count += 1;
            }
        }
        (count, count < runs)
    }

    /// Lists the saddles' merges in this sweep's order (`order` forward, or backwards in the
    /// reverse sweep): a saddle with `k` different components gives `k - 1` merges of the first
    /// with each other one.
    fn list_merges(&mut self, order: &[u64], saddles: &[u32]) {
        let mut merges = std::mem::take(&mut self.merges);
        // without branches on what is read (they would wait for each read in turn): every saddle
        // writes three merges at the count so far, the count grows by its number of merges, so no
        // write lands past the last merge plus one ([`Self::list_components`] counted them: a
        // buffer of three per saddle would fault in three times the pages on noise). Every merge
        // is written before it is read, so the buffer only grows
        if merges.len() <= self.merge_count {
            merges.resize(self.merge_count + 1, Merge::default());
        }
        let components = &self.components;
        let reverse = self.flip != 0;
        let flip = 0u64.wrapping_sub(reverse as u64);
        let mut len = 0;
        // the saddles skipped ([`Self::only_cycles`]) have no merges: left out first, in a pass
        // without branches, so that their records are not read
        let mut kept = std::mem::take(&mut self.kept);
        let order = match self.only_cycles {
            Some(only) => {
                if kept.len() < order.len() {
                    kept.resize(order.len(), 0);
                }
                let mut count = 0;
                for &e in order {
                    let seq = e as u32 as usize;
                    kept[count] = e;
                    count += bit(only, seq) as usize;
                }
                &kept[..count]
            }
            None => order,
        };
        let n = order.len();
        // the saddle `i` places into this sweep's order
        let at = |i: usize| if reverse { order[n - 1 - i] } else { order[i] };
        for i in 0..n {
            // the saddles' records are far apart in memory: ask for them ahead
            if i + GATHER_AHEAD < n {
                let ahead = at(i + GATHER_AHEAD) as u32 as usize;
                super::prefetch(components, ahead);
                super::prefetch(saddles, ahead);
            }
            let e = at(i);
            let seq = e as u32 as usize;
            let ids = components[seq];
            let age = ((e >> 32) << 32 | saddles[seq] as u64) ^ flip;
            for &b in &ids[1..] {
                merges[len] = Merge { age, a: ids[0], b };
                len += (b != UNSET) as usize;
            }
        }
        debug_assert_eq!(len, self.merge_count, "merges listed and counted");
        self.merges = merges;
        self.kept = kept;
    }

    /// Applies the merges in order; returns `(age of the saddle, age of the creator of the component
    /// that dies there)` for every merge with nonzero persistence, in order, the deaths at one saddle
    /// from oldest to youngest.
    fn run(&mut self) {
        let merges = std::mem::take(&mut self.merges);
        let mut out = std::mem::take(&mut self.pairs);
        out.clear();
        let mut group = 0; // first pair of the current saddle
        let merges_now = &merges[..self.merge_count];
        // local slices, so that the compiler keeps them in registers
        let (parent, age) = (&mut self.parent[..], &self.age[..]);
        let (mark_cycles, cycles) = (self.mark_cycles, &mut self.cycles[..]);
        let flip = 0u64.wrapping_sub((self.flip != 0) as u64);
        for (i, merge) in merges_now.iter().enumerate() {
            // the components of a merge a few steps ahead are far apart in memory: ask for them now
            if let Some(ahead) = merges_now.get(i + PREFETCH_AHEAD) {
                super::prefetch(parent, ahead.a as usize);
                super::prefetch(parent, ahead.b as usize);
                super::prefetch(age, ahead.a as usize);
                super::prefetch(age, ahead.b as usize);
            }
            let (a, b) = (find(parent, merge.a), find(parent, merge.b));
            if a == b {
                if mark_cycles {
                    // the low word of the order is the saddle's padded index
                    let p = (merge.age ^ flip) as u32 as usize;
                    set_bit(cycles, p);
                }
                continue;
            }
            let (age_a, age_b) = (age[a as usize], age[b as usize]);
            let (young, old, creator) = if age_a < age_b {
                (b, a, age_b)
            } else {
                (a, b, age_a)
            };
            parent[young as usize] = old;
            // nonzero persistence: the keys (high words of the ages) differ
            if creator >> 32 != merge.age >> 32 {
                if out.last().is_some_and(|&(age, _)| age != merge.age) {
                    sort_group(&mut out[group..]);
                    group = out.len();
                }
                out.push((merge.age, creator));
            }
        }
        sort_group(&mut out[group..]);
        self.pairs = out;
        self.merges = merges;
    }

    /// Sorts the pairs of the reverse sweep by their death, the pixel that created the dying dual
    /// component (each dies once), in forward order: radix-sorted by the key alone, then each run
    /// of equal keys (rare but for quantised images) by index.
    fn sort_pairs_by_death(&mut self) {
        let death = |&(_, creator): &(u64, u64)| !creator;
        radix_sort_by(&mut self.pairs, &mut self.pair_scratch, 32, death);
        for ties in self
            .pairs
            .chunk_by_mut(|a, b| death(a) >> 32 == death(b) >> 32)
            .filter(|ties| ties.len() > 1)
        {
            ties.sort_unstable_by_key(death);
        }
    }
}

/// Bit `i` of the bitmap `bits` (0 or 1).
#[inline(always)]
fn bit(bits: &[u64], i: usize) -> u64 {
    bits[i / 64] >> (i % 64) & 1
}

/// Sets bit `i` of the bitmap `bits`.
#[inline(always)]
fn set_bit(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

/// Orders the pairs of one saddle (all with the same death) by their creator, oldest first. Most
/// saddles kill one component: no call into the sort for those.
#[inline]
fn sort_group(group: &mut [(u64, u64)]) {
    if group.len() > 1 {
        group.sort_unstable_by_key(|&(_, creator)| creator);
    }
}

/// Stable LSD radix sort of `items` by bits `lo..64` of `key(item)`. Only the bits in which the
/// keys differ are sorted (the key minus the least key), in as few passes of at most
/// [`RADIX_BITS`] bits (fewer for few items) as that takes, of equal width.
fn radix_sort_by<T: Copy + Default>(
    items: &mut Vec<T>,
    scratch: &mut Vec<T>,
    lo: u32,
    key: impl Fn(&T) -> u64,
) {
    let (least, most) = items
        .iter()
        .map(|t| key(t) >> lo)
        .fold((u64::MAX, 0), |(least, most), k| {
            (least.min(k), most.max(k))
        });
    if items.is_empty() {
        return;
    }
    let bits = 64 - (most - least).leading_zeros();
    if bits == 0 {
        return;
    }
    let most_bits = (usize::BITS - items.len().leading_zeros())
        .saturating_sub(4)
        .clamp(8, RADIX_BITS);
    let passes = bits.div_ceil(most_bits);
    let width = bits.div_ceil(passes);
    let buckets = 1usize << width;
    let digit =
        |t: &T, pass: u32| (((key(t) >> lo) - least) >> (pass * width)) as usize & (buckets - 1);
    // the histograms of every pass in one read of the items
    // 32-bit counts: at most one item per pixel (saddles, pairs), and MAX_PIXELS is below 2^29
    let mut counts = vec![0u32; passes as usize * buckets];
    for t in items.iter() {
        for pass in 0..passes {
            counts[pass as usize * buckets + digit(t, pass)] += 1;
        }
    }
    // every slot is written before it is read: only grow the scratch, never clear it
    let n = items.len();
    if scratch.len() < n {
        scratch.resize(n, T::default());
    }
    scratch.truncate(n);
    for (pass, count) in (0..passes).zip(counts.chunks_exact_mut(buckets)) {
        let mut sum = 0;
        for c in count.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for t in items.iter() {
            let d = digit(t, pass);
            scratch[count[d] as usize] = *t;
            count[d] += 1;
        }
        std::mem::swap(items, scratch);
    }
}

/// How the sweeps find the component that each run of a saddle descends to. Every choice gives the
/// same pairs; the choice is there for tests, which run each path on every input.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labelling {
    /// [`Labelling::Raster`] where more than one pixel in eight is a saddle of the sweep (noise),
    /// [`Labelling::Walks`] elsewhere (smooth images).
    Auto,
    /// One raster pass labels every pixel whose descent takes raster-earlier steps only; the rest
    /// are walked when a saddle looks.
    Raster,
    /// Descents from the saddles' runs only, several walked at a time.
    Walks,
}

/// Turns a sweep's `(age of the saddle, age of the creator)` pairs into the API's records.
type PairsOf<'c> = dyn Fn(&[(u64, u64)]) -> Vec<PersistencePair> + 'c;

/// Pairs with nonzero persistence of one 2D image (values already validated: no NaN; `-0.0` may be
/// left in, its key is that of `+0.0`),
/// per dimension, in the order of the contract (`docs/conventions.md`, section 3), H0's essential class last.
pub fn persistence_pairs(
    values: &[f32],
    height: usize,
    width: usize,
    options: &Options,
) -> Vec<Vec<PersistencePair>> {
    persistence_pairs_with(values, height, width, options, Labelling::Auto)
}

/// [`persistence_pairs`] with the labelling chosen (a test knob).
#[doc(hidden)]
pub fn persistence_pairs_with(
    values: &[f32],
    height: usize,
    width: usize,
    options: &Options,
    labelling: Labelling,
) -> Vec<Vec<PersistencePair>> {
    let superlevel = options.is_superlevel();
    let (primal, dual) = match options.construction {
        Construction::V => (Connectivity::Four, Connectivity::Eight),
        Construction::T => (Connectivity::Eight, Connectivity::Four),
        Construction::Freudenthal => (Connectivity::Six, Connectivity::Six),
    };
    if values.is_empty() {
        return vec![Vec::new(), Vec::new()];
    }
    let two_threads = rayon::current_num_threads() > 1;
    // every buffer is taken from (and kept for) the calling thread, whichever threads use them
    let image_buffers: ImageBuffers = take_buffers(&IMAGE_BUFFERS);
    let mut sweep_buffers: [SweepBuffers; 2] = take_buffers(&SWEEP_BUFFERS);
    let stride = width + 2;
    let prepare = |buffers: ImageBuffers| {
        let mut image = Padded::new(values, height, width, superlevel, buffers);
        let first = image.masks_and_saddles(primal.table());
        (image, first)
    };
    // with a second thread, it lays out both sweeps' labels (forward, reverse) while this one
    // prepares the image
    let ahead = two_threads && height * width >= AHEAD_PIXELS;
    let (mut image, first) = if ahead {
        let [forward, reverse] = &mut sweep_buffers;
        rayon::join(
            || prepare(image_buffers),
            || {
                forward.lay_out_labels(stride, height, false);
                reverse.lay_out_labels(stride, height, true);
            },
        )
        .0
    } else {
        prepare(image_buffers)
    };
    // on two threads (when there are two, and enough work to pay for the hand-over) the sweeps run
    // side by side; the second thread makes room for their components while this one sorts
    let side_by_side = two_threads && image.saddles.len() > 1 << 15;
    if side_by_side {
        let saddles = image.saddles.len();
        let [forward, reverse] = &mut sweep_buffers;
        rayon::join(
            || image.sort_saddles(),
            || {
                forward.make_room_for(saddles);
                reverse.make_room_for(saddles);
            },
        );
    } else {
        image.sort_saddles();
    }
    let mut cycles = std::mem::take(&mut image.cycles);
    let cells = image.keys.len();
    let image_ref = &image;
    // a pixel given by its forward order
    let pixel = |order: u64| {
        (
            key_value((order >> 32) as u32, superlevel),
            image_ref.linear_index(order as u32),
        )
    };
    let pair =
        |(birth, birth_index): (f32, usize), (death, death_index): (f32, usize)| PersistencePair {
            birth,
            death,
            birth_index,
            death_index: Some(death_index),
        };

    // one sweep, with `buffers`: it marks the saddles that close cycles in `mark` when given it,
    // and skips the saddles not marked in `only` when given it
    let sweep_pairs = |reverse: bool,
                       buffers: &mut SweepBuffers,
                       mut mark: Option<&mut Vec<u64>>,
                       only: Option<&[u64]>,
                       convert: &PairsOf| {
        let conn = if reverse { dual } else { primal };
        if !ahead {
            buffers.lay_out_labels(stride, height, reverse);
        }
        let mut sweep = Sweep::new(image_ref, conn, reverse, std::mem::take(buffers));
        if let Some(cycles) = mark.as_deref_mut() {
            sweep.mark_cycles = true;
            sweep.cycles = std::mem::take(cycles);
        }
        sweep.only_cycles = only;
        sweep.pairs(labelling);
        let pairs = convert(&sweep.pairs);
        if let Some(cycles) = mark {
            *cycles = std::mem::take(&mut sweep.cycles);
        }
        *buffers = sweep.into_buffers();
        pairs
    };
    let h0_pairs = |pairs: &[(u64, u64)]| {
        let mut h0 = Vec::with_capacity(pairs.len() + 1);
        h0.extend(
            pairs
                .iter()
                .map(|&(saddle, creator)| pair(pixel(creator), pixel(saddle))),
        );
        // the essential class: the first pixel of the order
        let (birth, birth_index) = pixel(image_ref.order(first as usize));
        h0.push(PersistencePair::essential(birth, birth_index, superlevel));
        h0
    };
    let h1_pairs = |pairs: &[(u64, u64)]| {
        pairs
            .iter()
            .map(|&(saddle, creator)| pair(pixel(!saddle), pixel(!creator)))
            .collect::<Vec<_>>()
    };
    // side by side, or one after the other: then the second sweep skips the saddles that the first
    // found not to close cycles; the sweep of the 8-connectivity (fewer components, so fewer
    // saddles that merge) goes second: H0 for T, H1 for V. On one thread both sweeps use the same
    // buffers; when the labels were laid out ahead, each its own
    let (h0, h1) = if side_by_side {
        let [forward, reverse] = &mut sweep_buffers;
        rayon::join(
            || sweep_pairs(false, forward, None, None, &h0_pairs),
            || sweep_pairs(true, reverse, None, None, &h1_pairs),
        )
    } else {
        let slot = |reverse: bool| usize::from(ahead && reverse);
        let mut run = |reverse: bool,
                       mark: Option<&mut Vec<u64>>,
                       only: Option<&[u64]>,
                       convert: &PairsOf| {
            sweep_pairs(
                reverse,
                &mut sweep_buffers[slot(reverse)],
                mark,
                only,
                convert,
            )
        };
        if primal == Connectivity::Eight {
            let h1 = run(true, Some(&mut cycles), None, &h1_pairs);
            (run(false, None, Some(&cycles), &h0_pairs), h1)
        } else {
            let h0 = run(false, Some(&mut cycles), None, &h0_pairs);
            (h0, run(true, None, Some(&cycles), &h1_pairs))
        }
    };
    keep_buffers(&SWEEP_BUFFERS, sweep_buffers, cells);
    image.cycles = cycles;
    keep_buffers(&IMAGE_BUFFERS, image.into_buffers(), cells);
    vec![h0, h1]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sweeps share one list of saddles: a pixel must be a saddle of the forward sweep exactly
    /// when it is one of the reverse sweep, in every construction.
    #[test]
    fn both_sweeps_have_the_same_saddles() {
        for (primal, dual) in [
            (Connectivity::Four, Connectivity::Eight),
            (Connectivity::Eight, Connectivity::Four),
            (Connectivity::Six, Connectivity::Six),
        ] {
            let (forward, reverse) = (primal.table(), dual.table());
            for mask in 0..256 {
                assert_eq!(
                    forward.runs[mask] >= 2,
                    reverse.runs[!mask & 0xff] >= 2,
                    "{primal:?}/{dual:?}, preceding neighbours {mask:08b}"
                );
            }
        }
    }
}
