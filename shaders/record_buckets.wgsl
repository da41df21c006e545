// Every record of one graph placed in its item's segment of the bucket list (one invocation per
// record): at the segment's offset plus a slot taken with an atomic cursor (cleared before). The order
// within a segment is any: loss_select orders the features by their key. So each workgroup of
// loss_select reads its own item's records, not the whole batch's.
#import params
#import control
#import records
#import counts

@group(0) @binding(0) var<uniform> params: CountParams;
@group(0) @binding(1) var<storage, read> records: array<PairRecord>;
@group(0) @binding(2) var<storage, read> control: array<u32>;
@group(0) @binding(3) var<storage, read> segments: array<u32>;
@group(0) @binding(4) var<storage, read_write> cursor: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> bucket: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let r = linear_id(wid, nwg, lid);
    if r >= min(control[C_PAIRS], params.capacity) {
        return;
    }
    let image = records[r].image;
    if image >= params.images {
        return;
    }
    let key = image * 2u + params.dim;
    let slot = segments[key] + atomicAdd(&cursor[key], 1u);
    if slot < arrayLength(&bucket) {
        bucket[slot] = r;
    }
}
