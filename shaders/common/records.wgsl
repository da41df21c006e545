// One pair of a graph's compaction (mirrored by PairRecord in src/layout.rs): the item of the batch,
// the dimension (for a volume graph, the slot of the merging cell above its 8 bits), the ranks of the
// death and birth pixels (their order in the filtration), and the row-major pixels within the item
// (death NONE for an essential class).
struct PairRecord {
    image: u32,
    dim: u32,
    order_hi: u32,
    order_lo: u32,
    birth_index: u32,
    death_index: u32,
}
