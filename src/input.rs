//! What a call computes on: the pixel types it accepts, the [`Shape`] of one item (an image or a
//! volume), and the validated [`Stack`] of items (one, or a batch) that every backend takes: dense,
//! row-major `f32`, no NaN, `-0.0` replaced by `+0.0`.

use crate::diagram::Diagram;
use crate::{Error, Result};
use ndarray::{ArrayView, Dimension};

/// Pixel types accepted by the API: `f32`, `f64`, `u8`, `u16`, `i16`, `i32`.
///
/// Diagrams are exact for every one of them: the filtration orders the input's own values. Where
/// `f64` or `i32` values are not all exactly `f32` (`f64` beyond `f32`'s precision or range, `i32`
/// beyond `2^24`), the pixels are ordered by their exact values and the diagram's `birth` and
/// `death` are the input's values rounded to the nearest `f32`; `birth_index` and `death_index`
/// name the input's pixels, whose exact values the caller has (the Python package and the CLI
/// report those).
pub trait Pixel: Copy + Send + Sync + 'static {
    /// The value rounded to the nearest `f32`.
    fn to_f32(self) -> f32;
    /// The value as `f64` (exact for every pixel type).
    fn to_f64(self) -> f64;
    /// Whether [`Pixel::to_f32`] is exact for every value of the type.
    #[doc(hidden)]
    const EXACT_IN_F32: bool;
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
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    const EXACT_IN_F32: bool = true;
    fn as_f32(values: &[f32]) -> Option<&[f32]> {
        Some(values)
    }
}

macro_rules! pixel_as {
    ($($t:ty: $exact:expr),*) => {$(
        impl Pixel for $t {
            #[inline]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            const EXACT_IN_F32: bool = $exact;
        }
    )*};
}
pixel_as!(f64: false, u8: true, u16: true, i16: true, i32: false);

/// Order keys for values that `f32` cannot all hold exactly: the `f32` whose bits are
/// `smallest normal + dense rank` (normal, positive, increasing with the rank: equal values get
/// equal keys, and every comparison the backends make on keys is the one on the exact values).
/// `None` when every value is exact in `f32` (the values order themselves).
fn exact_order_keys<T: Pixel>(
    values: impl Iterator<Item = T> + Clone,
    rounded: &[f32],
) -> Option<Vec<f32>> {
    if T::EXACT_IN_F32
        || values
            .clone()
            .zip(rounded)
            .all(|(v, r)| f64::from(*r) == v.to_f64())
    {
        return None;
    }
    // `+ 0.0` makes -0.0 equal to +0.0 under total_cmp, as the f32 path does
    let exact: Vec<f64> = values.map(|v| v.to_f64() + 0.0).collect();
    let mut order: Vec<u32> = (0..exact.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| exact[a as usize].total_cmp(&exact[b as usize]));
    let mut keys = vec![0.0f32; exact.len()];
    let mut rank = 0u32;
    for (i, pair) in order.iter().enumerate() {
        if i > 0 && exact[order[i - 1] as usize] != exact[*pair as usize] {
            rank += 1;
        }
        // at most MAX_PIXELS ranks: far below the largest finite f32's bits
        keys[*pair as usize] = f32::from_bits(SMALLEST_NORMAL_BITS + rank);
    }
    Some(keys)
}

/// The bits of the smallest positive normal `f32`.
const SMALLEST_NORMAL_BITS: u32 = 0x0080_0000;

/// The shape of one item of an input: a 2D image or a 3D volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// An `H x W` image: H0 and H1; V, T or Freudenthal.
    Image {
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
    },
    /// A `D x H x W` volume: H0, H1 and H2; V or T. A `1 x H x W` volume is not an `H x W` image:
    /// its diagram has an H2 and, in T, its cells are cubes.
    Volume {
        /// Slices.
        depth: usize,
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
    },
}

/// Whether the items are images or volumes: which graphs, kernels and CPU backend serve them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Domain {
    /// 2D images.
    Image,
    /// 3D volumes.
    Volume,
}

impl Domain {
    /// The value of the graph kernels' `VOLUME` override constant.
    pub fn volume_override(self) -> f64 {
        match self {
            Domain::Image => 0.0,
            Domain::Volume => 1.0,
        }
    }
}

impl Shape {
    /// The shape of an item of `dims` axes: 2 for an image, 3 for a volume.
    pub fn of(dims: &[usize]) -> Result<Shape> {
        match *dims {
            [height, width] => Ok(Shape::Image { height, width }),
            [depth, height, width] => Ok(Shape::Volume {
                depth,
                height,
                width,
            }),
            _ => Err(Error::WrongDimensionality {
                expected: "2 (an image) or 3 (a volume)",
                got: dims.len(),
                shape: dims.to_vec(),
            }),
        }
    }

    /// The axes: `[H, W]` or `[D, H, W]`.
    pub fn dims(&self) -> Vec<usize> {
        match *self {
            Shape::Image { height, width } => vec![height, width],
            Shape::Volume {
                depth,
                height,
                width,
            } => vec![depth, height, width],
        }
    }

    /// Pixels (voxels) of one item.
    pub fn pixels(&self) -> usize {
        let [d, h, w] = self.depth_height_width();
        d * h * w
    }

    /// `[D, H, W]`, with `D = 1` for an image.
    pub(crate) fn depth_height_width(&self) -> [usize; 3] {
        match *self {
            Shape::Image { height, width } => [1, height, width],
            Shape::Volume {
                depth,
                height,
                width,
            } => [depth, height, width],
        }
    }

    /// Images or volumes.
    pub(crate) fn domain(&self) -> Domain {
        match self {
            Shape::Image { .. } => Domain::Image,
            Shape::Volume { .. } => Domain::Volume,
        }
    }
}

/// A validated stack of `count` items of one [`Shape`], row-major `f32`, `-0.0` replaced by `+0.0`.
/// The backends order the pixels by `values`; where the input's values are not all exact in `f32`
/// (see [`Pixel`]), `values` are exact order keys and `rounded` the input's values as `f32`, which
/// the diagrams and the loss report.
#[derive(Debug, Clone)]
pub(crate) struct Stack {
    values: Vec<f32>,
    rounded: Option<Vec<f32>>,
    count: usize,
    shape: Shape,
}

impl Stack {
    /// One item: a 2D view is an image, a 3D view a volume (any strides).
    pub fn item<T: Pixel, D: Dimension>(view: ArrayView<'_, T, D>) -> Result<Stack> {
        let shape = Shape::of(view.shape())?;
        Self::from_view(view, 1, shape)
    }

    /// A batch: the first axis counts the items, the others are an image (3D view) or a volume
    /// (4D view).
    pub fn batch<T: Pixel, D: Dimension>(view: ArrayView<'_, T, D>) -> Result<Stack> {
        let dims = view.shape();
        let shape = match dims.split_first() {
            Some((_, item)) if matches!(item.len(), 2 | 3) => Shape::of(item)?,
            _ => {
                return Err(Error::WrongDimensionality {
                    expected: "3 (a batch of images) or 4 (a batch of volumes)",
                    got: dims.len(),
                    shape: dims.to_vec(),
                })
            }
        };
        Self::from_view(view.view(), dims[0], shape)
    }

    /// One item from a row-major slice and its axes (2: an image, 3: a volume).
    pub fn slice<T: Pixel>(data: &[T], dims: &[usize]) -> Result<Stack> {
        let shape = Shape::of(dims)?;
        let expected = checked_len(dims)?;
        if expected != data.len() {
            return Err(Error::ShapeMismatch {
                len: data.len(),
                shape: dims.to_vec(),
                expected,
            });
        }
        check_size(1, &shape)?;
        let values = normalise(data.iter().map(|v| v.to_f32()), expected, dims)?;
        Ok(Stack::keyed(values, data.iter().copied(), 1, shape))
    }

    fn from_view<T: Pixel, D: Dimension>(
        view: ArrayView<'_, T, D>,
        count: usize,
        shape: Shape,
    ) -> Result<Stack> {
        check_size(count, &shape)?;
        let dims = view.shape().to_vec();
        let len = view.len();
        Ok(match view.as_slice() {
            // contiguous row-major: a slice iterator, which the compiler vectorises
            Some(slice) => {
                let values = normalise(slice.iter().map(|v| v.to_f32()), len, &dims)?;
                Stack::keyed(values, slice.iter().copied(), count, shape)
            }
            None => {
                let values = normalise(view.iter().map(|v| v.to_f32()), len, &dims)?;
                Stack::keyed(values, view.iter().copied(), count, shape)
            }
        })
    }

    /// A stack of validated `f32` values, with exact order keys where the input's values are not
    /// all exact in `f32`.
    fn keyed<T: Pixel>(
        values: Vec<f32>,
        input: impl Iterator<Item = T> + Clone,
        count: usize,
        shape: Shape,
    ) -> Stack {
        match exact_order_keys(input, &values) {
            Some(keys) => Stack {
                values: keys,
                rounded: Some(values),
                count,
                shape,
            },
            None => Stack {
                values,
                rounded: None,
                count,
                shape,
            },
        }
    }

    /// The input's values (rounded to `f32`), item after item: what diagrams and the loss report.
    pub fn rounded(&self) -> &[f32] {
        self.rounded.as_deref().unwrap_or(&self.values)
    }

    /// The input's values (rounded to `f32`) of item `b`.
    pub fn item_rounded(&self, b: usize) -> &[f32] {
        let n = self.shape.pixels();
        &self.rounded()[b * n..(b + 1) * n]
    }

    /// Replaces the order keys in diagrams of this stack by the input's (rounded) values, by index.
    pub fn report_values(&self, diagrams: &mut [Diagram]) {
        if self.rounded.is_none() {
            return;
        }
        for (b, diagram) in diagrams.iter_mut().enumerate() {
            let values = self.item_rounded(b);
            for pair in diagram.pairs.iter_mut().flatten() {
                pair.birth = values[pair.birth_index];
                if let Some(d) = pair.death_index {
                    pair.death = values[d];
                }
            }
        }
    }

    /// Every value (or order key), item after item: what the backends order.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The number of items.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The shape of every item.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The values (or order keys) of item `b`.
    pub fn item_values(&self, b: usize) -> &[f32] {
        let n = self.shape.pixels();
        &self.values[b * n..(b + 1) * n]
    }

    /// `[count, axes of an item...]`.
    pub fn dims(&self) -> Vec<usize> {
        [vec![self.count], self.shape.dims()].concat()
    }
}

/// Largest image (pixels) the index arithmetic supports: ranks times 8 must fit in `u32`.
pub const MAX_PIXELS: usize = (1 << 29) - 1;

/// The number of elements of `dims`, or [`Error::TooLarge`] when it overflows.
fn checked_len(dims: &[usize]) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or(Error::TooLarge {
            what: "element count",
            value: u64::MAX,
            limit: MAX_PIXELS as u64,
        })
}

fn normalise(values: impl Iterator<Item = f32>, len: usize, dims: &[usize]) -> Result<Vec<f32>> {
    if len == 0 {
        return Err(Error::Empty {
            shape: dims.to_vec(),
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

/// The checks of [`Stack::slice`] on a row-major `f32` image, where it is (no copy). `-0.0` is
/// left as it is: the CPU backend's keys do not tell it from `+0.0`.
pub(crate) fn check_f32_image(values: &[f32], height: usize, width: usize) -> Result<()> {
    if values.is_empty() {
        return Err(Error::Empty {
            shape: vec![height, width],
        });
    }
    check_size(1, &Shape::Image { height, width })?;
    check_nan(values)
}

/// Refuses items, or a batch, past [`MAX_PIXELS`].
fn check_size(count: usize, shape: &Shape) -> Result<()> {
    let n = shape
        .depth_height_width()
        .iter()
        .fold(1usize, |acc, &d| acc.saturating_mul(d));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_names_first_index() {
        let a = ndarray::arr2(&[[1.0f32, 2.0], [f32::NAN, f32::NAN]]);
        match Stack::item(a.view()) {
            Err(Error::NanPixel { index }) => assert_eq!(index, 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn strides_are_honoured() {
        let a = ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]);
        let s = Stack::item(a.t()).unwrap();
        assert_eq!(s.values(), &[1.0, 3.0, 2.0, 4.0]);
    }

    #[test]
    fn negative_zero_is_zero() {
        let s = Stack::slice(&[-0.0f32], &[1, 1]).unwrap();
        assert_eq!(s.values()[0].to_bits(), 0);
    }

    #[test]
    fn empty_and_bad_shapes() {
        assert!(matches!(
            Stack::slice::<f32>(&[], &[0, 3]),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(
            Stack::slice(&[1.0f32; 3], &[2, 2]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            Stack::slice(&[1.0f32; 3], &[3]),
            Err(Error::WrongDimensionality { .. })
        ));
        let flat = ndarray::Array1::<f32>::zeros(4);
        assert!(matches!(
            Stack::batch(flat.view()),
            Err(Error::WrongDimensionality { .. })
        ));
    }

    #[test]
    fn a_batch_is_images_or_volumes_by_its_axes() {
        let images = ndarray::Array3::<f32>::zeros((2, 3, 4));
        let s = Stack::batch(images.view()).unwrap();
        assert_eq!(
            (s.count(), s.shape()),
            (
                2,
                Shape::Image {
                    height: 3,
                    width: 4
                }
            )
        );
        let volumes = ndarray::Array4::<f32>::zeros((2, 3, 4, 5));
        let s = Stack::batch(volumes.view()).unwrap();
        assert_eq!(s.shape().domain(), Domain::Volume);
        assert_eq!(s.dims(), vec![2, 3, 4, 5]);
    }
}
