// The pair records of one graph counted per item of the batch (one invocation per record): a
// resident plan's per-image counts, `counts[2 * image + dim]`. The counts are cleared before.
#import params
#import control
#import records
#import counts

@group(0) @binding(0) var<uniform> params: CountParams;
@group(0) @binding(1) var<storage, read> records: array<PairRecord>;
@group(0) @binding(2) var<storage, read> control: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let r = linear_id(wid, nwg, lid);
    if r >= min(control[C_PAIRS], params.capacity) {
        return;
    }
    let image = records[r].image;
    if image < params.images {
        atomicAdd(&counts[image * 2u + params.dim], 1u);
    }
}
