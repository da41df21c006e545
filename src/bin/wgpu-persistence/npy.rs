//! Reading `.npy` files of the pixel types the library accepts, without trusting the header's shape
//! for an allocation before the file is known to hold that much data.

use std::io::{Read, Seek, SeekFrom};

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

/// Why a `.npy` file could not be read: the file itself, or what it holds.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    Invalid(String),
}

impl From<String> for ReadError {
    fn from(why: String) -> Self {
        ReadError::Invalid(why)
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// What the CLI needs from the header: the type, the shape, where the data start.
struct Header {
    descr: String,
    shape: Vec<usize>,
    data_offset: usize,
}

/// Read a `.npy` file of any supported dtype as `f32` (converted as the library converts), and for
/// `float64` and `int32` files whose values `f32` cannot all hold, the exact values too. The data
/// are read from `file` straight into the array (a first copy of the whole file would fault in
/// as many fresh pages again).
pub fn read_f32(
    mut file: impl Read + Seek,
) -> Result<(ArrayD<f32>, Option<ArrayD<f64>>), ReadError> {
    let len = file.seek(SeekFrom::End(0))?;
    file.rewind()?;
    let bytes = read_header_bytes(&mut file, len)?;
    let header = parse_header(&bytes)?;
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
    let available = usize::try_from(len)
        .unwrap_or(usize::MAX)
        .saturating_sub(header.data_offset);
    if needed > available {
        return Err(format!(
            "truncated .npy file: shape {:?} of '{}' needs {needed} bytes of data, the file has {available}",
            header.shape, header.descr
        )
        .into());
    }
    file.rewind()?;
    Ok(match dtype {
        // as it is: no second copy of a large image
        Dtype::F32 => (read::<f32>(file)?, None),
        Dtype::F64 => convert::<f64>(file)?,
        Dtype::U8 => convert::<u8>(file)?,
        Dtype::U16 => convert::<u16>(file)?,
        Dtype::I16 => convert::<i16>(file)?,
        Dtype::I32 => convert::<i32>(file)?,
    })
}

/// The file's first bytes, up to the end of its header as the header's length gives it (fewer
/// when the file ends before: [`parse_header`] says what is wrong).
fn read_header_bytes(file: &mut impl Read, len: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(12).read_to_end(&mut bytes)?;
    if let Ok((_, end)) = header_span(&bytes) {
        file.take((end as u64).min(len).saturating_sub(bytes.len() as u64))
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// The values as `f32`, and as `f64` where some of them are not exact in `f32`.
fn convert<T: ReadableElement + Pixel>(
    file: impl Read,
) -> Result<(ArrayD<f32>, Option<ArrayD<f64>>), String> {
    let values = read::<T>(file)?;
    let rounded = values.mapv(Pixel::to_f32);
    let exact = (!T::EXACT_IN_F32
        && values
            .iter()
            .zip(rounded.iter())
            .any(|(v, r)| v.to_f64() != f64::from(*r)))
    .then(|| values.mapv(Pixel::to_f64));
    Ok((rounded, exact))
}

fn read<T: ReadableElement>(file: impl Read) -> Result<ArrayD<T>, String> {
    ArrayD::<T>::read_npy(file).map_err(|e| format!("invalid .npy file: {e}"))
}

/// Where the header's text starts and ends, from the file's first 10 (version 1) or 12 bytes; the
/// end is not checked against the bytes there are.
fn header_span(bytes: &[u8]) -> Result<(usize, usize), String> {
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
    let end = start.checked_add(len).ok_or("truncated .npy header")?;
    Ok((start, end))
}

fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    let (start, end) = header_span(bytes)?;
    if end > bytes.len() {
        return Err("truncated .npy header".into());
    }
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
