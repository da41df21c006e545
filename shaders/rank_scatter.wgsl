// From the sorted payload (global pixel indices, grouped by image): each pixel's rank within its image
// and each image's order (image-local pixel at each rank).
#import dispatch

struct RankParams {
    count: u32,
    pixels: u32,
}

@group(0) @binding(0) var<uniform> params: RankParams;
@group(0) @binding(1) var<storage, read> sorted_payload: array<u32>;
@group(0) @binding(2) var<storage, read_write> rank: array<u32>;
@group(0) @binding(3) var<storage, read_write> order: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if i >= params.count {
        return;
    }
    let p = sorted_payload[i];
    let image_base = (p / params.pixels) * params.pixels;
    rank[p] = i - image_base;
    order[i] = p - image_base;
}
