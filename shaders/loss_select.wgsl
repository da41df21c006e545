// The loss's selection, one workgroup per map, for one graph's records of that map (dimension
// params.dim; its segment of record_buckets' list):
// 1. the pixel an essential class dies at (the map's minimum, the largest index among ties), and
//    the first pixel of the batch that is not a probability (NaN, or outside [0, 1]);
// 2. every record of the map: its persistence (0 for a pair of equal values, which is no feature)
//    and its square, and the count of features;
// 3. the beta_k most persistent features, by beta_k rounds of a maximum below the last one found:
//    the key of the least of them, and the cost of the features the map lacks.
#import params
#import loss

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read> records: array<PairRecord>;
@group(0) @binding(3) var<storage, read> priors: array<Prior>;
@group(0) @binding(4) var<storage, read_write> selection: array<Selection>;
@group(0) @binding(5) var<storage, read_write> pers: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> status: array<atomic<u32>>;
// the map's records: bucket[offset .. offset + count] (record_buckets), offset and count from the
// segments (offsets in the first 2B words, counts in the next 2B; map b's dimension k at 2b + k)
@group(0) @binding(7) var<storage, read> segments: array<u32>;
@group(0) @binding(8) var<storage, read> bucket: array<u32>;

var<workgroup> low_value: array<f32, WG>;
var<workgroup> low_index: array<u32, WG>;
var<workgroup> best: array<vec3<u32>, WG>;
var<workgroup> features: atomic<u32>;
var<workgroup> feature_count: u32;

// Whether (value a, index ia) enters after (b, ib) in the superlevel order of the loss: smaller,
// or equal and of a larger index.
fn later(a: f32, ia: u32, b: f32, ib: u32) -> bool {
    return a < b || (a == b && ia > ib);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let image = wid.y * nwg.x + wid.x;
    if image >= params.images {
        return;
    }
    let base = image * params.pixels;
    // 1. the last pixel to enter, and the values' check
    var lv = values[base];
    var li = 0u;
    for (var i = lid; i < params.pixels; i += WG) {
        let v = values[base + i];
        // a probability, on the bits (no fast-math rewrite or flush of denormals can change it):
        // +0.0 up to 1.0, or -0.0; NaN, negatives and values past 1 are not
        let bits = bitcast<u32>(v);
        if bits > 0x3f800000u && bits != 0x80000000u {
            atomicMin(&status[0], base + i);
        }
        if later(v, i, lv, li) {
            lv = v;
            li = i;
        }
    }
    low_value[lid] = lv;
    low_index[lid] = li;
    if lid == 0u {
        atomicStore(&features, 0u);
    }
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off /= 2u) {
        if lid < off && later(low_value[lid + off], low_index[lid + off], low_value[lid], low_index[lid]) {
            low_value[lid] = low_value[lid + off];
            low_index[lid] = low_index[lid + off];
        }
        workgroupBarrier();
    }
    let death_last = low_index[0];
    // 2. persistence of every record of this map
    let segment = image * 2u + params.dim;
    let start = segments[segment];
    let count = segments[2u * params.images + segment];
    var mine = 0u;
    for (var j = lid; j < count; j += WG) {
        let r = bucket[start + j];
        let rec = records[r];
        let vb = values[base + rec.birth_index];
        var d = rec.death_index;
        if d == NONE {
            d = death_last;
        }
        let vd = values[base + d];
        var p = 0.0;
        if vb != vd {
            p = abs(vb - vd);
            mine += 1u;
        }
        pers[r] = vec2<f32>(p, p * p);
    }
    atomicAdd(&features, mine);
    workgroupBarrier();
    if lid == 0u {
        feature_count = atomicLoad(&features);
    }
    // uniform across the workgroup (the rounds below hold barriers)
    let n = workgroupUniformLoad(&feature_count);
    let prior = priors[image];
    var beta = prior.beta0;
    var weight = prior.weight0;
    if params.dim == 1u {
        beta = prior.beta1;
        weight = prior.weight1;
    }
    // 3. the beta most persistent: each round the largest key below the last round's
    var bound = vec3<u32>(NONE, NONE, NONE);
    if beta < n {
        for (var round = 0u; round < beta; round++) {
            var top = vec3<u32>(0u, 0u, 0u);
            for (var j = lid; j < count; j += WG) {
                let r = bucket[start + j];
                let rec = records[r];
                let p = pers[r].x;
                if p == 0.0 {
                    continue;
                }
                let k = feature_key(p, rec);
                if key_less(k, bound) && key_less(top, k) {
                    top = k;
                }
            }
            best[lid] = top;
            workgroupBarrier();
            for (var off = WG / 2u; off > 0u; off /= 2u) {
                if lid < off && key_less(best[lid], best[lid + off]) {
                    best[lid] = best[lid + off];
                }
                workgroupBarrier();
            }
            bound = best[0];
            workgroupBarrier();
        }
    } else {
        // every feature is kept
        bound = vec3<u32>(0u, 0u, 0u);
    }
    if lid == 0u {
        var lacking = 0u;
        if beta > n {
            lacking = beta - n;
        }
        selection[image * 2u + params.dim] = Selection(n, bound.x, bound.y, bound.z,
                                                       weight * f32(lacking), death_last, 0u, 0u);
    }
}
