//! Reading the input: a `.npy`, a grayscale PNG or TIFF, or the bundled sample; checked to be an
//! image, a volume, or (with `--batch`) a stack of either.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, ImageReader};
use ndarray::{ArrayD, Axis};
use wgpu_persistence::{Error, Pixel};

use crate::npy;
use crate::{fail, CliError, CliResult};

/// The bundled sample (see `data/README.md`), embedded so the binary works from any directory.
const SAMPLE_PNG: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.png"));
const SAMPLE_NAME: &str = "bundled sample data/sample.png";

/// The values and where they came from (for messages).
pub(crate) struct Input {
    pub name: String,
    /// An image (2 axes) or a volume (3); with `batch`, a stack of either (3 or 4 axes).
    pub values: ArrayD<f32>,
    /// The exact values of a `float64` or `int32` `.npy` that `f32` cannot hold (same shape): the
    /// diagrams are computed and reported on these.
    pub exact: Option<ArrayD<f64>>,
    pub batch: bool,
}

impl Input {
    /// Names of the axes, outermost first, for messages.
    fn axes(&self) -> &'static [&'static str] {
        match (self.values.ndim(), self.batch) {
            (2, _) => &["row", "column"],
            (3, true) => &["image", "row", "column"],
            (3, false) => &["slice", "row", "column"],
            _ => &["volume", "slice", "row", "column"],
        }
    }

    /// The library's message; for errors about the pixels, with the input's name and the position
    /// of a NaN spelled out.
    pub fn describe(&self, e: Error) -> CliError {
        let name = &self.name;
        match e {
            Error::Empty { .. } => fail(format!("'{name}': {e}")),
            Error::NanPixel { index } | Error::NotAProbability { index, .. } => {
                // the index spelled out along each axis, innermost last
                let mut rest = index;
                let mut parts: Vec<String> = Vec::new();
                for (&n, axis) in self.values.shape().iter().zip(self.axes()).rev() {
                    parts.push(format!("{axis} {}", rest % n.max(1)));
                    rest /= n.max(1);
                }
                parts.reverse();
                fail(format!("'{name}': {e} ({})", parts.join(", ")))
            }
            other => other.into(),
        }
    }
}

/// The input of `diagram` and `time`: a file, or the bundled sample.
pub(crate) fn load_input(path: Option<&Path>, batch: bool) -> CliResult<Input> {
    let (name, values, exact) = match path {
        None => (
            SAMPLE_NAME.to_string(),
            decode_image(SAMPLE_PNG, ImageFormat::Png, SAMPLE_NAME)?.0,
            None,
        ),
        Some(path) => {
            let (values, _, exact) = load_file(path)?;
            (path.display().to_string(), values, exact)
        }
    };
    let mut input = checked(name, values, Some(batch))?;
    // the same axes as the values (a 2D image given with --batch is a stack of one)
    input.exact = exact.map(|e| match input.values.ndim() > e.ndim() {
        true => e.insert_axis(Axis(0)),
        false => e,
    });
    Ok(input)
}

/// A probability map (or with `batch` a stack of them): a .npy as is, or a PNG/TIFF scaled to
/// [0,1] (by 255 or 65535); without a path, the bundled sample scaled so (`time --loss`).
pub(crate) fn load_map(path: Option<&Path>, batch: bool) -> CliResult<Input> {
    let (name, (values, full_scale, exact)) = match path {
        None => {
            let (values, scale) = decode_image(SAMPLE_PNG, ImageFormat::Png, SAMPLE_NAME)?;
            (SAMPLE_NAME.to_string(), (values, Some(scale), None))
        }
        Some(path) => (path.display().to_string(), load_file(path)?),
    };
    let values = match full_scale {
        Some(scale) => values.mapv(|v| v / scale),
        None => values,
    };
    let input = checked(name, values, Some(batch))?;
    // a value that `f32` does not hold is checked as it is: `1 + 1e-12` rounds to 1 and is still no
    // probability (the library checks the rounded values it is given)
    let outside = exact.as_ref().and_then(|exact| {
        exact
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_nan() && !(0.0..=1.0).contains(*v))
    });
    match outside {
        Some((index, &value)) => Err(input.describe(Error::NotAProbability { index, value })),
        None => Ok(input),
    }
}

fn checked(name: String, values: ArrayD<f32>, batch: Option<bool>) -> CliResult<Input> {
    match to_input(values, batch) {
        Ok((values, batch)) => Ok(Input {
            name,
            values,
            exact: None,
            batch,
        }),
        Err(e) => Err(fail(format!("'{name}': {e}"))),
    }
}

/// The file's values, for an image file its full-scale value (255 or 65535), and for a `.npy` of
/// values that `f32` cannot hold the exact values.
type Loaded = (ArrayD<f32>, Option<f32>, Option<ArrayD<f64>>);

fn load_file(path: &Path) -> CliResult<Loaded> {
    let name = path.display().to_string();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match extension.as_deref() {
        Some("npy") => None,
        Some("png") => Some(ImageFormat::Png),
        Some("tif" | "tiff") => Some(ImageFormat::Tiff),
        _ => {
            return Err(fail(format!(
                "'{name}': unsupported file type (expected .npy, .png, .tif or .tiff)"
            )))
        }
    };
    let cannot_read = |e: std::io::Error| fail(format!("cannot read '{name}': {e}"));
    let mut file = std::fs::File::open(path).map_err(cannot_read)?;
    let metadata = file.metadata().map_err(cannot_read)?;
    // a pipe cannot be read twice (the .npy reader seeks) and a device may never end (an image is
    // read whole before it is decoded): only files
    if !metadata.is_file() {
        return Err(fail(format!(
            "'{name}' is not a regular file (a directory, a pipe or a device): give a file"
        )));
    }
    let Some(format) = format else {
        // into the array as it is read, not into a copy of the whole file first
        return npy::read_f32(std::io::BufReader::new(file))
            .map(|(values, exact)| (values, None, exact))
            .map_err(|e| match e {
                npy::ReadError::Io(e) => cannot_read(e),
                npy::ReadError::Invalid(e) => fail(format!("'{name}': {e}")),
            });
    };
    // sized from the file, as `fs::read` does
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(cannot_read)?;
    match format {
        ImageFormat::Tiff => {
            decode_tiff(&bytes, &name).map(|(values, scale)| (values, scale, None))
        }
        format => {
            decode_image(&bytes, format, &name).map(|(values, scale)| (values, Some(scale), None))
        }
    }
}

/// What a PNG holds, from its header (colour type and bit depth of IHDR), for messages: the image
/// crate expands a palette to RGB before one could ask it.
fn png_kind(bytes: &[u8]) -> Option<String> {
    let (depth, colour) = (*bytes.get(24)?, *bytes.get(25)?);
    let what = match colour {
        0 => "grayscale",
        2 => "RGB colour",
        3 => "palette (indexed colour)",
        4 => "grayscale with alpha",
        6 => "RGBA colour",
        _ => return None,
    };
    Some(format!("a {what} PNG of {depth}-bit samples"))
}

/// Decode a grayscale TIFF, every page: one page is an `H x W` image, several an `N x H x W`
/// stack (a volume, or a batch with `--batch`). 8- and 16-bit pages come with their full-scale
/// value (255, 65535); 32-bit float pages are taken as they are.
fn decode_tiff(bytes: &[u8], name: &str) -> CliResult<(ArrayD<f32>, Option<f32>)> {
    use tiff::decoder::{Decoder, DecodingResult};
    use tiff::ColorType;
    let cannot = |e: tiff::TiffError| fail(format!("cannot decode '{name}': {e}"));
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(cannot)?;
    let accepted = "only grayscale TIFFs of 8- or 16-bit unsigned or 32-bit float samples are \
                    accepted: convert it first";
    let (mut values, mut pages, mut scale, mut first_dims) = (Vec::new(), 0usize, None, None);
    loop {
        let dims = decoder.dimensions().map_err(cannot)?;
        let colour = decoder.colortype().map_err(cannot)?;
        if !matches!(colour, ColorType::Gray(_)) {
            return Err(fail(format!(
                "'{name}' holds {colour:?} samples on page {pages}; {accepted}"
            )));
        }
        if first_dims.is_some_and(|d| d != dims) {
            return Err(fail(format!(
                "'{name}': page {pages} is {}x{}, page 0 is {}x{}: the pages of a volume share one size",
                dims.1,
                dims.0,
                first_dims.map_or(0, |d: (u32, u32)| d.1),
                first_dims.map_or(0, |d: (u32, u32)| d.0)
            )));
        }
        first_dims = Some(dims);
        let (page, page_scale): (Vec<f32>, Option<f32>) =
            match decoder.read_image().map_err(cannot)? {
                DecodingResult::U8(v) => (v.into_iter().map(f32::from).collect(), Some(255.0)),
                DecodingResult::U16(v) => (v.into_iter().map(f32::from).collect(), Some(65535.0)),
                DecodingResult::F32(v) => (v, None),
                other => {
                    let kind = match other {
                        DecodingResult::U32(_) => "32-bit unsigned",
                        DecodingResult::U64(_) => "64-bit unsigned",
                        DecodingResult::F16(_) => "16-bit float",
                        DecodingResult::F64(_) => "64-bit float",
                        DecodingResult::I8(_) => "8-bit signed",
                        DecodingResult::I16(_) => "16-bit signed",
                        DecodingResult::I32(_) => "32-bit signed",
                        _ => "64-bit signed",
                    };
                    return Err(fail(format!(
                        "'{name}' holds {kind} grayscale samples; {accepted}"
                    )));
                }
            };
        if pages > 0 && page_scale != scale {
            return Err(fail(format!(
                "'{name}': its pages hold different sample types"
            )));
        }
        scale = page_scale;
        values.extend(page);
        pages += 1;
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(cannot)?;
    }
    let (w, h) = first_dims.unwrap_or((0, 0));
    let dims = match pages {
        1 => vec![h as usize, w as usize],
        _ => vec![pages, h as usize, w as usize],
    };
    ArrayD::from_shape_vec(ndarray::IxDyn(&dims), values)
        .map(|values| (values, scale))
        .map_err(|e| fail(format!("'{name}': {e}")))
}

/// Decode an 8- or 16-bit grayscale PNG, with its full-scale value (255 or 65535).
fn decode_image(bytes: &[u8], format: ImageFormat, name: &str) -> CliResult<(ArrayD<f32>, f32)> {
    if format == ImageFormat::Png {
        if let Some(kind) = png_kind(bytes).filter(|k| !k.starts_with("a grayscale PNG")) {
            return Err(fail(format!(
                "'{name}' is {kind}; only 8- and 16-bit grayscale images are accepted: convert it \
                 to grayscale first"
            )));
        }
    }
    let image = ImageReader::with_format(Cursor::new(bytes), format)
        .decode()
        .map_err(|e| fail(format!("cannot decode '{name}': {e}")))?;
    let shape = ndarray::IxDyn(&[image.height() as usize, image.width() as usize]);
    let (values, scale): (Vec<f32>, f32) = match image {
        DynamicImage::ImageLuma8(buffer) => (
            buffer.into_raw().into_iter().map(Pixel::to_f32).collect(),
            255.0,
        ),
        DynamicImage::ImageLuma16(buffer) => (
            buffer.into_raw().into_iter().map(Pixel::to_f32).collect(),
            65535.0,
        ),
        // a grayscale PNG (checked above) with a transparent grey level (a tRNS chunk) decodes with
        // an alpha channel: its grey levels are the image, the transparency says nothing of them
        DynamicImage::ImageLumaA8(buffer) if format == ImageFormat::Png => {
            (buffer.pixels().map(|p| p.0[0].to_f32()).collect(), 255.0)
        }
        DynamicImage::ImageLumaA16(buffer) if format == ImageFormat::Png => {
            (buffer.pixels().map(|p| p.0[0].to_f32()).collect(), 65535.0)
        }
        other => {
            return Err(fail(format!(
                "'{name}' is not a grayscale image (colour type {:?}); only 8- and 16-bit \
                 grayscale images are accepted: convert it to grayscale first",
                other.color()
            )))
        }
    };
    ArrayD::from_shape_vec(shape, values)
        .map(|values| (values, scale))
        .map_err(|e| fail(format!("'{name}': {e}")))
}

/// Check the number of axes: a 2D image or a 3D volume; with `--batch` a 3D stack of images (a 2D
/// image is then a stack of one) or a 4D stack of volumes. `batch`: the value of `--batch`, or
/// `None` for a command that has no such flag (a map). Returns the values and whether they are a
/// batch.
fn to_input(values: ArrayD<f32>, batch: Option<bool>) -> Result<(ArrayD<f32>, bool), String> {
    let has_flag = batch.is_some();
    let batch = batch.unwrap_or(false);
    let shape = values.shape().to_vec();
    match (shape.len(), batch) {
        (2 | 3, false) => Ok((values, false)),
        (2, true) => Ok((values.insert_axis(Axis(0)), true)),
        (3 | 4, true) => Ok((values, true)),
        (4, false) if has_flag => Err(format!(
            "expected a 2D image or a 3D volume, got a 4D array (shape {shape:?}); pass --batch \
             to treat it as a stack of volumes"
        )),
        (n, true) => Err(format!(
            "expected, with --batch, a 3D stack of images or a 4D stack of volumes; got a {n}D \
             array (shape {shape:?})"
        )),
        (n, false) => Err(format!(
            "expected a 2D image or a 3D volume, got a {n}D array (shape {shape:?})"
        )),
    }
}
