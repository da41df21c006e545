// Shared by the radix sort passes: a tile of 1024 keys per workgroup of 128 invocations, 4-bit digits.
struct SortParams {
    count: u32,
    shift: u32,
    tiles: u32,
    digit_source: u32, // 0: the key; 1: the image of the payload (payload / pixels)
    pixels: u32,
}

const SORT_WG: u32 = 128u;
const PER_THREAD: u32 = 8u;
const TILE: u32 = 1024u;
const RADIX: u32 = 16u;

fn tile_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.y * nwg.x + wid.x;
}

fn digit_of(key: u32, value: u32) -> u32 {
    let source = select(key, value / params.pixels, params.digit_source == 1u);
    return (source >> params.shift) & 15u;
}
