//! `time`: the computation timed in process, for benchmark scripts.

use std::io::{self, Write};
use std::time::Instant;

use serde::Serialize;
use wgpu_persistence::ndarray::ArrayD;
use wgpu_persistence::{
    Backend, BufferAt, Context, Diagram, KernelTime, ResidentPlan, RunStats, TopologicalLoss,
};

use crate::args::TimeArgs;
use crate::input::{load_input, load_map};
use crate::output::write_output;
use crate::{
    answered_by, compute, fail, open_context, options, parse_betti, print_timings, CliResult,
};

#[derive(Debug, Serialize)]
struct TimeReport {
    backend: String,
    adapter: String,
    shape: Vec<usize>,
    repeat: u32,
    median_s: f64,
    min_s: f64,
    pairs: Vec<usize>,
    /// Median GPU time of the ranking, H0 and H1 stages, from timestamp queries (GPU backend, when
    /// the adapter offers them).
    gpu_stage_median_s: Option<[f64; 3]>,
    /// `--kernel-timings`: the median GPU time of each kernel over the timed runs, in order of first
    /// dispatch (GPU backend, when the adapter can write timestamps inside passes).
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_kernel_median_s: Option<Vec<KernelReport>>,
    /// What crossed the bus in the last timed run (GPU backend): bytes the host mapped (read back)
    /// and bytes it wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_mapped: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_written: Option<u64>,
    /// `--resident`: the step ran on a resident plan.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    resident: bool,
}

/// One kernel's line of `--kernel-timings`.
#[derive(Debug, Serialize)]
struct KernelReport {
    kernel: String,
    median_s: f64,
    /// Dispatches in one run (the last one).
    dispatches: u32,
}

pub(crate) fn run_time(args: &TimeArgs) -> CliResult<()> {
    // the loss takes a probability map, as `loss` reads it (an 8-bit or 16-bit image scaled to
    // [0, 1]: the bundled sample too)
    let input = match args.loss {
        Some(_) => load_map(args.compute.input.as_deref(), args.compute.batch)?,
        None => load_input(args.compute.input.as_deref(), args.compute.batch)?,
    };
    let ctx = open_context(args.compute.backend)?;
    if args.kernel_timings && args.loss.is_some() {
        let _ = writeln!(
            io::stderr(),
            "wgpu-persistence: --kernel-timings times the diagram runs only: ignored with --loss"
        );
    } else if args.kernel_timings {
        let timed = ctx.set_kernel_timings(true);
        if !timed {
            let _ = writeln!(
                io::stderr(),
                "wgpu-persistence: --kernel-timings: this backend or adapter cannot time kernels \
                 (it needs timestamps inside compute passes)"
            );
        }
    }
    let loss = match &args.loss {
        Some(betti) => {
            let betti =
                parse_betti(betti).map_err(|e| fail(e.0.replacen("--betti", "--loss", 1)))?;
            let mut loss = TopologicalLoss::new(&betti);
            loss.construction = args.compute.construction.into();
            Some(loss)
        }
        None => None,
    };
    let options = match &loss {
        Some(loss) => loss.options(),
        None => options(&args.compute, false),
    };
    if args.warmup == 0 && loss.is_some() {
        return Err(fail(
            "--warmup 0 times the first call of the process, which computes the diagram: not with \
             --loss",
        ));
    }
    let start = Instant::now();
    let (mut diagrams, first) = compute(&ctx, &input, &options)?;
    let first_seconds = start.elapsed().as_secs_f64();
    let resident = match (&loss, args.resident) {
        (Some(loss), true) => Some(ResidentStep::new(&ctx, &input.values, loss)?),
        _ => None,
    };
    let mut bytes = None;
    let mut seconds = Vec::with_capacity(args.repeat as usize);
    let mut stages: Vec<[f64; 3]> = Vec::new();
    let mut kernels: Vec<Vec<KernelTime>> = Vec::new();
    // without warm-up the first call is the first timed one: its buffers and pipelines are new
    if args.warmup == 0 {
        seconds.push(first_seconds);
        stages.extend(first.stage_seconds);
        kernels.extend(first.kernel_seconds);
    }
    // the warm-up runs after the first are runs like the timed ones, whose figures are dropped
    for run in 1..args.warmup + args.repeat {
        if run == args.warmup {
            seconds.clear();
            stages.clear();
            kernels.clear();
        }
        let start = Instant::now();
        match (&loss, &resident) {
            // one training step on the device: record, submit, the status read
            (Some(_), Some(step)) => {
                let stats = step.run().map_err(|e| input.describe(e))?;
                seconds.push(start.elapsed().as_secs_f64());
                bytes = Some((stats.bytes_mapped, stats.bytes_written));
            }
            // the loss and the gradient map on the host, from the host array
            (Some(loss), None) => {
                let result = match input.batch {
                    false => ctx
                        .topological_loss(input.values.view(), loss)
                        .map(|r| r.loss),
                    true => ctx
                        .topological_loss_batch(input.values.view(), std::slice::from_ref(loss))
                        .map(|r| r.losses.iter().sum()),
                };
                result.map_err(|e| input.describe(e))?;
                seconds.push(start.elapsed().as_secs_f64());
                let stats = ctx.last_run_stats();
                bytes = (ctx.backend() == Backend::Gpu)
                    .then_some((stats.bytes_mapped, stats.bytes_written));
            }
            (None, _) => {
                let (d, stats) = compute(&ctx, &input, &options)?;
                seconds.push(start.elapsed().as_secs_f64());
                diagrams = d;
                bytes = (ctx.backend() == Backend::Gpu)
                    .then_some((stats.bytes_mapped, stats.bytes_written));
                stages.extend(stats.stage_seconds);
                kernels.extend(stats.kernel_seconds);
                if stats.untimed_dispatches > 0 {
                    let _ = writeln!(
                        io::stderr(),
                        "wgpu-persistence: --kernel-timings: {} dispatches past the query set's \
                         4096 timestamps went untimed",
                        stats.untimed_dispatches
                    );
                }
            }
        }
    }
    seconds.sort_by(f64::total_cmp);
    let gpu_stage_median_s = (!stages.is_empty()).then(|| {
        let mut out = [0.0; 3];
        for (i, o) in out.iter_mut().enumerate() {
            let mut column: Vec<f64> = stages.iter().map(|s| s[i]).collect();
            column.sort_by(f64::total_cmp);
            *o = median(&column);
        }
        out
    });
    let report = TimeReport {
        backend: answered_by(&ctx, &diagrams).to_string(),
        adapter: match (answered_by(&ctx, &diagrams), ctx.adapter_info()) {
            (Backend::Gpu, Some(info)) => info.name.clone(),
            _ => "cpu".to_string(),
        },
        shape: input.values.shape().to_vec(),
        repeat: args.repeat,
        median_s: median(&seconds),
        min_s: seconds.first().copied().unwrap_or(0.0),
        pairs: pair_counts(&diagrams),
        gpu_stage_median_s,
        gpu_kernel_median_s: kernel_medians(&kernels),
        bytes_mapped: bytes.map(|b| b.0),
        bytes_written: bytes.map(|b| b.1),
        resident: resident.is_some(),
    };
    if args.timings {
        print_timings(&ctx, &diagrams, report.median_s, gpu_stage_median_s);
    }
    write_output(None, |w| {
        serde_json::to_writer(&mut *w, &report)?;
        writeln!(w)
    })
}

/// `--resident`: a training step on a resident plan, the maps uploaded once.
struct ResidentStep<'a> {
    ctx: &'a Context,
    plan: ResidentPlan,
    maps: wgpu::Buffer,
    outputs: wgpu::Buffer,
    pixels: u64,
}

impl<'a> ResidentStep<'a> {
    fn new(ctx: &'a Context, values: &ArrayD<f32>, loss: &TopologicalLoss) -> CliResult<Self> {
        let Some((device, _)) = ctx.device_and_queue() else {
            return Err(fail("--resident needs the GPU backend (--backend gpu)"));
        };
        let data = values
            .as_slice()
            .ok_or_else(|| fail("--resident: the maps are not row-major"))?;
        let plan = ctx
            .resident_loss_plan(values.shape(), std::slice::from_ref(loss))
            .map_err(|e| fail(e.to_string()))?;
        use wgpu::util::DeviceExt;
        let maps = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("maps"),
            contents: bytemuck::cast_slice(data),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        });
        let pixels = data.len() as u64;
        let batch = values.shape().first().copied().unwrap_or(1) as u64;
        let outputs = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("gradient and losses"),
            size: (pixels + batch) * 4,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(Self {
            ctx,
            plan,
            maps,
            outputs,
            pixels,
        })
    }

    /// One step: record, submit, finish.
    fn run(&self) -> wgpu_persistence::Result<RunStats> {
        let (device, queue) = self
            .ctx
            .device_and_queue()
            .ok_or_else(|| wgpu_persistence::Error::InvalidArgument("no device".into()))?;
        let mut encoder = device.create_command_encoder(&Default::default());
        self.plan.record_loss(
            &mut encoder,
            BufferAt::new(&self.maps, 0),
            BufferAt::new(&self.outputs, 0),
            BufferAt::new(&self.outputs, self.pixels * 4),
        )?;
        queue.submit([encoder.finish()]);
        Ok(self.plan.finish()?.stats)
    }
}

/// The median of each kernel's time over the runs (a kernel missing from a run counts as 0 there).
fn kernel_medians(runs: &[Vec<KernelTime>]) -> Option<Vec<KernelReport>> {
    let last = runs.last()?;
    Some(
        last.iter()
            .map(|k| {
                let mut column: Vec<f64> = runs
                    .iter()
                    .map(|run| {
                        run.iter()
                            .find(|t| t.kernel == k.kernel)
                            .map_or(0.0, |t| t.seconds)
                    })
                    .collect();
                column.sort_by(f64::total_cmp);
                KernelReport {
                    kernel: k.kernel.to_string(),
                    median_s: median(&column),
                    dispatches: k.dispatches,
                }
            })
            .collect(),
    )
}

/// Parse `--betti`: one to three comma-separated non-negative integers.
pub(crate) fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// Pairs per homology dimension, summed over the diagrams.
fn pair_counts(diagrams: &[Diagram]) -> Vec<usize> {
    let dims = diagrams.iter().map(|d| d.pairs.len()).max().unwrap_or(0);
    (0..dims)
        .map(|k| diagrams.iter().map(|d| d.dim(k).len()).sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 3.0, 10.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
