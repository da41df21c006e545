//! Reading the input: a `.npy`, a grayscale PNG or TIFF, or the bundled sample; checked to be an
//! image, a volume, or (with `--batch`) a stack of either.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, ImageReader};
use ndarray::{Array2, ArrayD, Axis, Ix2};
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

    /// The one 2D map `repair` works on.
    pub fn single_map(&self) -> CliResult<Array2<f32>> {
        match self.values.view().into_dimensionality::<Ix2>() {
            Ok(map) => Ok(map.to_owned()),
            Err(_) => Err(fail(format!(
                "'{}': repair works on 2D maps only (a volume was given)",
                self.name
            ))),
        }
    }

    /// The library's message; for errors about the pixels, with the input's name and the position
    /// of a NaN spelled out.
    pub fn describe(&self, e: Error) -> CliError {
        let name = &self.name;
        match e {
            Error::Empty { .. } => fail(format!("'{name}': {e}")),
            Error::NanPixel { index } => {
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
    let (name, values) = match path {
        None => (
            SAMPLE_NAME.to_string(),
            decode_image(SAMPLE_PNG, ImageFormat::Png, SAMPLE_NAME)?.0,
        ),
        Some(path) => (path.display().to_string(), load_file(path)?.0),
    };
    checked(name, values, Some(batch))
}

/// A probability map: a 2D .npy as is, or a PNG/TIFF scaled to [0,1] (by 255 or 65535).
pub(crate) fn load_map(path: &Path) -> CliResult<Input> {
    let name = path.display().to_string();
    let (values, full_scale) = load_file(path)?;
    let values = match full_scale {
        Some(scale) => values.mapv(|v| v / scale),
        None => values,
    };
    checked(name, values, None)
}

fn checked(name: String, values: ArrayD<f32>, batch: Option<bool>) -> CliResult<Input> {
    match to_input(values, batch) {
        Ok((values, batch)) => Ok(Input {
            name,
            values,
            batch,
        }),
        Err(e) => Err(fail(format!("'{name}': {e}"))),
    }
}

/// The file's values, and for an image file its full-scale value (255 or 65535).
fn load_file(path: &Path) -> CliResult<(ArrayD<f32>, Option<f32>)> {
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
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read '{name}': {e}")))?;
    match format {
        None => npy::read_f32(&bytes)
            .map(|values| (values, None))
            .map_err(|e| fail(format!("'{name}': {e}"))),
        Some(format) => {
            decode_image(&bytes, format, &name).map(|(values, scale)| (values, Some(scale)))
        }
    }
}

/// Decode an 8- or 16-bit grayscale PNG/TIFF, with its full-scale value (255 or 65535).
fn decode_image(bytes: &[u8], format: ImageFormat, name: &str) -> CliResult<(ArrayD<f32>, f32)> {
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
