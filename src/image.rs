//! Input validation and conversion: any supported pixel type, any strides, to a dense row-major `f32` buffer.

use crate::{Error, Result};
use ndarray::{ArrayView, ArrayView2, ArrayView3, ArrayView4, Dimension};

/// Pixel types accepted by the API. `u8`, `u16` and `i16` convert exactly; `f64` and `i32` round to nearest `f32`.
pub trait Pixel: Copy {
    /// The value as `f32`.
    fn to_f32(self) -> f32;
    /// The values themselves when they are `f32` already (the CPU backend then reads them where
    /// they are, without a copy).
    #[doc(hidden)]
    fn as_f32(_values: &[Self]) -> Option<&[f32]> {
        None
    }
}

impl Pixel for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
    fn as_f32(values: &[f32]) -> Option<&[f32]> {
        Some(values)
    }
}

macro_rules! pixel_as {
    ($($t:ty),*) => {$(
        impl Pixel for $t {
            #[inline]
            fn to_f32(self) -> f32 {
                self as f32
            }
        }
    )*};
}
pixel_as!(f64, u8, u16, i16, i32);

/// A validated stack of `count` images of `height x width` (or volumes of `depth x height x width`),
/// row-major `f32`, `-0.0` replaced by `+0.0`.
#[derive(Debug, Clone)]
pub struct ImageStack {
    /// Pixel values, image after image.
    pub values: Vec<f32>,
    /// Number of images.
    pub count: usize,
    /// Slices of each volume (1 for 2D images).
    pub depth: usize,
    /// Rows of each image.
    pub height: usize,
    /// Columns of each image.
    pub width: usize,
    /// Whether the items are 3D volumes (a `1 x H x W` volume is not an `H x W` image: its
    /// diagram has an H2 and, in T, its cells are cubes).
    pub volume: bool,
}

impl ImageStack {
    /// Pixels (voxels) per image.
    pub fn pixels(&self) -> usize {
        self.depth * self.height * self.width
    }
    /// The shape of one item: `[H, W]`, or `[D, H, W]` for a volume.
    pub fn item_shape(&self) -> Vec<usize> {
        if self.volume {
            vec![self.depth, self.height, self.width]
        } else {
            vec![self.height, self.width]
        }
    }
    /// The values of image `b`.
    pub fn image(&self, b: usize) -> &[f32] {
        let n = self.pixels();
        &self.values[b * n..(b + 1) * n]
    }
}

/// Largest image (pixels) the index arithmetic supports: ranks times 8 must fit in `u32`.
pub const MAX_PIXELS: usize = (1 << 29) - 1;

fn normalise(values: impl Iterator<Item = f32>, len: usize, shape: &[usize]) -> Result<Vec<f32>> {
    if len == 0 {
        return Err(Error::Empty {
            shape: shape.to_vec(),
        });
    }
    // `+ 0.0` turns -0.0 into +0.0 and leaves every other value (NaN included) as it is
    let out: Vec<f32> = values.map(|v| v + 0.0).collect();
    debug_assert_eq!(out.len(), len);
    check_nan(&out)?;
    Ok(out)
}

/// [`Error::NanPixel`] for the first NaN of `values`.
fn check_nan(values: &[f32]) -> Result<()> {
    // a branch-free test of each block (which vectorises) before looking for the first NaN
    let any_nan = values
        .chunks(256)
        .any(|block| block.iter().fold(false, |nan, v| nan | v.is_nan()));
    match any_nan {
        true => Err(Error::NanPixel {
            index: values.iter().position(|v| v.is_nan()).unwrap_or(0),
        }),
        false => Ok(()),
    }
}

/// The checks of [`from_view2`] on a row-major `f32` image, where it is (no copy). `-0.0` is left as
/// it is: the CPU backend's keys do not tell it from `+0.0`.
pub(crate) fn check_f32_image(values: &[f32], height: usize, width: usize) -> Result<()> {
    if values.is_empty() {
        return Err(Error::Empty {
            shape: vec![height, width],
        });
    }
    check_size(1, 1, height, width)?;
    check_nan(values)
}

/// [`normalise`] of a view, in row-major order.
fn normalise_view<T: Pixel, D: Dimension>(
    view: ArrayView<'_, T, D>,
    shape: &[usize],
) -> Result<Vec<f32>> {
    let len = view.len();
    match view.as_slice() {
        // contiguous row-major: a slice iterator, which the compiler vectorises
        Some(slice) => normalise(slice.iter().map(|v| v.to_f32()), len, shape),
        None => normalise(view.iter().map(|v| v.to_f32()), len, shape),
    }
}

/// Refuses items, or a batch, past [`MAX_PIXELS`].
fn check_size(count: usize, depth: usize, height: usize, width: usize) -> Result<()> {
    let n = depth.saturating_mul(height).saturating_mul(width);
    if n > MAX_PIXELS {
        return Err(Error::TooLarge {
            what: "pixels (voxels) per image (volume)",
            value: n as u64,
            limit: MAX_PIXELS as u64,
        });
    }
    let total = count.saturating_mul(n);
    if total > MAX_PIXELS {
        return Err(Error::TooLarge {
            what: "pixels in the batch",
            value: total as u64,
            limit: MAX_PIXELS as u64,
        });
    }
    Ok(())
}

/// The stack of `[count, depth, height, width]` items a view holds (any strides).
fn stack_from_view<T: Pixel, D: Dimension>(
    view: ArrayView<'_, T, D>,
    [count, depth, height, width]: [usize; 4],
    volume: bool,
) -> Result<ImageStack> {
    check_size(count, depth, height, width)?;
    let values = normalise_view(view.view(), view.shape())?;
    Ok(ImageStack {
        values,
        count,
        depth,
        height,
        width,
        volume,
    })
}

/// Validate one 2D image (any strides) into a stack of one.
pub fn from_view2<T: Pixel>(image: ArrayView2<'_, T>) -> Result<ImageStack> {
    let (height, width) = image.dim();
    stack_from_view(image, [1, 1, height, width], false)
}

/// Validate a `B x H x W` batch (any strides).
pub fn from_view3<T: Pixel>(batch: ArrayView3<'_, T>) -> Result<ImageStack> {
    let (count, height, width) = batch.dim();
    stack_from_view(batch, [count, 1, height, width], false)
}

/// Validate one `D x H x W` volume (any strides) into a stack of one.
pub fn from_volume_view<T: Pixel>(volume: ArrayView3<'_, T>) -> Result<ImageStack> {
    let (depth, height, width) = volume.dim();
    stack_from_view(volume, [1, depth, height, width], true)
}

/// Validate a `B x D x H x W` batch of volumes (any strides).
pub fn from_volume_batch_view<T: Pixel>(batch: ArrayView4<'_, T>) -> Result<ImageStack> {
    let (count, depth, height, width) = batch.dim();
    stack_from_view(batch, [count, depth, height, width], true)
}

/// Validate a row-major slice of volumes: `[D, H, W]` for one, `[B, D, H, W]` for a batch.
pub fn from_volume_slice<T: Pixel>(data: &[T], shape: &[usize]) -> Result<ImageStack> {
    let (count, depth, height, width) = match *shape {
        [d, h, w] => (1, d, h, w),
        [b, d, h, w] => (b, d, h, w),
        _ => {
            return Err(Error::WrongDimensionality {
                expected: 3,
                got: shape.len(),
                shape: shape.to_vec(),
            })
        }
    };
    stack_from_slice(data, shape, [count, depth, height, width], true)
}

/// Validate a row-major slice with a shape: `[H, W]` for one image, `[B, H, W]` for a batch.
pub fn from_slice<T: Pixel>(data: &[T], shape: &[usize]) -> Result<ImageStack> {
    let (count, height, width) = match *shape {
        [h, w] => (1, h, w),
        [b, h, w] => (b, h, w),
        _ => {
            return Err(Error::WrongDimensionality {
                expected: 2,
                got: shape.len(),
                shape: shape.to_vec(),
            })
        }
    };
    stack_from_slice(data, shape, [count, 1, height, width], false)
}

/// The stack of `[count, depth, height, width]` items a slice of the given shape holds.
fn stack_from_slice<T: Pixel>(
    data: &[T],
    shape: &[usize],
    [count, depth, height, width]: [usize; 4],
    volume: bool,
) -> Result<ImageStack> {
    let expected = shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or(Error::TooLarge {
            what: "element count",
            value: u64::MAX,
            limit: MAX_PIXELS as u64,
        })?;
    if expected != data.len() {
        return Err(Error::ShapeMismatch {
            len: data.len(),
            shape: shape.to_vec(),
            expected,
        });
    }
    check_size(count, depth, height, width)?;
    let values = normalise(data.iter().map(|v| v.to_f32()), expected, shape)?;
    Ok(ImageStack {
        values,
        count,
        depth,
        height,
        width,
        volume,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_names_first_index() {
        let a = ndarray::arr2(&[[1.0f32, 2.0], [f32::NAN, f32::NAN]]);
        match from_view2(a.view()) {
            Err(Error::NanPixel { index }) => assert_eq!(index, 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn strides_are_honoured() {
        let a = ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]);
        let s = from_view2(a.t()).unwrap();
        assert_eq!(s.values, vec![1.0, 3.0, 2.0, 4.0]);
    }

    #[test]
    fn negative_zero_is_zero() {
        let s = from_slice(&[-0.0f32], &[1, 1]).unwrap();
        assert_eq!(s.values[0].to_bits(), 0);
    }

    #[test]
    fn empty_and_bad_shapes() {
        assert!(matches!(
            from_slice::<f32>(&[], &[0, 3]),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(
            from_slice(&[1.0f32; 3], &[2, 2]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            from_slice(&[1.0f32; 3], &[3]),
            Err(Error::WrongDimensionality { .. })
        ));
    }
}
