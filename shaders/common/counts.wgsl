// The per-item counts of a graph's pair records, and their segments (pair_counts, record_buckets,
// loss_select): item b's dimension k is entry 2b + k; a segments buffer holds the exclusive scan of
// the counts (the offsets) in its first 2B words and the counts in the next 2B.
struct CountParams {
    images: u32,
    dim: u32,
    capacity: u32,  // records the graph's buffer holds
    _pad0: u32,
}
