//! CPU port of `shaders/order_keys.wgsl`: order-preserving `u32` keys of `f32` values.

/// The order-preserving key of one value: `a < b` (as `f32`, with `-0.0 == +0.0`) iff
/// `order_key(a) < order_key(b)`. For the superlevel filtration the key of `-x` is taken.
#[inline]
pub fn order_key(x: f32, superlevel: bool) -> u32 {
    let x = if superlevel { -x } else { x };
    let bits = if x == 0.0 { 0 } else { x.to_bits() };
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// Keys of all values.
pub fn order_keys(values: &[f32], superlevel: bool) -> Vec<u32> {
    values.iter().map(|&v| order_key(v, superlevel)).collect()
}

/// `order_keys`: the keys, and the identity payload the sort carries.
pub fn order_keys_with_payload(values: &[f32], superlevel: bool) -> (Vec<u32>, Vec<u32>) {
    (
        order_keys(values, superlevel),
        (0..values.len() as u32).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_preserve_order() {
        let xs = [
            f32::NEG_INFINITY,
            -1e30,
            -1.0,
            -f32::MIN_POSITIVE,
            -0.0,
            0.0,
            1e-40,
            1.0,
            3.5,
            f32::MAX,
            f32::INFINITY,
        ];
        for w in xs.windows(2) {
            let (a, b) = (order_key(w[0], false), order_key(w[1], false));
            if w[0] == w[1] {
                assert_eq!(a, b);
            } else {
                assert!(a < b, "{} {}", w[0], w[1]);
                assert!(order_key(w[0], true) > order_key(w[1], true));
            }
        }
    }
}
