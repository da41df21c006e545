// Shared by the two steps of the multi-level exclusive scan: blocks of SCAN_BLOCK values, each
// handled by one workgroup of SCAN_WG invocations (SCAN_BLOCK / SCAN_WG values each).
struct ScanParams {
    count: u32,
    use_offsets: u32, // scan_apply: add the scanned block sums of the level above
}

const SCAN_WG: u32 = 256u;
const SCAN_PER_THREAD: u32 = 4u;
const SCAN_BLOCK: u32 = 1024u;
