//! Numbers as CSV text, fast: an `f32` as the shortest decimal that parses back to it, written out
//! without an exponent (the same bytes as Rust's `Display`, which the CSV format has always used),
//! and integers. `Display` through `write!` cost more than the diagram itself on large images; this
//! takes the shortest digits from `zmij` and lays them out by hand.

/// Appends `v` as `format!("{v}")` would.
pub(crate) fn push_f32(out: &mut Vec<u8>, v: f32) {
    if !v.is_finite() {
        out.extend_from_slice(match v {
            f32::INFINITY => b"inf",
            f32::NEG_INFINITY => b"-inf",
            _ => b"NaN",
        });
        return;
    }
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(v).as_bytes();
    // the case of most data, taken first without looking at the text: between 1e-4 and 1e7 zmij
    // writes no exponent, and a value with bits below 2^-15 is no whole number (no `.0` to drop)
    // and has too fine a fraction to lie halfway between two decimals of at most 12 places (see
    // `binary_exponent`): zmij's text is Display's
    if (1e-4..1e7).contains(&v.abs()) && binary_exponent(v).is_some_and(|e| e < -15) {
        out.extend_from_slice(text);
        return;
    }
    // the common case: no exponent, and no tie to round (see `binary_exponent`): zmij's text, less
    // the `.0` of a whole number, is Display's
    if !text.contains(&b'e') {
        let plain = text.strip_suffix(b".0").unwrap_or(text);
        let scale = match plain.iter().position(|&c| c == b'.') {
            Some(point) => -((plain.len() - point - 1) as i32),
            None => plain.iter().rev().take_while(|&&c| c == b'0').count() as i32,
        };
        if binary_exponent(v) != Some(scale - 1) {
            out.extend_from_slice(plain);
            return;
        }
    }
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    // `text` is `digits[.digits][e[+-]exponent]`: gather the digits and the power of ten of the last
    let (mantissa, exponent) = match text.iter().position(|&c| c == b'e') {
        Some(e) => (&text[..e], parse_exponent(&text[e + 1..])),
        None => (text, 0),
    };
    // digits[0] is a zero in front, room for a carry out of the leading digit
    let mut digits = [b'0'; 48];
    let mut n = 1;
    let mut scale = exponent;
    let mut after_point = false;
    for &c in mantissa {
        match c {
            b'.' => after_point = true,
            _ => {
                if n < digits.len() {
                    digits[n] = c;
                    n += 1;
                }
                if after_point {
                    scale -= 1;
                }
            }
        }
    }
    // drop leading and trailing zeros: value = digits * 10^scale
    let mut start = 0;
    while start < n && digits[start] == b'0' {
        start += 1;
    }
    while n > start && digits[n - 1] == b'0' {
        n -= 1;
        scale += 1;
    }
    // where the value lies exactly halfway between this shortest decimal and the next one up, zmij
    // rounds to even and `Display` rounds up: take the next one up
    if n > start && exactly_halfway_up(v.abs(), &digits[start..n], scale) {
        let mut i = n;
        while i > start && digits[i - 1] == b'9' {
            digits[i - 1] = b'0';
            i -= 1;
        }
        if i > start {
            digits[i - 1] += 1;
        } else {
            // 99..9 + 1: one more digit
            start -= 1;
            digits[start] = b'1';
        }
        while n > start && digits[n - 1] == b'0' {
            n -= 1;
            scale += 1;
        }
    }
    if negative {
        out.push(b'-');
    }
    let digits = &digits[start..n];
    if digits.is_empty() {
        out.push(b'0');
        return;
    }
    if scale >= 0 {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', scale as usize));
        return;
    }
    let fraction = (-scale) as usize;
    if digits.len() > fraction {
        let (int, frac) = digits.split_at(digits.len() - fraction);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    } else {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', fraction - digits.len()));
        out.extend_from_slice(digits);
    }
}

/// Whether `v > 0` equals `(digits + 1/2) * 10^scale` exactly. With `v = m * 2^e`, `m` odd, and
/// `(digits + 1/2) * 10^scale = (2 digits + 1) * 5^scale * 2^(scale - 1)`, whose first factor is odd,
/// that is `e == scale - 1` and the odd parts equal.
fn exactly_halfway_up(v: f32, digits: &[u8], scale: i32) -> bool {
    let Some((m, e)) = odd_mantissa(v) else {
        return false;
    };
    if e != scale - 1 {
        return false;
    }
    let odd = digits
        .iter()
        .try_fold(0u128, |acc, &c| {
            acc.checked_mul(10)?.checked_add((c - b'0') as u128)
        })
        .and_then(|d| d.checked_mul(2)?.checked_add(1));
    let five = 5u128.checked_pow(scale.unsigned_abs());
    match (odd, five) {
        (Some(odd), Some(five)) if scale >= 0 => five.checked_mul(odd) == Some(m as u128),
        (Some(odd), Some(five)) => (m as u128).checked_mul(five) == Some(odd),
        _ => false,
    }
}

/// `v = m * 2^e` with `m` odd, for `v != 0`.
fn odd_mantissa(v: f32) -> Option<(u32, i32)> {
    let bits = v.to_bits();
    let (exponent_bits, fraction) = ((bits >> 23) & 0xff, bits & 0x7f_ffff);
    let (m, e) = match exponent_bits {
        0 => (fraction, -149i32),
        _ => (fraction | 0x80_0000, exponent_bits as i32 - 150),
    };
    (m != 0).then(|| (m >> m.trailing_zeros(), e + m.trailing_zeros() as i32))
}

/// The `e` of `v = m * 2^e`, `m` odd: a value can lie halfway between two decimals with a last
/// digit at `10^scale` only when `e == scale - 1` ([`exactly_halfway_up`]).
fn binary_exponent(v: f32) -> Option<i32> {
    odd_mantissa(v).map(|(_, e)| e)
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (sign, digits) = match text.split_first() {
        Some((b'-', rest)) => (-1, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, text),
    };
    sign * digits
        .iter()
        .fold(0i32, |acc, &d| acc * 10 + (d - b'0') as i32)
}

/// Appends `v` in decimal.
pub(crate) fn push_usize(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: f32) -> String {
        let mut out = vec![];
        push_f32(&mut out, v);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn floats_print_as_display_does() {
        let special = [
            0.0f32,
            -0.0,
            1.0,
            -3.0,
            0.1,
            1e20,
            1e-7,
            1.5e-5,
            16777216.0,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ];
        for v in special {
            assert_eq!(text(v), format!("{v}"), "{v:?}");
        }
        // every 65537th bit pattern: all exponents, signs and many mantissas (the whole range of
        // 2^32 patterns agreed when checked once by hand; see BENCHMARKS.md)
        for bits in (0..=u32::MAX).step_by(65537) {
            let v = f32::from_bits(bits);
            assert_eq!(text(v), format!("{v}"), "{bits:#x}");
        }
        // a value exactly halfway between two shortest decimals: Display rounds it up
        assert_eq!(text(0.43945312), "0.43945313");
        // and the values of a probability map and of 8- and 16-bit images
        for i in 0..=65535u32 {
            for v in [i as f32, i as f32 / 65535.0, i as f32 / 255.0] {
                assert_eq!(text(v), format!("{v}"), "{v:?}");
            }
        }
    }

    #[test]
    fn integers() {
        let mut out = vec![];
        for v in [0usize, 7, 10, 1234567890, usize::MAX] {
            out.clear();
            push_usize(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
    }
}
