// Each component's minimum outgoing edge, in three passes over the live edges. MODE 0: keeps the edges
// whose ends lie in different components (appended to edges_out, one atomic per workgroup) and takes
// the atomicMin of the key's high word at both roots; MODE 1: atomicMin of the low word among edges
// with the best high word; MODE 2: the edge equal to its root's best key writes the root across it.
// best_hi and best_lo hold the two words of each root's best key.
// Finding roots: the first pass of every round points each end of a live edge at its root, and the roots
// that hook are pointed at their new roots by pointer jumping, so at the start of a round an end of an
// edge that was live in the last round has its root as grandparent, and after the first pass as parent.
// The lists hold at most C_CAPACITY edges (the binding limit): past it the pass writes no list, the
// other two passes and the next round see every edge, implicitly, and follow parents to the root (an
// edge that died rounds ago may have an end deep in its tree).
#import params
#import control
#import grid

override MODE: u32 = 0u;

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read> rank: array<u32>;
@group(0) @binding(2) var<storage, read_write> parent: array<u32>;
@group(0) @binding(3) var<storage, read_write> best_hi: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> best_lo: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> far_root: array<u32>;
@group(0) @binding(6) var<storage, read_write> control: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read> edges_in: array<u32>;
@group(0) @binding(8) var<storage, read_write> edges_out: array<u32>;

var<workgroup> group_count: atomic<u32>;
var<workgroup> group_base: u32;

fn offer(root: u32, other: u32, key: vec2<u32>) {
    if MODE == 0u {
        atomicMin(&best_hi[root], key.x);
    } else if MODE == 1u {
        if atomicLoad(&best_hi[root]) == key.x {
            atomicMin(&best_lo[root], key.y);
        }
    } else if atomicLoad(&best_hi[root]) == key.x && atomicLoad(&best_lo[root]) == key.y {
        far_root[root] = other;
    }
}

// The root of v's tree. Parents only ever point at older ancestors, and a racing write (MODE 0 points
// ends at their roots) only shortens the path.
fn find(v: u32) -> u32 {
    var r = v;
    loop {
        let p = parent[r];
        if p == r {
            break;
        }
        r = p;
    }
    return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let id = linear_id(wid, nwg, lid);
    let all = params.images * params.edges;
    var edge = NONE;
    // every edge, implicitly: the first round after the vertex-local one, and after an overflow
    var implicit = false;
    if MODE == 0u {
        let n_in = atomicLoad(&control[C_EDGES_IN]);
        implicit = n_in == NONE;
        if implicit {
            if id < all {
                edge = id;
            }
        } else if id < n_in {
            edge = edges_in[id];
        }
    } else {
        let n_out = atomicLoad(&control[C_EDGES_OUT]);
        implicit = n_out > atomicLoad(&control[C_CAPACITY]);
        if implicit {
            if id < all {
                edge = id;
            }
        } else if id < n_out {
            edge = edges_out[id];
        }
    }
    var live = false;
    var ra = 0u;
    var rb = 0u;
    var key = vec2<u32>(0u, 0u);
    if edge != NONE {
        let image = edge / params.edges;
        let e = edge % params.edges;
        let ends = edge_vertices(e) + vec2<u32>(image * params.vertices);
        if MODE == 0u && !implicit {
            // listed edges were live in the last round: their ends' grandparents are roots
            ra = parent[parent[ends.x]];
            rb = parent[parent[ends.y]];
        } else if implicit {
            ra = find(ends.x);
            rb = find(ends.y);
        } else {
            ra = parent[ends.x];
            rb = parent[ends.y];
        }
        live = ra != rb;
        if MODE == 0u && live {
            parent[ends.x] = ra;
            parent[ends.y] = rb;
        }
        if live {
            key = edge_key(image, e);
        }
    }
    if MODE == 0u {
        if lid == 0u {
            atomicStore(&group_count, 0u);
        }
        workgroupBarrier();
        var slot = 0u;
        if live {
            slot = atomicAdd(&group_count, 1u);
        }
        workgroupBarrier();
        if lid == 0u {
            group_base = atomicAdd(&control[C_EDGES_OUT], atomicLoad(&group_count));
        }
        workgroupBarrier();
        if live && group_base + slot < atomicLoad(&control[C_CAPACITY]) {
            edges_out[group_base + slot] = edge;
        }
    }
    if live {
        offer(ra, rb, key);
        offer(rb, ra, key);
    }
}
