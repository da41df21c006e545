//! The crate's error type.

/// Everything that can go wrong in this crate. No input makes the library panic: it answers with one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input holds a NaN; `index` is the first offending linear (row-major) index.
    #[error("input contains NaN at linear index {index}")]
    NanPixel {
        /// Row-major linear index of the first NaN.
        index: usize,
    },
    /// The input has no pixels.
    #[error("input is empty (shape {shape:?})")]
    Empty {
        /// The shape that was given.
        shape: Vec<usize>,
    },
    /// The input has the wrong number of axes for the call.
    #[error("expected {expected} axes, got {got} (shape {shape:?})")]
    WrongDimensionality {
        /// The axes the call accepts.
        expected: &'static str,
        /// Dimensions given.
        got: usize,
        /// The shape that was given.
        shape: Vec<usize>,
    },
    /// A slice's length does not match the shape it was given with.
    #[error("slice of length {len} does not match shape {shape:?} ({expected} elements)")]
    ShapeMismatch {
        /// Length of the slice.
        len: usize,
        /// The shape that was given.
        shape: Vec<usize>,
        /// The number of elements the shape needs.
        expected: usize,
    },
    /// The input is larger than this build or the adapter can handle.
    #[error("input too large: {what} ({value} > limit {limit})")]
    TooLarge {
        /// Which limit.
        what: &'static str,
        /// The value asked for.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// No GPU adapter was found where one was required.
    #[error("no GPU adapter available: {0}")]
    NoAdapter(String),
    /// The device could not be created or was lost.
    #[error("GPU device error: {0}")]
    Device(String),
    /// Mapping a buffer or waiting for the GPU failed.
    #[error("GPU readback failed: {0}")]
    Readback(String),
    /// The GPU pipeline did not converge within its round budget (a bug: please report it).
    #[error("GPU pairing did not converge after {rounds} rounds")]
    NotConverged {
        /// Rounds that were run.
        rounds: u32,
    },
    /// A map given to the loss or to repair holds a value outside `[0, 1]` (or an infinity).
    #[error(
        "a probability map holds values in [0, 1]; the value at linear index {index} is {value} \
         (map scores to [0, 1] first: a sigmoid or softmax of logits, or 8-bit values divided by 255)"
    )]
    NotAProbability {
        /// Row-major linear index of the first value outside `[0, 1]`.
        index: usize,
        /// That value (the input's own: a `f64` a hair above 1 that rounds to 1 as an `f32` is
        /// still refused).
        value: f64,
    },
    /// An invariant of an algorithm failed (a bug: please report it, with the input).
    #[error("internal error: {0}")]
    Internal(String),
    /// Invalid argument that is not about the image itself.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
