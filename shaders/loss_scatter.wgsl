// Places the two entries of every feature of one graph (one invocation per record) in the lists of
// its birth and its death pixel: at the list's offset (the exclusive scan of the counts) plus a slot
// taken with an atomic cursor. The order within a list is any: loss_gather orders it.
#import params
#import control
#import loss

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> records: array<PairRecord>;
@group(0) @binding(2) var<storage, read> control: array<u32>;
@group(0) @binding(3) var<storage, read> selection: array<Selection>;
@group(0) @binding(4) var<storage, read> terms: array<Term>;
@group(0) @binding(5) var<storage, read> offsets: array<u32>;
@group(0) @binding(6) var<storage, read_write> cursor: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> entries: array<u32>;

fn place(pixel: u32, entry: u32) {
    let slot = offsets[pixel] + atomicAdd(&cursor[pixel], 1u);
    if slot < arrayLength(&entries) {
        entries[slot] = entry;
    }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let r = linear_id(wid, nwg, lid);
    if r >= min(control[C_PAIRS], params.capacity) || (terms[r].flags & TERM_FEATURE) == 0u {
        return;
    }
    let rec = records[r];
    let base = rec.image * params.pixels;
    var d = rec.death_index;
    if d == NONE {
        d = selection[rec.image * 2u + params.dim].last;
    }
    var entry = r;
    if params.dim == 1u {
        entry |= ENTRY_DIM1;
    }
    place(base + rec.birth_index, entry);
    place(base + d, entry | ENTRY_DEATH);
}
