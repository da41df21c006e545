// One step of pointer jumping, parent[v] = parent[parent[v]]. MODE 0: over the roots that hooked in
// this round (listed from params.images*vertices on in `hooked`), raising C_CHANGED when something
// moved; MODE 1: one step over every vertex, which leaves every parent pointing at a root again.
// Racing updates are benign: every value read is an ancestor of v.
#import params
#import control

override MODE: u32 = 0u;

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read_write> parent: array<u32>;
@group(0) @binding(2) var<storage, read_write> control: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> hooked: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let id = linear_id(wid, nwg, lid);
    let total = params.images * params.vertices;
    var v = NONE;
    if MODE == 0u {
        if id < atomicLoad(&control[C_HOOKED]) {
            v = hooked[total + id];
        }
    } else if id < total {
        v = id;
    }
    if v == NONE {
        return;
    }
    let p = parent[v];
    let g = parent[p];
    if g != p {
        parent[v] = g;
        if MODE == 0u {
            atomicOr(&control[C_CHANGED], 1u);
        }
    }
}
