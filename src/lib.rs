//! Exact persistent homology of 2D images and 3D volumes on the GPU (WGSL compute kernels on wgpu),
//! with a native CPU backend that answers when there is no adapter, and the topological loss of
//! Clough et al. (IEEE TPAMI 2022) with its gradient, for training segmentation networks.
//!
//! [`Context`] is the entry point: [`Context::compute`] gives the [`Diagram`] of one image (a 2D
//! view) or volume (a 3D view), [`Context::compute_batch`] those of a batch, and
//! [`Context::topological_loss`] / [`Context::topological_loss_batch`] the loss of a probability
//! map with `dL/dp`. Conventions (input, total order, output): `docs/conventions.md`; the layers of
//! the crate: `docs/ARCHITECTURE.md`.
//!
//! ```
//! use wgpu_persistence::{Construction, Context, Options};
//! let ctx = Context::cpu(); // or Context::new() for the GPU when there is one
//! let image = ndarray::arr2(&[[0.0f32, 2.0, 0.5], [2.0, 3.0, 2.0], [1.0, 2.0, 0.0]]);
//! let diagram = ctx.compute(image.view(), &Options::new(Construction::V)).unwrap();
//! // four minima (0.0, 0.5, 1.0 and 0.0 in the corners): one essential class, the rest die at 2.0
//! assert_eq!(diagram.essential_counts()[0], 1);
//! for pair in diagram.dim(0) {
//!     assert_eq!(image.as_slice().unwrap()[pair.birth_index], pair.birth);
//! }
//! ```
#![warn(missing_docs)]

mod context;
mod cpu;
mod diagram;
mod error;
mod gpu;
mod grid;
mod input;
mod layout;
mod loss;
mod options;
mod pipeline;
mod repair;
mod resident;

pub use context::{request_shared_device, BackendChoice, Context, BACKEND_VARIABLE};
pub use diagram::{Backend, Diagram, PersistencePair};
pub use error::{Error, Result};
pub use gpu::{KernelTime, RunStats};
pub use input::{Pixel, Shape};
pub use loss::{BatchLossResult, LossResult, LossTerm, LossTerms};
/// The `ndarray` this crate takes views of: use it to build inputs, so the versions match.
pub use ndarray;
pub use options::{Construction, Filtration, LossKind, Options, TopologicalLoss};
pub use repair::{repair, RepairOptions, RepairResult};
pub use resident::{BufferAt, ResidentOutputs, ResidentPlan, ResidentStatus, MAX_RESIDENT_BETA};

/// What the crate's own tests and benches reach inside for: the CPU ports of the kernels, the
/// reference pipeline, the graphs, and hooks into the GPU engine. Not part of the API: it changes
/// without notice.
#[doc(hidden)]
pub mod internals;

/// The README's Rust snippets, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeSnippets;

/// The resident plans' contract (`docs/resident.md`), its snippet compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../docs/resident.md")]
pub struct ResidentSnippets;
