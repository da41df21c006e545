// Reduce step of a multi-level exclusive scan: the sum of each block of SCAN_BLOCK values.
#import scan

@group(0) @binding(0) var<uniform> params: ScanParams;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> block_sums: array<u32>;

var<workgroup> partial: array<u32, SCAN_WG>;

@compute @workgroup_size(SCAN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let block = wid.y * nwg.x + wid.x;
    var s = 0u;
    for (var i = 0u; i < SCAN_PER_THREAD; i++) {
        let idx = block * SCAN_BLOCK + lid * SCAN_PER_THREAD + i;
        if idx < params.count {
            s += data[idx];
        }
    }
    partial[lid] = s;
    workgroupBarrier();
    for (var off = SCAN_WG / 2u; off > 0u; off /= 2u) {
        if lid < off {
            partial[lid] += partial[lid + off];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        block_sums[block] = partial[0];
    }
}
