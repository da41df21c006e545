// Parameters of one graph of a batch (see src/kernels/mod.rs, GraphParams).
struct GraphParams {
    kind: u32,       // GraphKind: 0 VPrimal, 1 VDual, 2 TPrimal, 3 TDual, 4 FPrimal, 5 FDual
    height: u32,
    width: u32,
    images: u32,
    pixels: u32,     // height * width
    vertices: u32,   // vertices of one image's graph
    edges: u32,      // edges of one image's graph
    flags: u32,      // bit 0: keep zero-persistence pairs
}

const NONE: u32 = 0xffffffffu;
const WG: u32 = 256u;

// Linear invocation index of a dispatch tiled over two dimensions (at most 65535 workgroups each).
fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}
