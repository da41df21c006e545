// A root that is younger than the root across its minimum outgoing edge hooks onto it: its class dies
// at that edge (elder rule). Older roots wait. Resets the best edge for the next round.
#import params

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read_write> parent: array<u32>;
@group(0) @binding(2) var<storage, read> vkey: array<u32>;
@group(0) @binding(3) var<storage, read_write> best_hi: array<u32>;
@group(0) @binding(4) var<storage, read_write> best_lo: array<u32>;
@group(0) @binding(5) var<storage, read> far_root: array<u32>;
@group(0) @binding(6) var<storage, read_write> death_hi: array<u32>;
@group(0) @binding(7) var<storage, read_write> death_lo: array<u32>;
@group(0) @binding(8) var<storage, read_write> control: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let r = linear_id(wid, nwg, lid);
    if r >= params.images * params.vertices || parent[r] != r {
        return;
    }
    let hi = best_hi[r];
    let lo = best_lo[r];
    if hi == NONE && lo == NONE {
        return;
    }
    best_hi[r] = NONE;
    best_lo[r] = NONE;
    let t = far_root[r];
    if vkey[r] > vkey[t] {
        parent[r] = t;
        death_hi[r] = hi;
        death_lo[r] = lo;
        atomicAdd(&control[0], 1u);
    }
}
