// One-dimensional work over dispatches tiled in two dimensions (at most 65535 workgroups each).
const WG: u32 = 256u;
const MAX_GROUPS_PER_DIM: u32 = 65535u; // WebGPU's default limit per dispatch dimension

// Linear invocation index of a dispatch tiled over two dimensions.
fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}
