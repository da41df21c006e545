//! CPU port of the radix sort (`shaders/radix_histogram.wgsl`, `radix_scan.wgsl`, `radix_scatter.wgsl`)
//! and of `shaders/rank_scatter.wgsl`.

/// The total order of `DESIGN.md`: pixel indices sorted by `(key, index)`. The GPU's stable LSD radix
/// sort of the keys, with the indices as payload, gives the same permutation.
pub fn radix_sort(keys: &[u32]) -> Vec<u32> {
    let mut packed: Vec<u64> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| ((k as u64) << 32) | i as u64)
        .collect();
    packed.sort_unstable();
    packed.into_iter().map(|v| v as u32).collect()
}

/// Stable counting sort of `(keys, values)` by the 4-bit digit at `shift`: one pass of the GPU sort.
pub fn radix_pass(keys: &[u32], values: &[u32], shift: u32) -> (Vec<u32>, Vec<u32>) {
    let mut count = [0usize; 16];
    for &k in keys {
        count[((k >> shift) & 15) as usize] += 1;
    }
    let mut start = [0usize; 16];
    for d in 1..16 {
        start[d] = start[d - 1] + count[d - 1];
    }
    let mut out_k = vec![0; keys.len()];
    let mut out_v = vec![0; keys.len()];
    for (&k, &v) in keys.iter().zip(values) {
        let d = ((k >> shift) & 15) as usize;
        out_k[start[d]] = k;
        out_v[start[d]] = v;
        start[d] += 1;
    }
    (out_k, out_v)
}

/// `rank[order[i]] = i`.
pub fn rank_scatter(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; order.len()];
    for (i, &p) in order.iter().enumerate() {
        rank[p as usize] = i as u32;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_make_the_sort() {
        let keys: Vec<u32> = (0..1000u32)
            .map(|i| i.wrapping_mul(2654435761) % 37)
            .collect();
        let (mut k, mut v) = (keys.clone(), (0..1000).collect::<Vec<u32>>());
        for pass in 0..8 {
            (k, v) = radix_pass(&k, &v, 4 * pass);
        }
        assert_eq!(v, radix_sort(&keys));
        assert!(k.windows(2).all(|w| w[0] <= w[1]));
    }
}
