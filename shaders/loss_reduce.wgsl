// The loss of every map (one workgroup per map): invocation i adds up the shares of pixels i,
// i + WG, i + 2 WG, ... in turn; the first then adds the WG sums in order, then the cost of the
// features the map lacks in H0 and in H1.
#import params
#import loss

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> share: array<f32>;
@group(0) @binding(2) var<storage, read> selection: array<Selection>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let image = wid.y * nwg.x + wid.x;
    if image >= params.images {
        return;
    }
    let base = image * params.pixels;
    var sum = 0.0;
    for (var i = lid; i < params.pixels; i += WG) {
        sum += share[base + i];
    }
    partial[lid] = sum;
    workgroupBarrier();
    if lid == 0u {
        var total = 0.0;
        for (var j = 0u; j < WG; j++) {
            total += partial[j];
        }
        total += selection[image * 2u].missing;
        total += selection[image * 2u + 1u].missing;
        losses[image] = total;
    }
}
