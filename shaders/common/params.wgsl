// Parameters of one graph of a batch (see src/kernels/mod.rs, GraphParams).
struct GraphParams {
    kind: u32,       // GraphKind: one of the KIND_* of grid.wgsl
    height: u32,
    width: u32,
    images: u32,
    pixels: u32,     // height * width
    vertices: u32,   // vertices of one image's graph
    edges: u32,      // edges of one image's graph
    flags: u32,      // bit 0: keep zero-persistence pairs
    depth: u32,      // volume slices (1 for images)
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const NONE: u32 = 0xffffffffu;

#import dispatch
