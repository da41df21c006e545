// The six graphs of src/grid.rs, line for line. Needs `params: GraphParams` and `rank: array<u32>`
// (pixel ranks of the whole batch) in the including shader.

fn is_dual() -> bool {
    return params.kind == 1u || params.kind == 3u || params.kind == 5u;
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
    if params.kind == 3u {
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
    let ends = edge_pixels(e);
    let k = params.kind;
    if k == 0u || k == 2u || k == 4u {
        return ends.xy;
    }
    if k == 3u {
        return vec2<u32>(ends.x, select(ends.y, params.pixels, ends.y == NONE));
    }
    let w = params.width;
    let h = params.height;
    let ext = params.vertices - 1u;
    let y = ends.x / w;
    let x = ends.x % w;
    let f = k == 5u;
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
    if params.kind == 3u {
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
    let k = primal_edge_key(image, e);
    if is_dual() {
        return ~k;
    }
    return k;
}

// Primal key of a dual vertex (top cell): V 4*M+corner, F 8*M+3*type+corner, T M.
fn primal_cell_key(image: u32, v: u32) -> u32 {
    let w = params.width;
    if params.kind == 1u {
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
    if params.kind == 5u {
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
    if params.kind == 1u {
        return k / 4u;
    }
    if params.kind == 5u {
        return k / 8u;
    }
    return k;
}

// The edges incident to image-local vertex v (not the exterior cell), at most 8; returns how many.
fn incident_edges(v: u32, out: ptr<function, array<u32, 8>>) -> u32 {
    let w = params.width;
    let h = params.height;
    let nh = n_horizontal();
    let nv = n_vertical();
    let ns = squares();
    let k = params.kind;
    var n = 0u;
    if k == 1u || k == 5u {
        var s = v;
        if k == 5u {
            s = v / 2u;
        }
        let y = s / (w - 1u);
        let x = s % (w - 1u);
        if k == 1u {
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
    if k == 2u || k == 4u {
        if y + 1u < h && x + 1u < w {
            (*out)[n] = nh + nv + y * (w - 1u) + x;
            n += 1u;
        }
        if y > 0u && x > 0u {
            (*out)[n] = nh + nv + (y - 1u) * (w - 1u) + x - 1u;
            n += 1u;
        }
    }
    if k == 2u {
        if y + 1u < h && x > 0u {
            (*out)[n] = nh + nv + ns + y * (w - 1u) + x - 1u;
            n += 1u;
        }
        if y > 0u && x + 1u < w {
            (*out)[n] = nh + nv + ns + (y - 1u) * (w - 1u) + x;
            n += 1u;
        }
    }
    if k == 3u {
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
