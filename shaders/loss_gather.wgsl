// The gradient and the loss's share of every pixel of the batch (one invocation per pixel), from the
// pixel's list, for one graph's dimension (H0's dispatch first; H1's goes on from its sums): the
// entries in the order of their key (role: birth before death; the other pixel of the pair; kept
// before not kept), each added in turn; entries of equal key are equal, so their order is no matter.
// The loss's share is the sum of the terms of the pairs that die at the pixel.
#import params
#import loss

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> records: array<PairRecord>;
@group(0) @binding(2) var<storage, read> terms: array<Term>;
@group(0) @binding(3) var<storage, read> selection: array<Selection>;
@group(0) @binding(4) var<storage, read> offsets: array<u32>;
@group(0) @binding(5) var<storage, read> counts: array<u32>;
@group(0) @binding(6) var<storage, read> entries: array<u32>;
@group(0) @binding(7) var<storage, read_write> gradient: array<f32>;
@group(0) @binding(8) var<storage, read_write> share: array<f32>;

fn entry_dim(e: u32) -> u32 {
    return select(0u, 1u, (e & ENTRY_DIM1) != 0u);
}

// (role, other pixel * 2 + not kept)
fn entry_key(e: u32) -> vec2<u32> {
    let r = e & ENTRY_RECORD;
    let rec = records[r];
    let death = (e & ENTRY_DEATH) != 0u;
    var other = rec.birth_index;
    if !death {
        other = rec.death_index;
        if other == NONE {
            other = selection[rec.image * 2u + params.dim].last;
        }
    }
    let not_kept = select(1u, 0u, (terms[r].flags & TERM_KEPT) != 0u);
    return vec2<u32>(select(0u, 1u, death), other * 2u + not_kept);
}

fn pair_less(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.x < b.x || (a.x == b.x && a.y < b.y);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let q = linear_id(wid, nwg, lid);
    if q >= params.images * params.pixels {
        return;
    }
    var grad = 0.0;
    var part = 0.0;
    if params.dim != 0u {
        grad = gradient[q];
        part = share[q];
    }
    let start = offsets[q];
    let n = min(counts[q], arrayLength(&entries) - min(start, arrayLength(&entries)));
    var total = 0u;
    for (var j = 0u; j < n; j++) {
        if entry_dim(entries[start + j]) == params.dim {
            total += 1u;
        }
    }
    // the entries in key order: each step the least key above the last, with its multiplicity
    var done = 0u;
    var prev = vec2<u32>(0u, 0u);
    var first = true;
    while done < total {
        var low = vec2<u32>(NONE, NONE);
        var many = 0u;
        var pick = 0u;
        for (var j = 0u; j < n; j++) {
            let e = entries[start + j];
            if entry_dim(e) != params.dim {
                continue;
            }
            let k = entry_key(e);
            if !first && !pair_less(prev, k) {
                continue;
            }
            if pair_less(k, low) {
                low = k;
                many = 1u;
                pick = e;
            } else if k.x == low.x && k.y == low.y {
                many += 1u;
            }
        }
        if many == 0u {
            break;
        }
        let t = terms[pick & ENTRY_RECORD];
        let death = (pick & ENTRY_DEATH) != 0u;
        for (var m = 0u; m < many; m++) {
            if death {
                grad += t.death;
                part += t.loss;
            } else {
                grad += t.birth;
            }
        }
        prev = low;
        first = false;
        done += many;
    }
    gradient[q] = grad;
    share[q] = part;
}
