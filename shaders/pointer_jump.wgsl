// One step of pointer jumping, parent[v] = parent[parent[v]]; raises control[2] if anything moved.
// Racing updates are benign: every value read is an ancestor of v.
#import params

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read_write> parent: array<u32>;
@group(0) @binding(2) var<storage, read_write> control: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let v = linear_id(wid, nwg, lid);
    if v >= params.images * params.vertices {
        return;
    }
    let p = parent[v];
    let g = parent[p];
    if g != p {
        parent[v] = g;
        atomicOr(&control[2], 1u);
    }
}
