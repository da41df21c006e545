//! Runs a validated stack on the GPU engine or on the CPU backend, and does the GPU path's host
//! steps: compacting a pairing state read back (volumes, and records past one binding), reducing
//! H1 of volumes from the GPU's merges and apparent pairs, and attaching values to the raw pairs.

use rayon::prelude::*;

use crate::cpu;
use crate::cpu::ports::compact_pairs::{compact_pairs, PairingState};
use crate::cpu::volume::Merges;
use crate::diagram::{assemble, Backend, Diagram, RawPair};
use crate::gpu::{GpuEngine, GpuPairs, GpuRun, PairingReadback};
use crate::input::{check_f32_image, Domain, Shape, Stack};
use crate::options::Options;
use crate::Result;

/// Where a context's work runs: its GPU engine, or the CPU backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pipeline<'a> {
    pub engine: Option<&'a GpuEngine>,
}

impl Pipeline<'_> {
    /// Which backend answers.
    pub fn backend(&self) -> Backend {
        match self.engine {
            Some(_) => Backend::Gpu,
            None => Backend::Cpu,
        }
    }

    /// The diagram of every item of the stack, with the input's values.
    pub fn diagrams(&self, stack: &Stack, options: &Options) -> Result<Vec<Diagram>> {
        let mut diagrams = self.ordered_diagrams(stack, options)?;
        stack.report_values(&mut diagrams);
        Ok(diagrams)
    }

    /// The diagram of every item, with the values the backends ordered (order keys for inputs that
    /// have them).
    fn ordered_diagrams(&self, stack: &Stack, options: &Options) -> Result<Vec<Diagram>> {
        let Some(engine) = self.engine else {
            return cpu::diagrams(stack, options);
        };
        let GpuRun {
            pairs, apparent, ..
        } = engine.run(stack, options)?;
        let raw = match pairs {
            GpuPairs::Records(raw) => raw,
            GpuPairs::State(state) => compact_on_host(&state, stack, options)?,
        };
        match stack.shape().domain() {
            Domain::Volume => {
                volume_diagrams(stack.values(), stack.shape(), options, raw, &apparent)
            }
            Domain::Image => Ok(raw
                .into_iter()
                .enumerate()
                .map(|(b, pairs)| {
                    assemble(
                        stack.item_values(b),
                        stack.shape().dims(),
                        pairs,
                        options.is_superlevel(),
                        options.keep_zero_persistence,
                        Backend::Gpu,
                    )
                })
                .collect()),
        }
    }

    /// The diagram of one row-major `f32` image: on the CPU backend it is made from the values where
    /// they are, without the copy that a stack takes.
    pub fn image_in_place(
        &self,
        values: &[f32],
        dims: [usize; 2],
        options: &Options,
    ) -> Result<Diagram> {
        let [height, width] = dims;
        if self.engine.is_none() && !options.keep_zero_persistence {
            check_f32_image(values, height, width)?;
            return Ok(cpu::image_diagram(values, height, width, options));
        }
        let stack = Stack::slice(values, &dims)?;
        first(self.diagrams(&stack, options)?)
    }

    /// The dense gradient (`len` values) from contributions sorted by pixel, summed per pixel in
    /// order (the same bits on both backends).
    pub fn gradient_scatter(&self, pixels: &[u32], values: &[f32], len: usize) -> Result<Vec<f32>> {
        match self.engine {
            Some(engine) => engine.gradient_scatter(pixels, values, len),
            None => Ok(cpu::ports::gradient_scatter::gradient_scatter(
                pixels, values, len,
            )),
        }
    }
}

/// The one diagram of a stack of one.
pub(crate) fn first(mut diagrams: Vec<Diagram>) -> Result<Diagram> {
    match diagrams.is_empty() {
        true => Err(crate::Error::Internal("no diagram computed".into())),
        false => Ok(diagrams.swap_remove(0)),
    }
}

/// The raw pairs of every item from a pairing state read back.
pub(crate) fn compact_on_host(
    state: &PairingReadback,
    stack: &Stack,
    options: &Options,
) -> Result<Vec<Vec<RawPair>>> {
    // a volume's merges all come back (zero persistence too): H1 on the host needs their cells
    let keep = options.keep_zero_persistence || stack.shape().domain() == Domain::Volume;
    let mut out: Vec<Vec<RawPair>> = vec![Vec::new(); stack.count()];
    for (grid, [vkey, best_hi, best_lo]) in state.grids.iter().zip(&state.graphs) {
        let view = PairingState {
            vkey,
            best_hi,
            best_lo,
            order: &state.order,
            keys: &state.keys,
        };
        for (list, pairs) in out
            .iter_mut()
            .zip(compact_pairs(grid, stack.count(), keep, view)?)
        {
            list.extend(pairs);
        }
    }
    Ok(out)
}

/// Volumes: H0 and H2 (and which cells merged) and H1's apparent pairs come from the GPU; the rest
/// of H1 is reduced here, on all cores. `values`: the whole batch's, row-major, items of `shape`.
pub(crate) fn volume_diagrams(
    values: &[f32],
    shape: Shape,
    options: &Options,
    raw: Vec<Vec<RawPair>>,
    apparent: &[Vec<u32>],
) -> Result<Vec<Diagram>> {
    let n = shape.pixels();
    if values.len() != raw.len() * n {
        return Err(crate::Error::Internal(format!(
            "{} values for {} volumes of {n} voxels",
            values.len(),
            raw.len()
        )));
    }
    raw.into_par_iter()
        .enumerate()
        .map(|(b, merges)| {
            let (primal, dual): (Vec<RawPair>, Vec<RawPair>) =
                merges.into_iter().partition(|m| m.dim == 0);
            let merges = Merges {
                primal: &primal,
                dual: &dual,
                apparent: apparent.get(b).map(|a| a.as_slice()),
            };
            Ok(Diagram {
                pairs: cpu::volume::persistence_pairs_from_merges(
                    &values[b * n..(b + 1) * n],
                    shape.depth_height_width(),
                    options,
                    merges,
                )?,
                shape: shape.dims(),
                backend: Backend::Gpu,
            })
        })
        .collect()
}
