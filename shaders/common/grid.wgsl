// The six image graphs and four volume graphs of src/grid.rs, line for line. Needs
// `params: GraphParams` and `rank: array<u32>` (pixel ranks of the whole batch) in the including shader.

// GraphParams.kind (src/grid.rs's GraphKind takes its values from these)
const KIND_V_PRIMAL: u32 = 0u;
const KIND_V_DUAL: u32 = 1u;
const KIND_T_PRIMAL: u32 = 2u;
const KIND_T_DUAL: u32 = 3u;
const KIND_F_PRIMAL: u32 = 4u;
const KIND_F_DUAL: u32 = 5u;
const KIND_V3_PRIMAL: u32 = 6u;
const KIND_V3_DUAL: u32 = 7u;
const KIND_T3_PRIMAL: u32 = 8u;
const KIND_T3_DUAL: u32 = 9u;

fn is_dual() -> bool {
    let k = params.kind;
    return k == KIND_V_DUAL || k == KIND_T_DUAL || k == KIND_F_DUAL || k == KIND_V3_DUAL || k == KIND_T3_DUAL;
}

// Set when the pipeline is made for volume graphs (kinds 6-9): image pipelines then carry no volume
// code, which on a CPU adapter made every image kernel slower and every context slower to create.
override VOLUME: bool = false;

fn is_volume() -> bool {
    return VOLUME;
}

fn squares() -> u32 {
    return (params.height - 1u) * (params.width - 1u);
}

fn n_horizontal() -> u32 {
    return params.height * (params.width - 1u);
}

fn n_vertical() -> u32 {
    return (params.height - 1u) * params.width;
}

// Pixels at the ends of edge e and, for the T dual's boundary edges, (pixel, NONE, side).
fn edge_pixels(e_in: u32) -> vec3<u32> {
    let w = params.width;
    let h = params.height;
    let nh = n_horizontal();
    let nv = n_vertical();
    var e = e_in;
    if e < nh {
        let p = (e / (w - 1u)) * w + e % (w - 1u);
        return vec3<u32>(p, p + 1u, 0u);
    }
    e = e - nh;
    if e < nv {
        return vec3<u32>(e, e + w, 0u);
    }
    e = e - nv;
    if params.kind == KIND_T_DUAL {
        if e < w {
            return vec3<u32>(e, NONE, 0u);
        }
        if e < 2u * w {
            return vec3<u32>((h - 1u) * w + (e - w), NONE, 1u);
        }
        if e < 2u * w + h {
            return vec3<u32>((e - 2u * w) * w, NONE, 2u);
        }
        return vec3<u32>((e - 2u * w - h) * w + w - 1u, NONE, 3u);
    }
    let ns = squares();
    let s = e % ns;
    let p = (s / (w - 1u)) * w + s % (w - 1u);
    if e < ns {
        return vec3<u32>(p, p + w + 1u, 0u);
    }
    return vec3<u32>(p + 1u, p + w, 0u);
}

// The two (image-local) vertices joined by edge e.
fn edge_vertices(e: u32) -> vec2<u32> {
    if is_volume() {
        return volume_edge_vertices(e);
    }
    let ends = edge_pixels(e);
    let k = params.kind;
    if k == KIND_V_PRIMAL || k == KIND_T_PRIMAL || k == KIND_F_PRIMAL {
        return ends.xy;
    }
    if k == KIND_T_DUAL {
        return vec2<u32>(ends.x, select(ends.y, params.pixels, ends.y == NONE));
    }
    let w = params.width;
    let h = params.height;
    let ext = params.vertices - 1u;
    let y = ends.x / w;
    let x = ends.x % w;
    let f = k == KIND_F_DUAL;
    if e < n_horizontal() {
        var a = ext;
        var b = ext;
        if y > 0u {
            let s = (y - 1u) * (w - 1u) + x;
            a = select(s, 2u * s + 1u, f);
        }
        if y < h - 1u {
            let s = y * (w - 1u) + x;
            b = select(s, 2u * s, f);
        }
        return vec2<u32>(a, b);
    }
    if e < n_horizontal() + n_vertical() {
        var a = ext;
        var b = ext;
        if x > 0u {
            let s = y * (w - 1u) + x - 1u;
            a = select(s, 2u * s, f);
        }
        if x < w - 1u {
            let s = y * (w - 1u) + x;
            b = select(s, 2u * s + 1u, f);
        }
        return vec2<u32>(a, b);
    }
    let s = y * (w - 1u) + x;
    return vec2<u32>(2u * s, 2u * s + 1u);
}

fn rank_of(image: u32, p: u32) -> u32 {
    return rank[image * params.pixels + p];
}

// Primal filtration key (hi, lo) of edge e; hi is the rank of the pixel whose value the edge takes.
fn primal_edge_key(image: u32, e: u32) -> vec2<u32> {
    let ends = edge_pixels(e);
    let ra = rank_of(image, ends.x);
    if params.kind == KIND_T_DUAL {
        if ends.y == NONE {
            return vec2<u32>(ra, params.pixels + ends.z);
        }
        let rb = rank_of(image, ends.y);
        return vec2<u32>(min(ra, rb), max(ra, rb));
    }
    let rb = rank_of(image, ends.y);
    return vec2<u32>(max(ra, rb), min(ra, rb));
}

// Processing key: the primal key, complemented for the dual graphs.
fn edge_key(image: u32, e: u32) -> vec2<u32> {
    if is_volume() {
        return volume_edge_key(image, e);
    }
    let k = primal_edge_key(image, e);
    if is_dual() {
        return ~k;
    }
    return k;
}

// Primal key of a dual vertex (top cell): V 4*M+corner, F 8*M+3*type+corner, T M.
fn primal_cell_key(image: u32, v: u32) -> u32 {
    let w = params.width;
    if params.kind == KIND_V_DUAL {
        let p = (v / (w - 1u)) * w + v % (w - 1u);
        var corners = array<u32, 4>(p, p + 1u, p + w, p + w + 1u);
        var m = 0u;
        var t = 0u;
        for (var c = 0u; c < 4u; c++) {
            let r = rank_of(image, corners[c]);
            if c == 0u || r > m {
                m = r;
                t = c;
            }
        }
        return 4u * m + t;
    }
    if params.kind == KIND_F_DUAL {
        let s = v / 2u;
        let ty = v % 2u;
        let p = (s / (w - 1u)) * w + s % (w - 1u);
        var corners = array<u32, 3>(p, select(p + 1u, p + w, ty == 1u), p + w + 1u);
        var m = 0u;
        var t = 0u;
        for (var c = 0u; c < 3u; c++) {
            let r = rank_of(image, corners[c]);
            if c == 0u || r > m {
                m = r;
                t = c;
            }
        }
        return 8u * m + 3u * ty + t;
    }
    return rank_of(image, v);
}

// Birth key (lower = older) of image-local vertex v.
fn vertex_key(image: u32, v: u32) -> u32 {
    if is_volume() {
        return volume_vertex_key(image, v);
    }
    if !is_dual() {
        return rank_of(image, v);
    }
    if v == params.vertices - 1u {
        return 0u;
    }
    return ~primal_cell_key(image, v);
}

// Rank of the pixel whose value a dual vertex takes, from its birth key.
fn cell_pixel_rank(vkey: u32) -> u32 {
    let k = ~vkey;
    if params.kind == KIND_V_DUAL {
        return k / 4u;
    }
    if params.kind == KIND_F_DUAL {
        return k / 8u;
    }
    if is_volume() {
        return k / SLOTS;
    }
    return k;
}

// Rank of the pixel whose value vertex v (birth key vkey) takes: its birth in a primal graph, its
// death in a dual one.
fn vertex_rank(vkey: u32) -> u32 {
    if is_dual() {
        return cell_pixel_rank(vkey);
    }
    if is_volume() {
        return vkey / SLOTS;
    }
    return vkey;
}

// The edges incident to image-local vertex v (not the exterior cell), at most 8; returns how many.
fn incident_edges(v: u32, out: ptr<function, array<u32, 8>>) -> u32 {
    if is_volume() {
        return volume_incident_edges(v, out);
    }
    let w = params.width;
    let h = params.height;
    let nh = n_horizontal();
    let nv = n_vertical();
    let ns = squares();
    let k = params.kind;
    var n = 0u;
    if k == KIND_V_DUAL || k == KIND_F_DUAL {
        var s = v;
        if k == KIND_F_DUAL {
            s = v / 2u;
        }
        let y = s / (w - 1u);
        let x = s % (w - 1u);
        if k == KIND_V_DUAL {
            (*out)[0] = y * (w - 1u) + x;
            (*out)[1] = (y + 1u) * (w - 1u) + x;
            (*out)[2] = nh + y * w + x;
            (*out)[3] = nh + y * w + x + 1u;
            return 4u;
        }
        if v % 2u == 0u {
            (*out)[0] = y * (w - 1u) + x;
            (*out)[1] = nh + y * w + x + 1u;
        } else {
            (*out)[0] = nh + y * w + x;
            (*out)[1] = (y + 1u) * (w - 1u) + x;
        }
        (*out)[2] = nh + nv + s;
        return 3u;
    }
    // a pixel: its 4-, 6- or 8-neighbourhood edges (T dual: 4, plus one per boundary side)
    let y = v / w;
    let x = v % w;
    if x + 1u < w {
        (*out)[n] = y * (w - 1u) + x;
        n += 1u;
    }
    if x > 0u {
        (*out)[n] = y * (w - 1u) + x - 1u;
        n += 1u;
    }
    if y + 1u < h {
        (*out)[n] = nh + v;
        n += 1u;
    }
    if y > 0u {
        (*out)[n] = nh + v - w;
        n += 1u;
    }
    if k == KIND_T_PRIMAL || k == KIND_F_PRIMAL {
        if y + 1u < h && x + 1u < w {
            (*out)[n] = nh + nv + y * (w - 1u) + x;
            n += 1u;
        }
        if y > 0u && x > 0u {
            (*out)[n] = nh + nv + (y - 1u) * (w - 1u) + x - 1u;
            n += 1u;
        }
    }
    if k == KIND_T_PRIMAL {
        if y + 1u < h && x > 0u {
            (*out)[n] = nh + nv + ns + y * (w - 1u) + x - 1u;
            n += 1u;
        }
        if y > 0u && x + 1u < w {
            (*out)[n] = nh + nv + ns + (y - 1u) * (w - 1u) + x;
            n += 1u;
        }
    }
    if k == KIND_T_DUAL {
        let b = nh + nv;
        if y == 0u {
            (*out)[n] = b + x;
            n += 1u;
        }
        if y + 1u == h {
            (*out)[n] = b + w + x;
            n += 1u;
        }
        if x == 0u {
            (*out)[n] = b + 2u * w + y;
            n += 1u;
        }
        if x + 1u == w {
            (*out)[n] = b + 2u * w + h + y;
            n += 1u;
        }
    }
    return n;
}

// ---- Volume graphs: cell-level graphs of the V or T cubical complex (src/grid.rs has the naming) ----

// A volume cell's key is SLOTS * rank + slot, slot = (oz+1)*9 + (oy+1)*3 + (ox+1) for its offset
// from the voxel it enters at.
const SLOTS: u32 = 27u;

fn is_t3() -> bool {
    return params.kind == KIND_T3_PRIMAL || params.kind == KIND_T3_DUAL;
}

// Vertex grid of the complex, (z, y, x).
fn complex_shape() -> vec3<u32> {
    let t = select(0u, 1u, is_t3());
    return vec3<u32>(params.depth + t, params.height + t, params.width + t);
}

fn cube_shape() -> vec3<u32> {
    return max(complex_shape(), vec3<u32>(1u)) - vec3<u32>(1u);
}

fn vertex_coordinates(v: u32) -> vec3<u32> {
    let s = complex_shape();
    return vec3<u32>(v / (s.y * s.z), (v / s.z) % s.y, v % s.z);
}

fn vertex_stride() -> vec3<u32> {
    let s = complex_shape();
    return vec3<u32>(s.y * s.z, s.z, 1u);
}

fn cube_index(k: vec3<u32>) -> u32 {
    let c = cube_shape();
    return (k.x * c.y + k.y) * c.z + k.z;
}

// (rank, slot) of the voxel a cell (Khalimsky coordinates k) enters at: the last of its vertices
// (V) or the first of the voxels around it (T).
fn cell_entry(image: u32, k: vec3<u32>) -> vec2<u32> {
    let t = is_t3();
    let size = vec3<u32>(params.depth, params.height, params.width);
    var lo = vec3<u32>(0u);
    var count = vec3<u32>(1u);
    for (var i = 0u; i < 3u; i++) {
        let odd = (k[i] & 1u) == 1u;
        let h = k[i] / 2u;
        lo[i] = h;
        if !t && odd {
            count[i] = 2u;
        } else if t && !odd {
            let first = select(0u, h - 1u, h >= 1u);
            let last = min(h, size[i] - 1u);
            lo[i] = first;
            count[i] = last + 1u - first;
        }
    }
    var best = vec2<u32>(0u, 0u);
    var found = false;
    for (var dz = 0u; dz < count.x; dz++) {
        for (var dy = 0u; dy < count.y; dy++) {
            for (var dx = 0u; dx < count.z; dx++) {
                let p = lo + vec3<u32>(dz, dy, dx);
                let r = rank_of(image, (p.x * params.height + p.y) * params.width + p.z);
                if !found || (t && r < best.x) || (!t && r > best.x) {
                    let o = vec3<i32>(k) - 2 * vec3<i32>(p) - vec3<i32>(select(0, 1, t)) + vec3<i32>(1);
                    best = vec2<u32>(r, u32(o.x * 9 + o.y * 3 + o.z));
                    found = true;
                }
            }
        }
    }
    return best;
}

// Whether volume edge id e names a cell (an edge, or a square for a dual graph) inside the grid.
fn volume_edge_valid(e: u32) -> bool {
    let a = e % 3u;
    let c = vertex_coordinates(e / 3u);
    let s = complex_shape();
    let dual = is_dual();
    for (var i = 0u; i < 3u; i++) {
        if (i == a) != dual && c[i] + 1u >= s[i] {
            return false;
        }
    }
    return true;
}

fn volume_edge_vertices(e: u32) -> vec2<u32> {
    let ext = params.vertices - 1u;
    if !volume_edge_valid(e) {
        let v = select(e / 3u, ext, is_dual());
        return vec2<u32>(v, v);
    }
    let a = e % 3u;
    if !is_dual() {
        return vec2<u32>(e / 3u, e / 3u + vertex_stride()[a]);
    }
    let c = vertex_coordinates(e / 3u);
    var below = ext;
    var above = ext;
    if c[a] >= 1u {
        var k = c;
        k[a] = k[a] - 1u;
        below = cube_index(k);
    }
    if c[a] < cube_shape()[a] {
        above = cube_index(c);
    }
    return vec2<u32>(below, above);
}

fn volume_edge_key(image: u32, e: u32) -> vec2<u32> {
    if !volume_edge_valid(e) {
        return vec2<u32>(NONE, NONE);
    }
    let a = e % 3u;
    let dual = is_dual();
    var k = 2u * vertex_coordinates(e / 3u);
    for (var i = 0u; i < 3u; i++) {
        if (i == a) != dual {
            k[i] = k[i] + 1u;
        }
    }
    let key = cell_entry(image, k);
    if dual {
        return ~key;
    }
    return key;
}

fn volume_vertex_key(image: u32, v: u32) -> u32 {
    if !is_dual() {
        let e = cell_entry(image, 2u * vertex_coordinates(v));
        return SLOTS * e.x + e.y;
    }
    if v == params.vertices - 1u {
        return 0u;
    }
    let c = cube_shape();
    let k = vec3<u32>(v / (c.y * c.z), (v / c.z) % c.y, v % c.z);
    let e = cell_entry(image, 2u * k + vec3<u32>(1u));
    return ~(SLOTS * e.x + e.y);
}

fn volume_incident_edges(v: u32, out: ptr<function, array<u32, 8>>) -> u32 {
    let stride = vertex_stride();
    var n = 0u;
    if is_dual() {
        let c = cube_shape();
        let k = vec3<u32>(v / (c.y * c.z), (v / c.z) % c.y, v % c.z);
        let base = k.x * stride.x + k.y * stride.y + k.z;
        for (var a = 0u; a < 3u; a++) {
            (*out)[n] = 3u * base + a;
            (*out)[n + 1u] = 3u * (base + stride[a]) + a;
            n += 2u;
        }
        return n;
    }
    let c = vertex_coordinates(v);
    let s = complex_shape();
    for (var a = 0u; a < 3u; a++) {
        if c[a] + 1u < s[a] {
            (*out)[n] = 3u * v + a;
            n += 1u;
        }
        if c[a] > 0u {
            (*out)[n] = 3u * (v - stride[a]) + a;
            n += 1u;
        }
    }
    return n;
}
