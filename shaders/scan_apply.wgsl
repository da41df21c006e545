// Scan step of a multi-level exclusive scan: scans each block of SCAN_BLOCK values in place and adds the
// block's offset (the scanned block sums of the level above) when there is one.
#import scan

@group(0) @binding(0) var<uniform> params: ScanParams;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read> block_offsets: array<u32>;

var<workgroup> sums: array<u32, SCAN_WG>;

@compute @workgroup_size(SCAN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let block = wid.y * nwg.x + wid.x;
    var v: array<u32, SCAN_PER_THREAD>;
    var total = 0u;
    for (var i = 0u; i < SCAN_PER_THREAD; i++) {
        let idx = block * SCAN_BLOCK + lid * SCAN_PER_THREAD + i;
        v[i] = 0u;
        if idx < params.count {
            v[i] = data[idx];
        }
        total += v[i];
    }
    sums[lid] = total;
    workgroupBarrier();
    for (var off = 1u; off < SCAN_WG; off *= 2u) {
        var add = 0u;
        if lid >= off {
            add = sums[lid - off];
        }
        workgroupBarrier();
        sums[lid] += add;
        workgroupBarrier();
    }
    var running = sums[lid] - total;
    if params.use_offsets != 0u {
        running += block_offsets[block];
    }
    for (var i = 0u; i < SCAN_PER_THREAD; i++) {
        let idx = block * SCAN_BLOCK + lid * SCAN_PER_THREAD + i;
        if idx < params.count {
            data[idx] = running;
        }
        running += v[i];
    }
}
