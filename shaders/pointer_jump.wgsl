// Points every root that hooked in this round (listed from the end of `hooked` backwards)
// straight at the root of its tree, in one dispatch. Hooks only go from a younger root to an older one,
// so the chains are acyclic and short (they follow best edges of one round). Racing updates are benign:
// a thread writes only its own vertex, and every value another thread reads there is an ancestor.
// Other vertices are not visited: boruvka_select points the ends of live edges at their roots itself.
#import params
#import control

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read_write> parent: array<u32>;
@group(0) @binding(2) var<storage, read_write> control: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> hooked: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let id = linear_id(wid, nwg, lid);
    if id >= atomicLoad(&control[C_HOOKED]) {
        return;
    }
    let v = hooked[params.images * params.vertices - 1u - id];
    var r = parent[v];
    loop {
        let p = parent[r];
        if p == r {
            break;
        }
        r = p;
    }
    parent[v] = r;
}
