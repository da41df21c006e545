// Reduce step of one radix pass: digit counts of each tile, stored digit-major (hist[d * tiles + t])
// so that one exclusive scan gives every tile's output offset for every digit.
#import sort

@group(0) @binding(0) var<uniform> params: SortParams;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read> payload: array<u32>;
@group(0) @binding(3) var<storage, read_write> hist: array<u32>;

var<workgroup> counts: array<atomic<u32>, 16>;

@compute @workgroup_size(SORT_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let tile = tile_id(wid, nwg);
    if lid < RADIX {
        atomicStore(&counts[lid], 0u);
    }
    workgroupBarrier();
    if tile < params.tiles {
        for (var i = 0u; i < PER_THREAD; i++) {
            let idx = tile * TILE + i * SORT_WG + lid;
            if idx < params.count {
                atomicAdd(&counts[digit_of(keys[idx], payload[idx])], 1u);
            }
        }
    }
    workgroupBarrier();
    if tile < params.tiles && lid < RADIX {
        hist[lid * params.tiles + tile] = atomicLoad(&counts[lid]);
    }
}
