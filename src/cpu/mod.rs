//! The native CPU backend, which answers when there is no adapter (or when asked to):
//! [`image`] pairs the critical pixels of a 2D image, [`volume`] computes H0, H1 and H2 of a volume;
//! both share [`union_find`]. [`reference`] is the plain pipeline the tests trust (and the answer for
//! `keep_zero_persistence` on images), and [`ports`] holds the CPU port of every GPU kernel.

pub mod image;
pub mod ports;
pub mod reference;
pub mod union_find;
pub mod volume;

use crate::diagram::{assemble, Backend, Diagram};
use crate::input::{Shape, Stack};
use crate::options::Options;
use crate::Result;
use rayon::prelude::*;

/// Asks for the cache line of `data[index]`: only a hint (no load, no fault, even out of bounds).
/// Sweeps in filtration order read arrays all over memory; asking a few steps ahead overlaps the
/// misses instead of waiting for each in turn.
#[inline]
pub(crate) fn prefetch<T>(data: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let pointer = data.as_ptr().wrapping_add(index) as *const i8;
        // SAFETY: a prefetch never dereferences its address and cannot fault
        unsafe { _mm_prefetch::<_MM_HINT_T0>(pointer) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, index);
}

/// `rayon::join` when asked and rayon's pool has more than one thread; otherwise one after the other, on this
/// thread (handing work to a single pool thread costs milliseconds of scheduling).
pub(crate) fn join<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if parallel && rayon::current_num_threads() > 1 {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// The diagram of one 2D image (validated; `-0.0` may be left in) with zero-persistence pairs
/// dropped: the critical-pixel pipeline ([`image`]).
pub(crate) fn image_diagram(values: &[f32], h: usize, w: usize, options: &Options) -> Diagram {
    Diagram {
        shape: vec![h, w],
        pairs: image::persistence_pairs(values, h, w, options),
        backend: Backend::Cpu,
    }
}

/// The diagram of every item of a validated stack. For 2D images, zero-persistence pairs are dropped
/// by the critical-pixel pipeline ([`image`]); keeping them takes the reference pipeline
/// ([`reference::raw_pairs`]), which pairs every edge. Volumes take [`volume`]. The items of a batch
/// are computed in parallel on all cores (rayon's global pool); one item runs its two sweeps (H0 and
/// H1 of an image, H0 and H2 of a volume) on two threads when the pool has them and the item is large
/// enough.
pub(crate) fn diagrams(stack: &Stack, options: &Options) -> Result<Vec<Diagram>> {
    let shape = stack.shape();
    let one = |b: usize| -> Result<Diagram> {
        let values = stack.item_values(b);
        match shape {
            Shape::Volume { .. } => Ok(Diagram {
                pairs: volume::persistence_pairs(values, shape.depth_height_width(), options)?,
                shape: shape.dims(),
                backend: Backend::Cpu,
            }),
            Shape::Image { height, width } if options.keep_zero_persistence => Ok(assemble(
                values,
                shape.dims(),
                reference::raw_pairs(values, height, width, options),
                options.is_superlevel(),
                true,
                Backend::Cpu,
            )),
            Shape::Image { height, width } => Ok(image_diagram(values, height, width, options)),
        }
    };
    if stack.count() > 1 {
        (0..stack.count()).into_par_iter().map(one).collect()
    } else {
        (0..stack.count()).map(one).collect()
    }
}
