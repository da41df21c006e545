//! Hooks into the middle of a run, for the kernel tests: the ranking alone, and the pairing state
//! after a given number of rounds, both read back.

use super::buffers::mappable;
use super::engine::GpuEngine;
use super::kernels::{whole, ComputeKernel};
use crate::input::Stack;
use crate::layout::{Access, SHADERS};
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
                |pass| self.recorder().ranking(pass, &ws.ranking, None),
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
                    self.recorder().ranking(pass, &ws.ranking, None);
                    self.recorder().pairing(pass, g, rounds, None);
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

    /// Runs one kernel alone: `buffers[i]` is the content of binding `i` (words; a uniform binding
    /// too), `constants` its override constants, `groups` the dispatch. Every storage binding is
    /// read back into its vector. For the kernel tests, which hold each kernel to its CPU port.
    pub fn run_kernel(
        &self,
        name: &str,
        constants: &[(&str, f64)],
        buffers: &mut [Vec<u32>],
        groups: (u32, u32),
    ) -> Result<()> {
        use wgpu::util::DeviceExt;
        let shader = SHADERS
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::InvalidArgument(format!("no kernel {name}")))?;
        if buffers.len() != shader.access.len() {
            return Err(Error::InvalidArgument(format!(
                "{name} has {} bindings, {} buffers given",
                shader.access.len(),
                buffers.len()
            )));
        }
        let kernel = ComputeKernel::new(&self.device, shader, constants);
        let made: Vec<wgpu::Buffer> = buffers
            .iter()
            .zip(shader.access)
            .map(|(words, access)| {
                let mut contents = words.clone();
                contents.resize(contents.len().max(4).next_multiple_of(4), 0);
                let usage = match access {
                    Access::Uniform => wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::STORAGE,
                    _ => wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                };
                self.device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some("wgpu-persistence.probe"),
                        contents: bytemuck::cast_slice(&contents),
                        usage,
                    })
            })
            .collect();
        let entries: Vec<wgpu::BindGroupEntry<'_>> = made
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: wgpu::BindingResource::Buffer(whole(b)),
            })
            .collect();
        let bind = kernel.bind(&self.device, &entries);
        let copies: Vec<(usize, wgpu::Buffer, u64)> = buffers
            .iter()
            .enumerate()
            .filter(|(i, _)| shader.access[*i] != Access::Uniform)
            .map(|(i, words)| {
                let bytes = (words.len() as u64 * 4).max(4);
                (
                    i,
                    mappable(&self.device, "wgpu-persistence.probe_readback", bytes),
                    bytes,
                )
            })
            .collect();
        let reads: Vec<(&wgpu::Buffer, u64)> = copies.iter().map(|(_, b, n)| (b, *n)).collect();
        let words = self.validated(|| {
            self.submit_and_read(
                "wgpu-persistence.probe",
                |pass| kernel.dispatch(pass, &bind, groups, None),
                |encoder| {
                    for (i, copy, bytes) in &copies {
                        encoder.copy_buffer_to_buffer(&made[*i], 0, copy, 0, Some(*bytes));
                    }
                },
                &reads,
            )
        })?;
        for ((i, _, _), got) in copies.iter().zip(words) {
            let n = buffers[*i].len();
            buffers[*i] = got.into_iter().take(n).collect();
        }
        Ok(())
    }
}
