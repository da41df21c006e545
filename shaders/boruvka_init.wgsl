// Every vertex starts as its own component: parent = itself, birth key from the ranks, no best edge
// and not dead (a vertex's death is its best key once it has hooked). One invocation per vertex of the batch.
#import params
#import grid

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read> rank: array<u32>;
@group(0) @binding(2) var<storage, read_write> parent: array<u32>;
@group(0) @binding(3) var<storage, read_write> vkey: array<u32>;
@group(0) @binding(4) var<storage, read_write> best_hi: array<u32>;
@group(0) @binding(5) var<storage, read_write> best_lo: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let v = linear_id(wid, nwg, lid);
    if v >= params.images * params.vertices {
        return;
    }
    parent[v] = v;
    vkey[v] = vertex_key(v / params.vertices, v % params.vertices);
    best_hi[v] = NONE;
    best_lo[v] = NONE;
}
