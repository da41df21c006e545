// The dense gradient from contributions sorted by pixel: the first contribution of each pixel's run
// adds up the run in order (no float atomics, so the same bits every run, and the same as the CPU)
// and writes the pixel. The gradient buffer is cleared before.
#import dispatch

struct ScatterParams {
    count: u32,
    pixels: u32,
}

@group(0) @binding(0) var<uniform> params: ScatterParams;
@group(0) @binding(1) var<storage, read> pixel: array<u32>;
@group(0) @binding(2) var<storage, read> value: array<f32>;
@group(0) @binding(3) var<storage, read_write> gradient: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if i >= params.count {
        return;
    }
    let p = pixel[i];
    if (i > 0u && pixel[i - 1u] == p) || p >= params.pixels {
        return;
    }
    var sum = 0.0;
    var j = i;
    while j < params.count && pixel[j] == p {
        sum += value[j];
        j += 1u;
    }
    gradient[p] = sum;
}
