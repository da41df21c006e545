// The first hooking round, vertex by vertex: every component is still a single vertex, so each vertex
// finds its minimum edge among its own few incident edges (no atomics, no pass over the edges) and
// hooks onto the vertex across it if it is younger. Same result as boruvka_select + boruvka_hook on
// singletons; the lists it writes are the ones boruvka_hook writes, and the death key of a vertex that
// hooks goes where boruvka_hook keeps it (best_hi, best_lo).
#import params
#import control
#import grid

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read> rank: array<u32>;
@group(0) @binding(2) var<storage, read_write> parent: array<u32>;
@group(0) @binding(3) var<storage, read> vkey: array<u32>;
@group(0) @binding(4) var<storage, read_write> best_hi: array<u32>;
@group(0) @binding(5) var<storage, read_write> best_lo: array<u32>;
@group(0) @binding(6) var<storage, read_write> control: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> roots_out: array<u32>;

fn less(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.x < b.x || (a.x == b.x && a.y < b.y);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let id = linear_id(wid, nwg, lid);
    let total = params.images * params.vertices;
    if id >= total {
        return;
    }
    let image = id / params.vertices;
    let v = id % params.vertices;
    if is_dual() && v == params.vertices - 1u {
        // the exterior is the oldest vertex: it never hooks, it waits (and its best key is reset)
        roots_out[atomicAdd(&control[C_ROOTS_OUT], 1u)] = id;
        return;
    }
    var edges: array<u32, 8>;
    let n = incident_edges(v, &edges);
    var best = vec2<u32>(NONE, NONE);
    var other = NONE;
    for (var i = 0u; i < n; i++) {
        let e = edges[i];
        let ends = edge_vertices(e);
        let u = select(ends.x, ends.y, ends.x == v);
        let key = edge_key(image, e);
        if u != v && less(key, best) {
            best = key;
            other = u;
        }
    }
    if other == NONE {
        return; // an isolated vertex (a 1x1 image): nothing to merge
    }
    let t = image * params.vertices + other;
    if vkey[id] > vkey[t] {
        parent[id] = t;
        best_hi[id] = best.x;
        best_lo[id] = best.y;
        atomicAdd(&control[C_HOOKS], 1u);
        roots_out[total - 1u - atomicAdd(&control[C_HOOKED], 1u)] = id;
    } else {
        roots_out[atomicAdd(&control[C_ROOTS_OUT], 1u)] = id;
    }
}
