//! Exact persistent homology of 2D images and 3D volumes ([`Context::compute_volume`]: H0, H1, H2)
//! on the GPU (WGSL compute kernels on wgpu), with a native CPU backend that answers when there is no
//! adapter. For volumes the GPU pairs H0 and H2 and the host reduces H1.
//!
//! ```
//! use wgpu_persistence::{Context, Options, Construction};
//! let ctx = Context::cpu(); // or Context::new() for the GPU when there is one
//! let image = ndarray::arr2(&[[0.0f32, 2.0, 0.5], [2.0, 3.0, 2.0], [1.0, 2.0, 0.0]]);
//! let diagram = ctx.compute(image.view(), &Options::new(Construction::V)).unwrap();
//! // three minima (0.0, 0.5, 0.0 and 1.0 in the corners): one essential class, the rest die at 2.0
//! assert_eq!(diagram.essential_counts()[0], 1);
//! for pair in diagram.dim(0) {
//!     assert_eq!(image.as_slice().unwrap()[pair.birth_index], pair.birth);
//! }
//! ```
#![deny(missing_docs)]

pub mod context;
pub mod cpu;
pub mod diagram;
pub mod engine;
pub mod error;
pub mod grid;
pub mod image;
pub mod kernels;
pub mod loss;
pub mod options;
pub mod repair;

pub use context::{BackendChoice, BatchLossResult, Context, LossResult};
pub use diagram::{Backend, Diagram, PersistencePair, RawPair};
pub use error::{Error, Result};
pub use loss::{LossKind, TopologicalLoss};
pub use options::{Construction, Filtration, Options};
pub use repair::{repair, RepairOptions, RepairResult};
