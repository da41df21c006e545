//! The gradient scatter on the GPU: contributions sorted by pixel in, the dense gradient out, in
//! buffers kept between calls (grown to the largest).

use super::buffers::{mappable, storage, uniform};
use super::engine::{GpuEngine, ScatterBuffers};
use super::kernels::whole;
use crate::layout::{self, ScatterParams};
use crate::{Error, Result};

impl GpuEngine {
    /// The dense gradient (`len` values) from contributions sorted by pixel (`pixels[i]` gets
    /// `values[i]`), summed per pixel in order on the GPU.
    pub fn gradient_scatter(&self, pixels: &[u32], values: &[f32], len: usize) -> Result<Vec<f32>> {
        self.check_lost()?;
        let before = self.transfers();
        let limit = self.device.limits().max_storage_buffer_binding_size;
        let count = pixels.len().min(values.len());
        if (len as u64) * 4 > limit || (count as u64) * 4 > limit {
            return Err(Error::TooLarge {
                what: "bytes in one storage binding on this adapter",
                value: (len.max(count) as u64) * 4,
                limit,
            });
        }
        let mut scatter = self
            .scatter
            .lock()
            .map_err(|_| Error::Device("scatter lock poisoned".into()))?;
        let [pixel_buf, value_buf, gradient, readback, params] =
            self.scatter_buffers(&mut scatter, count as u64, len as u64);
        let bytes = (len as u64 * 4).max(4);
        if count > 0 {
            self.write(&pixel_buf, 0, bytemuck::cast_slice(&pixels[..count]));
            self.write(&value_buf, 0, bytemuck::cast_slice(&values[..count]));
        }
        let scatter_params = ScatterParams {
            count: count as u32,
            pixels: len as u32,
        };
        self.write(&params, 0, bytemuck::bytes_of(&scatter_params));
        let bind = self.kernels.gradient_scatter.bind(
            &self.device,
            layout::gradient_scatter::Bindings {
                params: whole(&params),
                pixel: whole(&pixel_buf),
                value: whole(&value_buf),
                gradient: whole(&gradient),
            },
        );
        let mut words = self.validated(|| {
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-persistence.gradient"),
                });
            encoder.clear_buffer(&gradient, 0, Some(bytes.next_multiple_of(4)));
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("wgpu-persistence.gradient"),
                    timestamp_writes: None,
                });
                self.kernels
                    .gradient_scatter
                    .record(&mut pass, &bind, count as u64, None);
            }
            encoder.copy_buffer_to_buffer(&gradient, 0, &readback, 0, Some(bytes));
            self.queue.submit([encoder.finish()]);
            self.read(&[(&readback, bytes)])
        })?;
        // a loss call's statistics count the scatter's transfers with its diagrams'
        let after = self.transfers();
        if let Ok(mut last) = self.last_stats.lock() {
            last.bytes_mapped += after[0] - before[0];
            last.bytes_written += after[1] - before[1];
        }
        let mut out: Vec<f32> = bytemuck::cast_slice(&words.pop().unwrap_or_default()).to_vec();
        out.truncate(len);
        Ok(out)
    }

    /// The scatter's buffers, grown to `contributions` and `pixels` when smaller.
    fn scatter_buffers(
        &self,
        s: &mut ScatterBuffers,
        contributions: u64,
        pixels: u64,
    ) -> [wgpu::Buffer; 5] {
        use wgpu::BufferUsages as U;
        if s.contributions < contributions || s.pixels < pixels {
            if let Some(old) = s.buffers.take() {
                old.iter().for_each(|b| b.destroy());
            }
            s.contributions = s
                .contributions
                .max(contributions)
                .max(1)
                .next_power_of_two();
            s.pixels = s.pixels.max(pixels).max(1).next_power_of_two();
        }
        let (d, n, p) = (&self.device, s.contributions.max(1), s.pixels.max(1));
        s.buffers
            .get_or_insert_with(|| {
                [
                    storage(d, "contribution_pixels", n * 4, U::COPY_DST),
                    storage(d, "contribution_values", n * 4, U::COPY_DST),
                    storage(d, "gradient", p * 4, U::COPY_SRC | U::COPY_DST),
                    mappable(d, "gradient_readback", p * 4),
                    uniform(d, "scatter_params", &ScatterParams::default()),
                ]
            })
            .clone()
    }
}
