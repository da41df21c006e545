// Every dead vertex becomes one pair record (and, in a primal graph, every root an essential class),
// appended with an atomic counter; pairs whose birth and death values are equal are dropped unless
// asked for. `records` holds one record per vertex (where that would not fit one binding, the engine
// compacts on the host instead: src/cpu/ports/compact_pairs.rs), so the guard below never drops one. The
// host orders the records (their order keys are unique). For a volume graph the record
// also names the cell that merged (its slot, above the dimension's 8 bits), for H1 on the host.
#import params
#import control
#import grid
#import records

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read> rank: array<u32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> keys: array<u32>;
@group(0) @binding(4) var<storage, read> vkey: array<u32>;
@group(0) @binding(5) var<storage, read> best_hi: array<u32>;
@group(0) @binding(6) var<storage, read> best_lo: array<u32>;
@group(0) @binding(7) var<storage, read_write> records: array<PairRecord>;
@group(0) @binding(8) var<storage, read_write> control: array<atomic<u32>>;

fn append(record: PairRecord) {
    let slot = atomicAdd(&control[C_PAIRS], 1u);
    if slot < arrayLength(&records) {
        records[slot] = record;
    }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let v = linear_id(wid, nwg, lid);
    if v >= params.images * params.vertices {
        return;
    }
    let image = v / params.vertices;
    let local_v = v % params.vertices;
    let base = image * params.pixels;
    // once the pairing is done, a vertex's best key is the key of the edge it died at, or NONE for
    // the roots
    let hi = best_hi[v];
    let lo = best_lo[v];
    let own_rank = vertex_rank(vkey[v]);
    if hi == NONE && lo == NONE {
        if !is_dual() {
            append(PairRecord(image, 0u, NONE, NONE, order[base + own_rank], NONE));
        }
        return;
    }
    // ordered by the rank of the death pixel, then of the birth pixel
    var birth_rank = own_rank;
    var death_rank = hi;
    // dimension (H1 of an image, H2 of a volume); for a volume, the slot of the merging cell above it
    var dim = 0u;
    if is_volume() {
        dim = lo << 8u;
    }
    if is_dual() {
        birth_rank = ~hi;
        death_rank = own_rank;
        dim = select(1u, 2u | ((~lo) << 8u), is_volume());
    }
    let r = PairRecord(image, dim, death_rank, birth_rank,
                       order[base + birth_rank], order[base + death_rank]);
    if (params.flags & 1u) == 0u && keys[base + r.birth_index] == keys[base + r.death_index] {
        return;
    }
    append(r);
}
