//! Recording the stages of a diagram into an encoder: the ranking pass, and one pass per graph with
//! its init, its hooking rounds and its compaction. Nothing here submits or maps.

use super::kernels::boruvka_control::ControlStep;
use super::kernels::boruvka_select::SelectPass;
use super::kernels::{GraphKernels, Kernels};
use super::timing::KernelTimer;
use super::workspace::{GraphStage, Ranking, ScanLevel, Workspace, CONTROL_BYTES};
use crate::layout;

/// Records into a pass or an encoder with the compiled kernels (the engine lends them).
pub(crate) struct Recorder<'a> {
    pub kernels: &'a Kernels,
    pub device: &'a wgpu::Device,
}

/// What one submission of [`Recorder::diagram`] holds.
pub(crate) struct Submission<'a> {
    /// Whether it ranks (the first of a run).
    pub ranks: bool,
    /// The graphs it pairs.
    pub graphs: &'a [usize],
    /// Hooking rounds recorded per graph.
    pub rounds: u32,
    /// Items of the batch.
    pub images: usize,
}

impl Recorder<'_> {
    /// The graph kernels `g` was bound for.
    fn graph_kernels(&self, g: &GraphStage) -> &GraphKernels {
        self.kernels.graphs(self.device, g.grid.domain())
    }

    /// Records the ranking: keys, the radix sort (histogram, scan, scatter per pass), the ranks.
    pub(super) fn ranking(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        r: &Ranking,
        timer: Option<&KernelTimer>,
    ) {
        let k = &self.kernels;
        k.order_keys
            .record(pass, &r.keys_bind, r.pixels as u64, timer);
        for sort_pass in &r.passes {
            k.radix_histogram
                .record(pass, &sort_pass.histogram, r.pixels as u64, timer);
            self.scan(pass, &r.scan_levels, timer);
            k.radix_scatter
                .record(pass, &sort_pass.scatter, r.pixels as u64, timer);
        }
        k.rank_scatter
            .record(pass, &r.rank_bind, r.pixels as u64, timer);
    }

    /// Records a multi-level exclusive scan in place: reduce down the levels, apply back up.
    pub(super) fn scan(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        levels: &[ScanLevel],
        timer: Option<&KernelTimer>,
    ) {
        let k = &self.kernels;
        for level in levels {
            if let Some(reduce) = &level.reduce {
                k.scan_reduce
                    .record(pass, reduce, level.count as u64, timer);
            }
        }
        for level in levels.iter().rev() {
            k.scan_apply
                .record(pass, &level.apply, level.count as u64, timer);
        }
    }

    /// Records the pairing of graph `g`: its init and `rounds` hooking rounds (the first is the
    /// vertex-local one).
    pub(super) fn pairing(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        g: &GraphStage,
        rounds: u32,
        timer: Option<&KernelTimer>,
    ) {
        let k = &self.kernels;
        let gk = self.graph_kernels(g);
        let control = |pass: &mut wgpu::ComputePass<'_>, step| {
            k.boruvka_control.record(pass, step, &g.control_bind, timer)
        };
        gk.init.record(pass, &g.init, g.vertices, timer);
        // round 1 vertex by vertex, then rounds over the live edges and roots
        control(pass, ControlStep::FirstRound);
        gk.first_round
            .record(pass, &g.first_round, g.vertices, timer);
        control(pass, ControlStep::AfterHook);
        k.pointer_jump.record(pass, &g.jump[0], &g.args, timer);
        for round in 1..rounds as usize {
            let p = round % 2;
            control(pass, ControlStep::RoundStart);
            gk.select.record(
                pass,
                SelectPass::High,
                &g.select[p],
                &g.args,
                layout::SLOT_SELECT_FIRST,
                timer,
            );
            control(pass, ControlStep::AfterSelect);
            for which in [SelectPass::Low, SelectPass::Target] {
                gk.select.record(
                    pass,
                    which,
                    &g.select[p],
                    &g.args,
                    layout::SLOT_SELECT_REST,
                    timer,
                );
            }
            k.boruvka_hook.record(pass, &g.hook[p], &g.args, timer);
            control(pass, ControlStep::AfterHook);
            k.pointer_jump.record(pass, &g.jump[p], &g.args, timer);
        }
    }

    /// Records one submission: the ranking pass (the first submission only; for volumes it also
    /// finds H1's apparent pairs), one pass per graph still going, the copies the host reads after
    /// it (control words, stage timestamps, and where the host compacts: the ranking and each graph's
    /// state, which the next graph overwrites).
    pub(super) fn diagram(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        ws: &Workspace,
        s: &Submission<'_>,
        timer: Option<&KernelTimer>,
    ) {
        // three passes (ranking, H0 pairing, dual pairing), timed when the adapter can
        let stage_writes = |stage: usize| ws.timestamps.as_ref().map(|t| t.writes(stage));
        if s.ranks {
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("wgpu-persistence.ranking"),
                    timestamp_writes: stage_writes(0),
                });
                if let Some(timer) = timer {
                    timer.start_pass(&mut pass);
                }
                self.ranking(&mut pass, &ws.ranking, timer);
                if let (Some(a), Some(kernel)) = (
                    &ws.apparent,
                    &self
                        .kernels
                        .graphs(self.device, ws.key.shape.domain())
                        .apparent,
                ) {
                    kernel.record(&mut pass, &a.bind, a.words * s.images as u64, timer);
                }
            }
            if let Some(a) = &ws.apparent {
                let bytes = a.words * s.images as u64 * 4;
                encoder.copy_buffer_to_buffer(&a.buffer, 0, &a.copy, 0, Some(bytes));
            }
            if let Some(h) = &ws.host_ranking {
                let bytes = ws.ranking.pixels as u64 * 4;
                encoder.copy_buffer_to_buffer(&ws.ranking.order, 0, &h.order, 0, Some(bytes));
                encoder.copy_buffer_to_buffer(&ws.ranking.keys, 0, &h.keys, 0, Some(bytes));
            }
        }
        for &i in s.graphs {
            let g = &ws.graphs[i];
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("wgpu-persistence.pairing"),
                    timestamp_writes: stage_writes(i + 1),
                });
                if let Some(timer) = timer {
                    timer.start_pass(&mut pass);
                }
                self.pairing(&mut pass, g, s.rounds, timer);
                if g.host_state.is_none() {
                    self.graph_kernels(g)
                        .compact
                        .record(&mut pass, &g.compact, g.vertices, timer);
                }
            }
            // the graphs share the per-vertex arrays: keep this one's state before the next
            if let Some(state) = &g.host_state {
                let bytes = g.vertices * 4;
                let p = &ws.pairing;
                for (from, to) in [&p.vkey, &p.best[0], &p.best[1]].into_iter().zip(state) {
                    encoder.copy_buffer_to_buffer(from, 0, to, 0, Some(bytes));
                }
            }
        }
        if let Some(t) = &ws.timestamps {
            t.resolve(encoder, s.stages(), &ws.readback, 2 * CONTROL_BYTES);
        }
        for (i, g) in ws.graphs.iter().enumerate() {
            encoder.copy_buffer_to_buffer(
                &g.control,
                0,
                &ws.readback,
                i as u64 * CONTROL_BYTES,
                Some(CONTROL_BYTES),
            );
        }
    }
}

impl Submission<'_> {
    /// The stages it records: the ranking (the first only), then the graphs going.
    pub fn stages(&self) -> std::ops::Range<usize> {
        let first = match self.ranks {
            true => 0,
            false => self.graphs.first().map_or(1, |g| g + 1),
        };
        first..self.graphs.last().map_or(1, |g| g + 2)
    }
}
