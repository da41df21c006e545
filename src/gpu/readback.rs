//! Reading a run's results back: exactly the pair records written, or the pairing state the host
//! compacts, and H1's apparent pairs of volumes.

use super::engine::{GpuEngine, PairingReadback};
use super::workspace::{Workspace, RECORD_BYTES};
use crate::diagram::RawPair;
use crate::layout::PairRecord;
use crate::{Error, Result};

impl GpuEngine {
    /// Copies exactly the records written (`counts` per graph) and reads them, per item.
    pub(super) fn read_records(
        &self,
        ws: &mut Workspace,
        counts: &[u64],
        images: usize,
    ) -> Result<Vec<Vec<RawPair>>> {
        let bytes: Vec<u64> = counts.iter().map(|c| c * RECORD_BYTES).collect();
        let total: u64 = bytes.iter().sum();
        let mut out: Vec<Vec<RawPair>> = vec![Vec::new(); images];
        if total == 0 {
            return Ok(out);
        }
        let staging = ws.records_staging.at_least(&self.device, total);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-persistence.readback"),
            });
        let mut offset = 0;
        for (g, &b) in ws.graphs.iter().zip(&bytes) {
            if b > 0 {
                encoder.copy_buffer_to_buffer(&g.records, 0, staging, offset, Some(b));
            }
            offset += b;
        }
        self.queue.submit([encoder.finish()]);
        let words = self.read(&[(staging, total)])?.pop().unwrap_or_default();
        let records: &[PairRecord] = bytemuck::try_cast_slice(&words)
            .map_err(|e| Error::Internal(format!("pair records: {e}")))?;
        for r in records {
            if let Some(list) = out.get_mut(r.image as usize) {
                list.push(RawPair {
                    dim: r.dim & 0xff,
                    cell_slot: r.dim >> 8,
                    order: ((r.order_hi as u64) << 32) | r.order_lo as u64,
                    birth_index: r.birth_index,
                    death_index: r.death_index,
                });
            }
        }
        Ok(out)
    }

    /// The ranking and the pairing state of each graph that [`Self::run`] copied out.
    pub(super) fn read_state(&self, ws: &Workspace, images: usize) -> Result<PairingReadback> {
        let bytes = ws.ranking.pixels as u64 * 4;
        let ranking = ws
            .host_ranking
            .as_ref()
            .ok_or_else(|| Error::Internal("no ranking to compact from".into()))?;
        // the ranking, then vkey, best_hi and best_lo of each graph, mapped together
        let mut buffers = vec![(&ranking.order, bytes), (&ranking.keys, bytes)];
        for g in &ws.graphs {
            let state = g
                .host_state
                .as_ref()
                .ok_or_else(|| Error::Internal("no pairing state to compact from".into()))?;
            let bytes = g.grid.vertex_count() as u64 * images as u64 * 4;
            buffers.extend(state.iter().map(|b| (b, bytes)));
        }
        let mut words = self.read(&buffers)?.into_iter();
        let mut next = || words.next().unwrap_or_default();
        let (order, keys) = (next(), next());
        let graphs = ws.graphs.iter().map(|_| [next(), next(), next()]).collect();
        Ok(PairingReadback {
            grids: ws.graphs.iter().map(|g| g.grid).collect(),
            order,
            keys,
            graphs,
        })
    }

    /// H1's apparent pairs of every volume of the batch (copied out by the ranking's submission).
    pub(super) fn read_apparent(&self, ws: &Workspace, images: usize) -> Result<Vec<Vec<u32>>> {
        let Some(a) = &ws.apparent else {
            return Ok(Vec::new());
        };
        let bytes = a.words * images as u64 * 4;
        let all = self.read(&[(&a.copy, bytes)])?.pop().unwrap_or_default();
        Ok(all.chunks(a.words as usize).map(|c| c.to_vec()).collect())
    }
}
