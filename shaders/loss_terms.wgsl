// The loss's term of every record of one graph (one invocation per record): whether it is kept, its
// share of the gradient at its birth and death pixels, its term of the loss; and one more entry in
// the lists of its birth and its death pixel (counted here, placed by loss_scatter).
// squared: kept 1 - p^2 (d/dp -2p), not kept p^2 (2p); L1: 1 - p (-1) and p (1); times the weight,
// and the sign of birth - death.
#import params
#import control
#import loss

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read> records: array<PairRecord>;
@group(0) @binding(3) var<storage, read> control: array<u32>;
@group(0) @binding(4) var<storage, read> priors: array<Prior>;
@group(0) @binding(5) var<storage, read> selection: array<Selection>;
@group(0) @binding(6) var<storage, read> pers: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read_write> terms: array<Term>;
@group(0) @binding(8) var<storage, read_write> counts: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let r = linear_id(wid, nwg, lid);
    if r >= min(control[C_PAIRS], params.capacity) {
        return;
    }
    let rec = records[r];
    let p = pers[r];
    if p.x == 0.0 {
        terms[r] = Term(0u, 0.0, 0.0, 0.0);
        return;
    }
    let image = rec.image;
    let base = image * params.pixels;
    let s = selection[image * 2u + params.dim];
    var d = rec.death_index;
    if d == NONE {
        d = s.last;
    }
    let vb = values[base + rec.birth_index];
    let vd = values[base + d];
    let kept = !key_less(feature_key(p.x, rec), vec3<u32>(s.key_pers, s.key_hi, s.key_lo));
    let prior = priors[image];
    var w = prior.weight0;
    if params.dim == 1u {
        w = prior.weight1;
    }
    var value: f32;
    var dpers: f32;
    if params.kind == LOSS_SQUARED {
        if kept {
            value = 1.0 - p.y;
            dpers = -2.0 * p.x;
        } else {
            value = p.y;
            dpers = 2.0 * p.x;
        }
    } else {
        if kept {
            value = 1.0 - p.x;
            dpers = -1.0;
        } else {
            value = p.x;
            dpers = 1.0;
        }
    }
    var sign = -1.0;
    if vb >= vd {
        sign = 1.0;
    }
    var flags = TERM_FEATURE;
    if kept {
        flags |= TERM_KEPT;
    }
    terms[r] = Term(flags, w * dpers * sign, -w * dpers * sign, w * value);
    atomicAdd(&counts[base + rec.birth_index], 1u);
    atomicAdd(&counts[base + d], 1u);
}
