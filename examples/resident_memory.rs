//! Resident memory of the process over many resident steps on one plan: prints the growth per step.
//! `cargo run --release --example resident_memory -- [STEPS]` (on a GPU context: lavapipe here).

use wgpu::util::DeviceExt;
use wgpu_persistence::{BackendChoice, BufferAt, Context, TopologicalLoss};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() -> wgpu_persistence::Result<()> {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let ctx = Context::with_backend(BackendChoice::Gpu)?;
    let (device, queue) = ctx.device_and_queue().expect("a GPU context");
    let (b, h, w) = (8usize, 64usize, 64usize);
    let maps: Vec<f32> = (0..b * h * w)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
        .collect();
    let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&maps),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    });
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: ((b * h * w + b) * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let plan = ctx.resident_loss_plan(&[b, h, w], &[TopologicalLoss::new(&[1, 0])])?;
    let mut first = 0;
    for step in 0..steps {
        let mut encoder = device.create_command_encoder(&Default::default());
        plan.record_loss(
            &mut encoder,
            BufferAt::new(&input, 0),
            BufferAt::new(&out, 0),
            BufferAt::new(&out, (b * h * w * 4) as u64),
        )?;
        queue.submit([encoder.finish()]);
        plan.finish()?;
        if step == 19 {
            first = rss_kib();
        }
    }
    let last = rss_kib();
    println!(
        "{} steps: RSS {} KiB after 20, {} KiB after {steps}: {:.1} KiB per step",
        steps,
        first,
        last,
        (last as f64 - first as f64) / (steps - 20) as f64
    );
    Ok(())
}
