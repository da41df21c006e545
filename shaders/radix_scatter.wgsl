// Scatter step of one radix pass, stable: each invocation owns 8 consecutive keys of the tile; the
// per-invocation digit counts, laid out digit-major and scanned, give each key's place among the
// tile's keys of its digit; the scanned histogram gives the tile's place in the output.
#import sort

@group(0) @binding(0) var<uniform> params: SortParams;
@group(0) @binding(1) var<storage, read> keys_in: array<u32>;
@group(0) @binding(2) var<storage, read> payload_in: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> keys_out: array<u32>;
@group(0) @binding(5) var<storage, read_write> payload_out: array<u32>;

var<workgroup> flat: array<u32, RADIX * SORT_WG>; // [digit * SORT_WG + invocation]
var<workgroup> sums: array<u32, SORT_WG>;

@compute @workgroup_size(SORT_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let tile = tile_id(wid, nwg);
    let first = tile * TILE + lid * PER_THREAD;
    var count: array<u32, RADIX>;
    var digits: array<u32, PER_THREAD>;
    for (var d = 0u; d < RADIX; d++) {
        count[d] = 0u;
    }
    for (var i = 0u; i < PER_THREAD; i++) {
        let idx = first + i;
        digits[i] = RADIX;
        if tile < params.tiles && idx < params.count {
            let d = digit_of(keys_in[idx], payload_in[idx]);
            digits[i] = d;
            count[d] += 1u;
        }
    }
    for (var d = 0u; d < RADIX; d++) {
        flat[d * SORT_WG + lid] = count[d];
    }
    workgroupBarrier();
    // exclusive scan of flat: RADIX consecutive entries per invocation, then across invocations
    var total = 0u;
    for (var j = 0u; j < RADIX; j++) {
        total += flat[lid * RADIX + j];
    }
    sums[lid] = total;
    workgroupBarrier();
    for (var off = 1u; off < SORT_WG; off *= 2u) {
        var add = 0u;
        if lid >= off {
            add = sums[lid - off];
        }
        workgroupBarrier();
        sums[lid] += add;
        workgroupBarrier();
    }
    var running = sums[lid] - total;
    for (var j = 0u; j < RADIX; j++) {
        let c = flat[lid * RADIX + j];
        flat[lid * RADIX + j] = running;
        running += c;
    }
    workgroupBarrier();
    if tile >= params.tiles {
        return;
    }
    var seen: array<u32, RADIX>;
    for (var d = 0u; d < RADIX; d++) {
        seen[d] = 0u;
    }
    for (var i = 0u; i < PER_THREAD; i++) {
        let d = digits[i];
        if d < RADIX {
            let within = flat[d * SORT_WG + lid] - flat[d * SORT_WG] + seen[d];
            seen[d] += 1u;
            let dest = offsets[d * params.tiles + tile] + within;
            keys_out[dest] = keys_in[first + i];
            payload_out[dest] = payload_in[first + i];
        }
    }
}
