// Order-preserving u32 keys of the f32 pixels (negated for the superlevel filtration; -0.0 as +0.0),
// and the identity payload the sort carries.
#import dispatch

struct KeyParams {
    count: u32,
    superlevel: u32,
}

@group(0) @binding(0) var<uniform> params: KeyParams;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;
@group(0) @binding(3) var<storage, read_write> payload: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if i >= params.count {
        return;
    }
    var x = values[i];
    if params.superlevel != 0u {
        x = -x;
    }
    var bits = bitcast<u32>(x);
    if x == 0.0 {
        bits = 0u;
    }
    keys[i] = select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
    payload[i] = i;
}
