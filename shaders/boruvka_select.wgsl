// Each component's minimum outgoing edge, in three passes over the edges (MODE 0: atomicMin of the
// key's high word; 1: of the low word among edges with the best high word; 2: the edge equal to the
// best key writes the root across it). Parents are compressed, so parent[v] is v's root.
#import params
#import grid

override MODE: u32 = 0u;

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read> rank: array<u32>;
@group(0) @binding(2) var<storage, read> parent: array<u32>;
@group(0) @binding(3) var<storage, read_write> best_hi: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> best_lo: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> far_root: array<u32>;

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

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let id = linear_id(wid, nwg, lid);
    if id >= params.images * params.edges {
        return;
    }
    let image = id / params.edges;
    let e = id % params.edges;
    let ends = edge_vertices(e) + vec2<u32>(image * params.vertices);
    let ra = parent[ends.x];
    let rb = parent[ends.y];
    if ra == rb {
        return;
    }
    let key = edge_key(image, e);
    offer(ra, rb, key);
    offer(rb, ra, key);
}
