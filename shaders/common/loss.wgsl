// Shared by the topological loss's kernels of a resident plan (superlevel maps, H0 and H1; the host's
// definition and the CPU ports: src/loss.rs, src/cpu/ports/loss_*.rs). Products and sums are never
// in one kernel: a value a kernel adds is one an earlier dispatch stored, so no compiler can fuse a
// multiply and an add into one rounding and the GPU's bits are the host's.

#import records

// Parameters of one graph's loss dispatches (mirrored by LossParams in src/layout.rs).
struct LossParams {
    images: u32,
    pixels: u32,     // pixels of one map
    dim: u32,        // the graph's dimension: 0 (H0) or 1 (H1)
    kind: u32,       // LOSS_SQUARED or LOSS_L1
    capacity: u32,   // records the graph's buffer holds
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const LOSS_SQUARED: u32 = 0u;
const LOSS_L1: u32 = 1u;

// One map's prior: Betti numbers and weights of H0 and H1.
struct Prior {
    beta0: u32,
    beta1: u32,
    weight0: f32,
    weight1: f32,
}

// Per map and dimension: its features (pairs of non-zero persistence), the key of the least
// persistent feature kept (see feature_key; all zero: every feature is kept), the cost of the
// features the prior asks for and the map lacks, and the pixel an essential class dies at (the
// map's minimum, the largest index among ties).
struct Selection {
    features: u32,
    key_pers: u32,
    key_hi: u32,
    key_lo: u32,
    missing: f32,
    last: u32,
    _pad1: u32,
    _pad2: u32,
}

// What one record adds: flags, its share of the gradient at its birth and death pixels, and its
// term of the loss.
struct Term {
    flags: u32,
    birth: f32,
    death: f32,
    loss: f32,
}

const TERM_FEATURE: u32 = 1u;
const TERM_KEPT: u32 = 2u;

// An entry of a pixel's list: the record's index, the role (its death pixel, else its birth pixel)
// and the dimension.
const ENTRY_DEATH: u32 = 0x40000000u;
const ENTRY_DIM1: u32 = 0x80000000u;
const ENTRY_RECORD: u32 = 0x3fffffffu;

// The order of features by which the beta_k most persistent are kept: persistence, largest first,
// then the diagram's order (death rank, then birth rank), first first. A larger key is kept first.
fn feature_key(pers: f32, r: PairRecord) -> vec3<u32> {
    return vec3<u32>(bitcast<u32>(pers), ~r.order_hi, ~r.order_lo);
}

fn key_less(a: vec3<u32>, b: vec3<u32>) -> bool {
    if a.x != b.x {
        return a.x < b.x;
    }
    if a.y != b.y {
        return a.y < b.y;
    }
    return a.z < b.z;
}
