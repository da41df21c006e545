// A root that is younger than the root across its minimum outgoing edge hooks onto it: its class dies
// at that edge (elder rule), whose key stays in best_hi/best_lo as the vertex's death (a vertex that is
// not a root is never offered an edge again). Older roots wait, with their best key reset for the next
// round, and stay in the root list; a root with no outgoing edge is a finished component and leaves it.
// roots_out holds the waiting roots from its start and the roots that hooked from its end backwards
// (together at most the roots that came in, so the two never meet).
#import params
#import control

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read_write> parent: array<u32>;
@group(0) @binding(2) var<storage, read> vkey: array<u32>;
@group(0) @binding(3) var<storage, read_write> best_hi: array<u32>;
@group(0) @binding(4) var<storage, read_write> best_lo: array<u32>;
@group(0) @binding(5) var<storage, read> far_root: array<u32>;
@group(0) @binding(6) var<storage, read_write> control: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read> roots_in: array<u32>;
@group(0) @binding(8) var<storage, read_write> roots_out: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let id = linear_id(wid, nwg, lid);
    let total = params.images * params.vertices;
    let n_in = atomicLoad(&control[C_ROOTS_IN]);
    var r = NONE;
    if n_in == NONE {
        if id < total {
            r = id;
        }
    } else if id < n_in {
        r = roots_in[id];
    }
    if r == NONE || parent[r] != r {
        return;
    }
    if best_hi[r] == NONE && best_lo[r] == NONE {
        return;
    }
    let t = far_root[r];
    if vkey[r] > vkey[t] {
        parent[r] = t;
        atomicAdd(&control[C_HOOKS], 1u);
        roots_out[total - 1u - atomicAdd(&control[C_HOOKED], 1u)] = r;
    } else {
        best_hi[r] = NONE;
        best_lo[r] = NONE;
        roots_out[atomicAdd(&control[C_ROOTS_OUT], 1u)] = r;
    }
}
