// Apparent pairs of H1 of a volume: a square q and its youngest facet e form one when q is also the
// oldest cofacet of e (Bauer's apparent pairs: such a pair is a persistence pair, and the reduction
// finds it without adding a column). Cells are ordered by (entry voxel's rank, slot), as the sweeps
// order them. Squares and edges are named as in the volume graphs: 3 * base vertex + axis (the square's
// closed axis, the edge's open axis). One invocation writes one word of 8 squares, 4 bits each: bit 3
// set when the square is apparent, bits 0-1 the index of its youngest facet in the order
// cpu::volume's boundary lists them (along the second open axis at the base and one step along the
// first, then along the first open axis at the base and one step along the second). Compiled with
// VOLUME set; params are those of the dual graph (kind V3Dual or T3Dual), whose edges are the squares.
#import params
#import grid

// A square's nibble: APPARENT set when it is apparent, the low two bits its youngest facet's index.
const APPARENT: u32 = 8u;
const SQUARES_PER_WORD: u32 = 8u;

@group(0) @binding(0) var<uniform> params: GraphParams;
@group(0) @binding(1) var<storage, read> rank: array<u32>;
@group(0) @binding(2) var<storage, read_write> apparent: array<u32>;

// Key of a cell: SLOTS * entry rank + slot (fits u32: the engine checks 27 keys per voxel).
fn cell_key(image: u32, k: vec3<u32>) -> u32 {
    let e = cell_entry(image, k);
    return SLOTS * e.x + e.y;
}

// Whether the square with closed axis a at vertex c lies in the complex.
fn square_fits(c: vec3<u32>, a: u32) -> bool {
    let s = complex_shape();
    for (var i = 0u; i < 3u; i++) {
        if i != a && c[i] + 1u >= s[i] {
            return false;
        }
    }
    return true;
}

fn unit(i: u32) -> vec3<u32> {
    var u = vec3<u32>(0u);
    u[i] = 1u;
    return u;
}

// 4 bits of square q (image-local id) of `image`.
fn square_bits(image: u32, q: u32) -> u32 {
    let a = q % 3u;
    let c = vertex_coordinates(q / 3u);
    if !square_fits(c, a) {
        return 0u;
    }
    let i0 = select(0u, 1u, a == 0u);
    let i1 = select(2u, 1u, a == 2u);
    let square = cell_key(image, 2u * c + unit(i0) + unit(i1));
    // the facets, in boundary order: (base vertex, open axis)
    var base = array<vec3<u32>, 4>(c, c + unit(i0), c, c + unit(i1));
    var axis = array<u32, 4>(i1, i1, i0, i0);
    var youngest = 0u;
    var youngest_key = 0u;
    for (var f = 0u; f < 4u; f++) {
        let key = cell_key(image, 2u * base[f] + unit(axis[f]));
        if f == 0u || key > youngest_key {
            youngest = f;
            youngest_key = key;
        }
    }
    // the cofacets of that edge: squares spanned by it and another axis m, on either side along m
    let e = base[youngest];
    let j = axis[youngest];
    for (var m = 0u; m < 3u; m++) {
        if m == j {
            continue;
        }
        let closed = 3u - j - m;
        for (var side = 0u; side < 2u; side++) {
            if side == 1u && e[m] == 0u {
                continue;
            }
            let b = e - side * unit(m);
            if !square_fits(b, closed) {
                continue;
            }
            if cell_key(image, 2u * b + unit(j) + unit(m)) < square {
                return youngest;
            }
        }
    }
    return APPARENT | youngest;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let w = linear_id(wid, nwg, lid);
    let per_image = (params.edges + SQUARES_PER_WORD - 1u) / SQUARES_PER_WORD;
    if w >= params.images * per_image {
        return;
    }
    let image = w / per_image;
    let first = (w % per_image) * SQUARES_PER_WORD;
    var word = 0u;
    for (var s = 0u; s < SQUARES_PER_WORD; s++) {
        if first + s < params.edges {
            word |= square_bits(image, first + s) << (4u * s);
        }
    }
    apparent[w] = word;
}
