//! Hooks into the middle of a run, for the kernel tests: the ranking alone, and the pairing state
//! after a given number of rounds, both read back.

use super::buffers::mappable;
use super::engine::GpuEngine;
use crate::input::Stack;
use crate::options::Options;
use crate::{Error, Result};

impl GpuEngine {
    /// Runs only the ranking and reads back `(rank, order)` of the whole stack (for the kernel tests).
    pub fn ranks(&self, stack: &Stack, options: &Options) -> Result<(Vec<u32>, Vec<u32>)> {
        let guard = self.workspace_for(stack, options)?;
        let ws = guard
            .as_ref()
            .ok_or_else(|| Error::Device("no workspace".into()))?;
        self.write_inputs(ws, stack, options);
        let bytes = ws.ranking.pixels as u64 * 4;
        let readback = mappable(&self.device, "ranks_readback", 2 * bytes);
        let mut words = self.validated(|| {
            self.submit_and_read(
                "wgpu-persistence.ranks",
                |pass| self.record_ranking(pass, &ws.ranking, None),
                |encoder| {
                    encoder.copy_buffer_to_buffer(&ws.ranking.rank, 0, &readback, 0, Some(bytes));
                    encoder.copy_buffer_to_buffer(
                        &ws.ranking.order,
                        0,
                        &readback,
                        bytes,
                        Some(bytes),
                    );
                },
                &[(&readback, 2 * bytes)],
            )
        })?;
        let mut rank = words.pop().unwrap_or_default();
        let order = rank.split_off(ws.ranking.pixels as usize);
        Ok((rank, order))
    }

    /// Runs the ranking and then exactly `rounds` hooking rounds of graph `which` (0: primal, 1: dual),
    /// and reads back `(parent, death)` of its vertices (`death` as `hi, lo` word pairs). For the
    /// kernel tests, which compare this state with the CPU port after the same rounds.
    pub fn pairing_state(
        &self,
        stack: &Stack,
        options: &Options,
        which: usize,
        rounds: u32,
    ) -> Result<(Vec<u32>, Vec<u32>)> {
        let guard = self.workspace_for(stack, options)?;
        let ws = guard
            .as_ref()
            .ok_or_else(|| Error::Device("no workspace".into()))?;
        let g = ws
            .graphs
            .get(which)
            .ok_or_else(|| Error::InvalidArgument(format!("no graph {which}")))?;
        self.write_inputs(ws, stack, options);
        let initial = g.initial_control(stack.count(), ws.pairing.edge_capacity);
        self.queue
            .write_buffer(&g.control, 0, bytemuck::cast_slice(&initial));
        let nv = g.vertices;
        let readback = mappable(&self.device, "pairing_state_readback", nv * 12);
        let p = &ws.pairing;
        let mut words = self.validated(|| {
            self.submit_and_read(
                "wgpu-persistence.pairing_state",
                |pass| {
                    self.record_ranking(pass, &ws.ranking, None);
                    self.record_pairing(pass, g, rounds, None);
                },
                |encoder| {
                    for (i, from) in [&p.parent, &p.best[0], &p.best[1]].into_iter().enumerate() {
                        encoder.copy_buffer_to_buffer(
                            from,
                            0,
                            &readback,
                            i as u64 * nv * 4,
                            Some(nv * 4),
                        );
                    }
                },
                &[(&readback, nv * 12)],
            )
        })?;
        let mut parent = words.pop().unwrap_or_default();
        let lo = parent.split_off(2 * nv as usize);
        let hi = parent.split_off(nv as usize);
        // a vertex's death is its best key once it has hooked (NONE while it is a root)
        let death = hi.iter().zip(&lo).flat_map(|(&h, &l)| [h, l]).collect();
        Ok((parent, death))
    }
}
