//! Reading `.npy` files of the pixel types the library accepts, without trusting the header's shape
//! for an allocation before the file is known to hold that much data.

use ndarray::ArrayD;
use ndarray_npy::{ReadNpyExt, ReadableElement};
use wgpu_persistence::Pixel;

const MAGIC: &[u8] = b"\x93NUMPY";
const SUPPORTED: &str = "float32, float64, uint8, uint16, int16, int32";

#[derive(Debug, Clone, Copy)]
enum Dtype {
    F32,
    F64,
    U8,
    U16,
    I16,
    I32,
}

impl Dtype {
    /// The descriptors `ndarray-npy` reads for each type.
    fn from_descr(descr: &str) -> Option<Self> {
        Some(match descr {
            "<f4" | ">f4" => Self::F32,
            "<f8" | ">f8" => Self::F64,
            "|u1" | "u1" | "B" => Self::U8,
            "<u2" | ">u2" => Self::U16,
            "<i2" | ">i2" => Self::I16,
            "<i4" | ">i4" => Self::I32,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::U16 | Self::I16 => 2,
            Self::F32 | Self::I32 => 4,
            Self::F64 => 8,
        }
    }
}

/// What the CLI needs from the header: the type, the shape, where the data start.
struct Header {
    descr: String,
    shape: Vec<usize>,
    data_offset: usize,
}

/// Read a `.npy` file of any supported dtype as `f32` (converted as the library converts), and for
/// `float64` and `int32` files whose values `f32` cannot all hold, the exact values too.
pub fn read_f32(bytes: &[u8]) -> Result<(ArrayD<f32>, Option<ArrayD<f64>>), String> {
    let header = parse_header(bytes)?;
    let dtype = Dtype::from_descr(&header.descr).ok_or_else(|| {
        format!(
            "unsupported dtype '{}' (supported: {SUPPORTED})",
            header.descr
        )
    })?;
    let needed = header
        .shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("shape {:?} is too large", header.shape))?;
    let available = bytes.len() - header.data_offset;
    if needed > available {
        return Err(format!(
            "truncated .npy file: shape {:?} of '{}' needs {needed} bytes of data, the file has {available}",
            header.shape, header.descr
        ));
    }
    match dtype {
        // as it is: no second copy of a large image
        Dtype::F32 => read::<f32>(bytes).map(|values| (values, None)),
        Dtype::F64 => convert::<f64>(bytes),
        Dtype::U8 => convert::<u8>(bytes),
        Dtype::U16 => convert::<u16>(bytes),
        Dtype::I16 => convert::<i16>(bytes),
        Dtype::I32 => convert::<i32>(bytes),
    }
}

/// The values as `f32`, and as `f64` where some of them are not exact in `f32`.
fn convert<T: ReadableElement + Pixel>(
    bytes: &[u8],
) -> Result<(ArrayD<f32>, Option<ArrayD<f64>>), String> {
    let values = read::<T>(bytes)?;
    let rounded = values.mapv(Pixel::to_f32);
    let exact = (!T::EXACT_IN_F32
        && values
            .iter()
            .zip(rounded.iter())
            .any(|(v, r)| v.to_f64() != f64::from(*r)))
    .then(|| values.mapv(Pixel::to_f64));
    Ok((rounded, exact))
}

fn read<T: ReadableElement>(bytes: &[u8]) -> Result<ArrayD<T>, String> {
    ArrayD::<T>::read_npy(bytes).map_err(|e| format!("invalid .npy file: {e}"))
}

fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    if !bytes.starts_with(MAGIC) || bytes.len() < 10 {
        return Err("not a .npy file (missing the \\x93NUMPY magic string)".into());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => match bytes.get(8..12) {
            Some(&[a, b, c, d]) => (u32::from_le_bytes([a, b, c, d]) as usize, 12),
            _ => return Err("truncated .npy header".into()),
        },
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let end = start
        .checked_add(len)
        .filter(|&end| end <= bytes.len())
        .ok_or("truncated .npy header")?;
    let text =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| "the .npy header is not text")?;
    Ok(Header {
        descr: string_value(text, "descr")?,
        shape: tuple_value(text, "shape")?,
        data_offset: end,
    })
}

/// The text after `'key':` in the header dictionary.
fn value_after<'a>(text: &'a str, key: &str) -> Result<&'a str, String> {
    ['\'', '"']
        .iter()
        .find_map(|q| {
            let pattern = format!("{q}{key}{q}");
            let at = text.find(&pattern)?;
            text[at + pattern.len()..].trim_start().strip_prefix(':')
        })
        .map(str::trim_start)
        .ok_or_else(|| format!("the .npy header has no '{key}' entry"))
}

fn string_value(text: &str, key: &str) -> Result<String, String> {
    let value = value_after(text, key)?;
    let unsupported = || {
        format!("unsupported dtype (structured or non-string descriptor; supported: {SUPPORTED})")
    };
    let quote = value
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')
        .ok_or_else(unsupported)?;
    let body = &value[1..];
    let close = body.find(quote).ok_or_else(unsupported)?;
    Ok(body[..close].to_string())
}

fn tuple_value(text: &str, key: &str) -> Result<Vec<usize>, String> {
    let value = value_after(text, key)?;
    let body = value
        .strip_prefix('(')
        .and_then(|rest| rest.split_once(')'))
        .map(|(body, _)| body)
        .ok_or_else(|| format!("cannot parse the .npy '{key}' entry"))?;
    body.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("cannot parse the .npy '{key}' entry ('{s}')"))
        })
        .collect()
}
