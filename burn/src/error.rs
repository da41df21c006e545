//! The crate's error type.

/// What can go wrong between a burn tensor and the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The library refused the input or failed (NaN or a value outside `[0, 1]` in a probability
    /// map, a prior of the wrong length, a lost device, ...): its own error, unchanged.
    #[error(transparent)]
    Persistence(#[from] wgpu_persistence::Error),
    /// The tensor's rank, shape or element type is not one the call takes.
    #[error("{0}")]
    Tensor(String),
    /// burn's wgpu runtime could not be initialised or given a device.
    #[error("burn's wgpu runtime: {0}")]
    Wgpu(String),
    /// A device that cannot be shared as asked (one made without the features and limits that
    /// burn's kernels assume, or one burn made lazily, whose wgpu device is out of reach).
    #[error("{0}")]
    Device(String),
    /// burn reported an error while it ran the work (a failed kernel, a lost device).
    #[error("burn: {0}")]
    Burn(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
