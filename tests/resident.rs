//! The resident plan: diagrams recorded into the caller's encoder from the caller's buffer equal the
//! host API's, pair for pair and bit for bit; its errors; what crosses the bus.

mod common;

use rand::{rngs::StdRng, Rng, SeedableRng};
use wgpu::util::DeviceExt;
use wgpu_persistence::ndarray::{Array3, Array4, ArrayView3};
use wgpu_persistence::{Construction, Context, Diagram, Options, ResidentPlan};

/// `b x h x w` maps with `levels` distinct values (ties when few).
fn maps(seed: u64, b: usize, h: usize, w: usize, levels: u32) -> Array3<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array3::from_shape_fn((b, h, w), |_| {
        rng.gen_range(0..levels) as f32 / levels as f32
    })
}

/// A buffer holding `pad` bytes of other data, the maps, and 64 bytes more of other data.
fn upload(device: &wgpu::Device, maps: ArrayView3<'_, f32>, pad: usize) -> wgpu::Buffer {
    upload_values(device, maps.as_slice().expect("row-major"), pad)
}

/// A buffer holding `pad` bytes of other data, then `values`, then 64 bytes more.
fn upload_values(device: &wgpu::Device, values: &[f32], pad: usize) -> wgpu::Buffer {
    let mut bytes = vec![0xABu8; pad];
    bytes.extend(bytemuck::cast_slice::<f32, u8>(values));
    bytes.extend([0xCDu8; 64]);
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("caller's tensors"),
        contents: &bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    })
}

/// Every combination of `constructions`, sublevel and superlevel, zero persistence kept and not.
fn options_of(constructions: &[Construction]) -> Vec<Options> {
    let mut all = Vec::new();
    for &construction in constructions {
        for superlevel in [false, true] {
            for keep in [false, true] {
                let options = Options::new(construction).keep_zero_persistence(keep);
                all.push(match superlevel {
                    true => options.superlevel(),
                    false => options,
                });
            }
        }
    }
    all
}

/// One step: record, submit, finish, read.
fn resident(
    ctx: &Context,
    plan: &ResidentPlan,
    buffer: &wgpu::Buffer,
    offset: u64,
) -> Vec<Diagram> {
    let (device, queue) = ctx.device_and_queue().expect("GPU context");
    let mut encoder = device.create_command_encoder(&Default::default());
    plan.record(&mut encoder, buffer, offset).expect("record");
    queue.submit([encoder.finish()]);
    plan.finish().expect("finish");
    plan.read_diagrams().expect("read")
}

fn same_pairs(got: &[Diagram], want: &[Diagram], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: diagrams");
    for (b, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.pairs, w.pairs, "{what}: item {b}");
        // bit for bit: -0.0 and +0.0 compare equal as f32
        let bits = |d: &Diagram| -> Vec<(u32, u32)> {
            d.pairs
                .iter()
                .flatten()
                .map(|p| (p.birth.to_bits(), p.death.to_bits()))
                .collect()
        };
        assert_eq!(bits(g), bits(w), "{what}: item {b}, value bits");
        assert_eq!(g.shape, w.shape, "{what}: item {b}");
    }
}

#[test]
fn equals_the_host_api_for_every_construction_and_direction() {
    let Some(ctx) = common::gpu() else { return };
    let (device, _) = ctx.device_and_queue().unwrap();
    let cpu = Context::cpu();
    let shapes = [(1, 1, 1), (1, 1, 9), (3, 7, 1), (2, 17, 13), (3, 40, 33)];
    for (s, &(b, h, w)) in shapes.iter().enumerate() {
        for levels in [3, 1 << 20] {
            let m = maps(s as u64 * 7 + levels as u64, b, h, w, levels);
            let buffer = upload(device, m.view(), 12);
            let all = [Construction::V, Construction::T, Construction::Freudenthal];
            for options in options_of(&all) {
                let what = format!("{b}x{h}x{w} levels {levels} {options:?}");
                let plan = ctx.resident_plan(&[b, h, w], &options).expect("plan");
                let got = resident(&ctx, &plan, &buffer, 12);
                same_pairs(&got, &ctx.compute_batch(m.view(), &options).unwrap(), &what);
                same_pairs(&got, &cpu.compute_batch(m.view(), &options).unwrap(), &what);
            }
        }
    }
}

#[test]
fn constant_checkerboard_and_reuse() {
    let Some(ctx) = common::gpu() else { return };
    let (device, _) = ctx.device_and_queue().unwrap();
    let options = Options::new(Construction::V).superlevel();
    let plan = ctx.resident_plan(&[2, 31, 29], &options).unwrap();
    let constant = Array3::from_elem((2, 31, 29), 0.25f32);
    let checker = Array3::from_shape_fn((2, 31, 29), |(b, i, j)| ((i + j + b) % 2) as f32);
    // the same plan, three inputs one after the other: each answer is its own input's
    for m in [constant, checker, maps(5, 2, 31, 29, 4)] {
        let buffer = upload(device, m.view(), 0);
        let got = resident(&ctx, &plan, &buffer, 0);
        same_pairs(
            &got,
            &Context::cpu().compute_batch(m.view(), &options).unwrap(),
            "reuse",
        );
    }
}

#[test]
fn past_a_workgroup_and_a_dispatch_row() {
    let Some(ctx) = common::gpu() else { return };
    let (device, _) = ctx.device_and_queue().unwrap();
    // 3 x 300 x 301 pixels: past 256-wide workgroups and, for the records, many of them
    let m = maps(11, 3, 300, 301, 50);
    let buffer = upload(device, m.view(), 4);
    let options = Options::new(Construction::T);
    let plan = ctx.resident_plan(&[3, 300, 301], &options).unwrap();
    let got = resident(&ctx, &plan, &buffer, 4);
    same_pairs(
        &got,
        &Context::cpu().compute_batch(m.view(), &options).unwrap(),
        "large",
    );
}

#[test]
fn two_plans_in_one_encoder() {
    let Some(ctx) = common::gpu() else { return };
    let (device, queue) = ctx.device_and_queue().unwrap();
    let a = maps(1, 2, 24, 24, 6);
    let b = maps(2, 4, 16, 9, 1 << 16);
    // both inputs in one buffer, side by side
    let mut both = a.as_slice().unwrap().to_vec();
    both.extend(b.as_slice().unwrap());
    let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&both),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    });
    let (oa, ob) = (
        Options::new(Construction::V).superlevel(),
        Options::new(Construction::Freudenthal),
    );
    let pa = ctx.resident_plan(&[2, 24, 24], &oa).unwrap();
    let pb = ctx.resident_plan(&[4, 16, 9], &ob).unwrap();
    let mut encoder = device.create_command_encoder(&Default::default());
    pa.record(&mut encoder, &buffer, 0).unwrap();
    pb.record(&mut encoder, &buffer, (a.len() * 4) as u64)
        .unwrap();
    queue.submit([encoder.finish()]);
    pa.finish().unwrap();
    pb.finish().unwrap();
    let cpu = Context::cpu();
    same_pairs(
        &pa.read_diagrams().unwrap(),
        &cpu.compute_batch(a.view(), &oa).unwrap(),
        "plan a",
    );
    same_pairs(
        &pb.read_diagrams().unwrap(),
        &cpu.compute_batch(b.view(), &ob).unwrap(),
        "plan b",
    );
}

#[test]
fn rounds_that_did_not_converge_are_run_again() {
    let Some(ctx) = common::gpu() else { return };
    let (device, _) = ctx.device_and_queue().unwrap();
    let m = maps(3, 2, 64, 64, 1 << 20);
    let buffer = upload(device, m.view(), 0);
    let options = Options::new(Construction::V);
    let plan = ctx.resident_plan(&[2, 64, 64], &options).unwrap();
    // one round: noise needs about a dozen, so both graphs are paired again by finish
    wgpu_persistence::internals::set_resident_rounds(&plan, 1);
    let (device2, queue) = ctx.device_and_queue().unwrap();
    let mut encoder = device2.create_command_encoder(&Default::default());
    plan.record(&mut encoder, &buffer, 0).unwrap();
    queue.submit([encoder.finish()]);
    let status = plan.finish().unwrap();
    assert!(status.stats.submissions >= 1, "no rerun: {status:?}");
    assert!(
        status.stats.rounds[0] > 1 && status.stats.rounds[1] > 1,
        "{status:?}"
    );
    let got = plan.read_diagrams().unwrap();
    same_pairs(
        &got,
        &Context::cpu().compute_batch(m.view(), &options).unwrap(),
        "rerun",
    );
    // the plan keeps the count: the next step needs no rerun
    let again = resident_status(&ctx, &plan, &buffer);
    assert_eq!(again.stats.submissions, 0, "{again:?}");
    let _ = device;
}

fn resident_status(
    ctx: &Context,
    plan: &ResidentPlan,
    buffer: &wgpu::Buffer,
) -> wgpu_persistence::ResidentStatus {
    let (device, queue) = ctx.device_and_queue().unwrap();
    let mut encoder = device.create_command_encoder(&Default::default());
    plan.record(&mut encoder, buffer, 0).unwrap();
    queue.submit([encoder.finish()]);
    plan.finish().unwrap()
}

#[test]
fn a_step_maps_only_the_status() {
    let Some(ctx) = common::gpu() else { return };
    let (device, queue) = ctx.device_and_queue().unwrap();
    let m = maps(4, 8, 64, 64, 1 << 20);
    let buffer = upload(device, m.view(), 0);
    let options = Options::new(Construction::V).superlevel();
    let plan = ctx.resident_plan(&[8, 64, 64], &options).unwrap();
    resident_status(&ctx, &plan, &buffer); // the first step may rerun; the shape's count is kept
    let status = resident_status(&ctx, &plan, &buffer);
    assert_eq!(status.stats.submissions, 0);
    // the status (two graphs' control words, the stamp and the loss's flags), and the 16-byte stamp written
    assert_eq!(status.stats.bytes_mapped, 160, "{status:?}");
    assert_eq!(status.stats.bytes_written, 16, "{status:?}");
    // the records and their counts are on the device: read them with a copy of ours
    let outputs = plan.outputs().unwrap();
    let host = ctx.compute_batch(m.view(), &options).unwrap();
    for k in 0..2 {
        let count = read_u32s(device, queue, &outputs.control[k], outputs.count_offset, 1)[0];
        assert_eq!(count, status.pairs[k]);
        let want: usize = host.iter().map(|d| d.dim(k).len()).sum();
        assert_eq!(count as usize, want, "H{k}");
        let words = read_u32s(device, queue, &outputs.records[k], 0, 6 * count as usize);
        let mut per_image = vec![0usize; 8];
        for r in words.chunks(6) {
            assert_eq!(r[1], k as u32);
            per_image[r[0] as usize] += 1;
        }
        let want: Vec<usize> = host.iter().map(|d| d.dim(k).len()).collect();
        assert_eq!(per_image, want, "H{k} records per image");
    }
    // the host API's own statistics count the pixels written and the records read
    ctx.compute_batch(m.view(), &options).unwrap();
    let host_stats = ctx.last_run_stats();
    assert!(
        host_stats.bytes_written >= (m.len() * 4) as u64,
        "{host_stats:?}"
    );
    let records: usize = host.iter().map(|d| d.dim(0).len() + d.dim(1).len()).sum();
    assert!(
        host_stats.bytes_mapped >= (records * 24) as u64,
        "{host_stats:?}"
    );
}

fn read_u32s(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    from: &wgpu::Buffer,
    offset: u64,
    words: usize,
) -> Vec<u32> {
    let bytes = (words.max(1) * 4) as u64;
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(from, offset, &staging, 0, Some(bytes));
    queue.submit([encoder.finish()]);
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.expect("map"));
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: None,
        })
        .unwrap();
    let out =
        bytemuck::cast_slice::<u8, u32>(&staging.slice(..).get_mapped_range().unwrap()).to_vec();
    out[..words].to_vec()
}

#[test]
fn clear_errors() {
    let Some(ctx) = common::gpu() else { return };
    let (device, queue) = ctx.device_and_queue().unwrap();
    let options = Options::default();
    let message = |e: wgpu_persistence::Error| e.to_string();
    // on the CPU backend, for volumes, for the wrong dimensionality, for empty shapes
    assert!(message(
        Context::cpu()
            .resident_plan(&[1, 4, 4], &options)
            .unwrap_err()
    )
    .contains("CPU backend"));
    assert!(
        message(ctx.resident_plan(&[1, 2, 4, 4, 4], &options).unwrap_err())
            .contains("4 (B x D x H x W")
    );
    assert!(message(ctx.resident_plan(&[4, 4], &options).unwrap_err()).contains("3 (B x H x W"));
    assert!(ctx.resident_plan(&[0, 4, 4], &options).is_err());
    assert!(ctx.resident_plan(&[2, 0, 4], &options).is_err());
    let plan = ctx.resident_plan(&[2, 8, 8], &options).unwrap();
    // finish before any recording
    assert!(message(plan.finish().unwrap_err()).contains("nothing was recorded"));
    let m = maps(9, 2, 8, 8, 5);
    let buffer = upload(device, m.view(), 0);
    let mut encoder = device.create_command_encoder(&Default::default());
    // a buffer too small for the shape at this offset, an offset not a multiple of 4
    assert!(message(plan.record(&mut encoder, &buffer, 128).unwrap_err()).contains("need"));
    assert!(message(plan.record(&mut encoder, &buffer, 2).unwrap_err()).contains("multiple of 4"));
    // a buffer the plan cannot copy from
    let no_copy = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 1024,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    assert!(message(plan.record(&mut encoder, &no_copy, 0).unwrap_err()).contains("COPY_SRC"));
    // recorded but not submitted: finish says so instead of answering from stale buffers
    plan.record(&mut encoder, &buffer, 0).unwrap();
    assert!(message(plan.finish().unwrap_err()).contains("has not run"));
    queue.submit([encoder.finish()]);
    plan.finish().unwrap();
    same_pairs(
        &plan.read_diagrams().unwrap(),
        &Context::cpu().compute_batch(m.view(), &options).unwrap(),
        "after the errors",
    );
    // a NaN in the maps is reported when the diagrams are read
    let mut nan = m.clone();
    nan[[1, 2, 3]] = f32::NAN;
    let buffer = upload(device, nan.view(), 0);
    let mut encoder = device.create_command_encoder(&Default::default());
    plan.record(&mut encoder, &buffer, 0).unwrap();
    queue.submit([encoder.finish()]);
    plan.finish().unwrap();
    assert!(message(plan.read_diagrams().unwrap_err()).contains("NaN"));
}

#[test]
fn negative_zero_is_reported_as_the_host_api_reports_it() {
    let Some(ctx) = common::gpu() else { return };
    let (device, _) = ctx.device_and_queue().unwrap();
    let m = Array3::from_shape_fn((1, 5, 5), |(_, i, j)| {
        if (i * 5 + j) % 3 == 0 {
            -0.0
        } else {
            (i * j) as f32
        }
    });
    let buffer = upload(device, m.view(), 0);
    let options = Options::default();
    let plan = ctx.resident_plan(&[1, 5, 5], &options).unwrap();
    let got = resident(&ctx, &plan, &buffer, 0);
    same_pairs(
        &got,
        &ctx.compute_batch(m.view(), &options).unwrap(),
        "-0.0",
    );
}

use wgpu_persistence::{BufferAt, LossKind, TopologicalLoss};

/// The resident loss of `m` with `priors`: the input at byte 8 of a buffer that also receives the
/// gradient and the losses, past it. Returns (losses, gradient, status).
fn resident_loss(
    ctx: &Context,
    plan: &ResidentPlan,
    m: ArrayView3<'_, f32>,
) -> wgpu_persistence::Result<(Vec<f32>, Vec<f32>, wgpu_persistence::ResidentStatus)> {
    let (device, queue) = ctx.device_and_queue().unwrap();
    let n = m.len();
    let mut words: Vec<f32> = vec![7.0, 7.0];
    words.extend(m.iter());
    words.extend(vec![-3.0f32; n + m.shape()[0] + 5]);
    let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("the caller's tensors"),
        contents: bytemuck::cast_slice(&words),
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST,
    });
    let (input, gradient, losses) = (8u64, 8 + 4 * n as u64, 8 + 8 * n as u64);
    let mut encoder = device.create_command_encoder(&Default::default());
    plan.record_loss(
        &mut encoder,
        BufferAt::new(&buffer, input),
        BufferAt::new(&buffer, gradient),
        BufferAt::new(&buffer, losses + 4),
    )?;
    queue.submit([encoder.finish()]);
    let status = plan.finish()?;
    let all = read_u32s(device, queue, &buffer, 0, words.len());
    let f = |w: &[u32]| w.iter().map(|&x| f32::from_bits(x)).collect::<Vec<f32>>();
    // the words around the outputs are the caller's, untouched
    assert_eq!(f(&all[..2]), vec![7.0, 7.0]);
    assert_eq!(f(&all[2 + 2 * n..3 + 2 * n]), vec![-3.0]);
    let b = m.shape()[0];
    assert_eq!(
        f(&all[3 + 2 * n + b..]),
        vec![-3.0; words.len() - 3 - 2 * n - b]
    );
    Ok((
        f(&all[3 + 2 * n..3 + 2 * n + b]),
        f(&all[2 + n..2 + 2 * n]),
        status,
    ))
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn loss_equals_the_host_api_bit_for_bit() {
    let Some(ctx) = common::gpu() else { return };
    let cpu = Context::cpu();
    let shapes = [(1, 1, 1), (1, 1, 9), (2, 17, 13), (3, 40, 33), (2, 64, 64)];
    let mut weighted = TopologicalLoss::new(&[2, 3]);
    weighted.weights = vec![0.5, 2.0];
    for (s, &(b, h, w)) in shapes.iter().enumerate() {
        for levels in [4, 1 << 20] {
            let m = maps(100 + s as u64 * 3 + levels as u64, b, h, w, levels);
            for construction in [Construction::V, Construction::T, Construction::Freudenthal] {
                for kind in [LossKind::Squared, LossKind::L1] {
                    let mut priors: Vec<Vec<TopologicalLoss>> = vec![
                        vec![TopologicalLoss::new(&[1, 1])],
                        vec![TopologicalLoss::new(&[1, 0])],
                        vec![weighted.clone()],
                        (0..b)
                            .map(|i| TopologicalLoss::new(&[1 + i % 2, i % 3]))
                            .collect(),
                    ];
                    for p in priors.iter_mut().flatten() {
                        p.construction = construction;
                        p.kind = kind;
                    }
                    for prior in &priors {
                        let what = format!(
                            "{b}x{h}x{w} levels {levels} {construction:?} {kind:?} {:?}",
                            prior.iter().map(|p| p.betti.clone()).collect::<Vec<_>>()
                        );
                        let plan = ctx.resident_loss_plan(&[b, h, w], prior).expect("plan");
                        let (losses, gradient, _) =
                            resident_loss(&ctx, &plan, m.view()).expect(&what);
                        let host = ctx.topological_loss_batch(m.view(), prior).unwrap();
                        assert_eq!(bits(&losses), bits(&host.losses), "{what}: losses");
                        assert_eq!(
                            bits(&gradient),
                            bits(host.gradient.as_slice().unwrap()),
                            "{what}: gradient"
                        );
                        let on_cpu = cpu.topological_loss_batch(m.view(), prior).unwrap();
                        assert_eq!(bits(&losses), bits(&on_cpu.losses), "{what}: CPU losses");
                        assert_eq!(
                            bits(&gradient),
                            bits(on_cpu.gradient.as_slice().unwrap()),
                            "{what}: CPU gradient"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn loss_of_maps_that_lack_features_and_of_rings() {
    let Some(ctx) = common::gpu() else { return };
    // flat, a ring, a disk, a checkerboard: the prior (1, 1) finds what is missing in each
    let (h, w) = (12, 12);
    let ring = |i: usize, j: usize| {
        let r = ((i as f32 - 5.5).powi(2) + (j as f32 - 5.5).powi(2)).sqrt();
        if (2.5..4.5).contains(&r) {
            0.9
        } else {
            0.1
        }
    };
    let disk = |i: usize, j: usize| {
        if (i as f32 - 5.5).powi(2) + (j as f32 - 5.5).powi(2) < 16.0 {
            0.8
        } else {
            0.2
        }
    };
    let m = Array3::from_shape_fn((4, h, w), |(b, i, j)| match b {
        0 => 0.5,
        1 => ring(i, j),
        2 => disk(i, j),
        _ => ((i + j) % 2) as f32,
    });
    let prior = [TopologicalLoss::new(&[1, 1])];
    let plan = ctx.resident_loss_plan(&[4, h, w], &prior).unwrap();
    let (losses, gradient, _) = resident_loss(&ctx, &plan, m.view()).unwrap();
    let host = Context::cpu()
        .topological_loss_batch(m.view(), &prior)
        .unwrap();
    assert_eq!(bits(&losses), bits(&host.losses));
    assert_eq!(bits(&gradient), bits(host.gradient.as_slice().unwrap()));
    // a flat map lacks both features (2); a right ring costs less than a disk without a hole
    assert_eq!(losses[0], 2.0);
    assert!(losses[1] < losses[2], "{losses:?}");
}

#[test]
fn loss_after_reruns_and_its_bus_traffic() {
    let Some(ctx) = common::gpu() else { return };
    let m = maps(21, 3, 48, 48, 1 << 20);
    let prior = [TopologicalLoss::new(&[1, 1])];
    let plan = ctx.resident_loss_plan(&[3, 48, 48], &prior).unwrap();
    wgpu_persistence::internals::set_resident_rounds(&plan, 1);
    let (losses, gradient, status) = resident_loss(&ctx, &plan, m.view()).unwrap();
    assert!(status.stats.submissions >= 1, "no rerun: {status:?}");
    let host = ctx.topological_loss_batch(m.view(), &prior).unwrap();
    assert_eq!(bits(&losses), bits(&host.losses));
    assert_eq!(bits(&gradient), bits(host.gradient.as_slice().unwrap()));
    // a step with no rerun maps the status alone and writes the stamp alone
    let (_, _, status) = resident_loss(&ctx, &plan, m.view()).unwrap();
    assert_eq!(status.stats.submissions, 0);
    assert_eq!(
        (status.stats.bytes_mapped, status.stats.bytes_written),
        (160, 16),
        "{status:?}"
    );
    // the host API maps the pair records and the gradient and writes the maps and contributions
    let host_stats = ctx.last_run_stats();
    assert!(
        host_stats.bytes_mapped >= (m.len() * 4) as u64,
        "{host_stats:?}"
    );
    assert!(
        host_stats.bytes_written >= (m.len() * 4) as u64,
        "{host_stats:?}"
    );
}

#[test]
fn loss_errors() {
    let Some(ctx) = common::gpu() else { return };
    let (device, _) = ctx.device_and_queue().unwrap();
    let prior = [TopologicalLoss::new(&[1, 1])];
    let message = |e: wgpu_persistence::Error| e.to_string();
    // a value outside [0, 1]: the same error as the host API's, from finish
    let mut m = maps(5, 2, 9, 9, 10);
    m[[1, 4, 2]] = 1.5;
    let plan = ctx.resident_loss_plan(&[2, 9, 9], &prior).unwrap();
    let err = resident_loss(&ctx, &plan, m.view()).unwrap_err();
    let host = ctx.topological_loss_batch(m.view(), &prior).unwrap_err();
    assert_eq!(message(err), message(host));
    m[[1, 4, 2]] = f32::NAN;
    assert!(resident_loss(&ctx, &plan, m.view()).is_err());
    // priors: too many, bad weights, mixed kinds; a diagram plan has no loss
    assert!(ctx
        .resident_loss_plan(
            &[2, 9, 9],
            &[prior[0].clone(), prior[0].clone(), prior[0].clone()]
        )
        .is_err());
    let mut bad = TopologicalLoss::new(&[1, 1]);
    bad.weights = vec![f32::NAN];
    assert!(message(ctx.resident_loss_plan(&[2, 9, 9], &[bad]).unwrap_err()).contains("weight"));
    let mut l1 = TopologicalLoss::new(&[1, 1]);
    l1.kind = LossKind::L1;
    assert!(message(
        ctx.resident_loss_plan(&[2, 9, 9], &[prior[0].clone(), l1])
            .unwrap_err()
    )
    .contains("same kind"));
    let diagrams_only = ctx.resident_plan(&[2, 9, 9], &Options::default()).unwrap();
    let buffer = upload(device, maps(1, 2, 9, 9, 3).view(), 0);
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 2048,
        usage: wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    let at = |b, o| BufferAt::new(b, o);
    assert!(message(
        diagrams_only
            .record_loss(&mut encoder, at(&buffer, 0), at(&out, 0), at(&out, 1024))
            .unwrap_err()
    )
    .contains("without priors"));
    // outputs: too small, misaligned, not a copy destination
    let plan = ctx.resident_loss_plan(&[2, 9, 9], &prior).unwrap();
    assert!(message(
        plan.record_loss(&mut encoder, at(&buffer, 0), at(&out, 1500), at(&out, 0))
            .unwrap_err()
    )
    .contains("gradient buffer holds"));
    assert!(message(
        plan.record_loss(&mut encoder, at(&buffer, 0), at(&out, 0), at(&out, 2046))
            .unwrap_err()
    )
    .contains("multiple of 4"));
    assert!(message(
        plan.record_loss(&mut encoder, at(&buffer, 0), at(&buffer, 0), at(&out, 1024))
            .unwrap_err()
    )
    .contains("COPY_DST"));
}

/// Smoothed noise in `[0, 1]`: a separable running mean of uniform noise, three times.
fn smoothed(b: usize, h: usize, w: usize, seed: u64) -> Array3<f32> {
    let mut m = maps(seed, b, h, w, 1 << 20);
    for _ in 0..3 {
        for mut image in m.outer_iter_mut() {
            let copy = image.to_owned();
            image.indexed_iter_mut().for_each(|((y, x), v)| {
                let (y0, y1) = (y.saturating_sub(4), (y + 5).min(h));
                let (x0, x1) = (x.saturating_sub(4), (x + 5).min(w));
                let s = copy.slice(ndarray::s![y0..y1, x0..x1]);
                *v = s.sum() / s.len() as f32;
            });
        }
    }
    m
}

#[test]
fn loss_of_a_training_batch_whose_records_the_host_api_compacts_on_the_host() {
    let Some(ctx) = common::gpu() else { return };
    // 64 maps of 256 x 256 (the benchmark's training step): on lavapipe both graphs' records
    // together pass one binding, so the host API reads the pairing state back and compacts it on
    // the host, while the plan keeps each graph's records in its own binding
    let m = smoothed(64, 256, 256, 12);
    let prior = [TopologicalLoss::new(&[1, 0])];
    let plan = ctx.resident_loss_plan(&[64, 256, 256], &prior).unwrap();
    let (losses, gradient, _) = resident_loss(&ctx, &plan, m.view()).unwrap();
    let host = ctx.topological_loss_batch(m.view(), &prior).unwrap();
    assert_eq!(bits(&losses), bits(&host.losses));
    assert_eq!(bits(&gradient), bits(host.gradient.as_slice().unwrap()));
    assert!(losses.iter().all(|&l| l > 0.0), "{losses:?}");
}

#[test]
fn one_recording_per_finish_and_the_stamp_of_the_encoder_that_ran() {
    let Some(ctx) = common::gpu() else { return };
    let (device, queue) = ctx.device_and_queue().unwrap();
    let options = Options::default();
    let plan = ctx.resident_plan(&[1, 12, 12], &options).unwrap();
    let a = maps(31, 1, 12, 12, 1 << 20);
    let b = Array3::from_elem((1, 12, 12), 0.5f32);
    let (ba, bb) = (upload(device, a.view(), 0), upload(device, b.view(), 0));
    let message = |e: wgpu_persistence::Error| e.to_string();
    // a second recording before finish is refused
    let mut ea = device.create_command_encoder(&Default::default());
    plan.record(&mut ea, &ba, 0).unwrap();
    let mut eb = device.create_command_encoder(&Default::default());
    assert!(message(plan.record(&mut eb, &bb, 0).unwrap_err()).contains("has not been finished"));
    // finish before the submission says so; then B is recorded, but A is the encoder that runs:
    // finish tells, however many other submissions reach the queue meanwhile
    assert!(message(plan.finish().unwrap_err()).contains("has not run"));
    plan.record(&mut eb, &bb, 0).unwrap();
    queue.submit([ea.finish()]);
    queue.submit([device.create_command_encoder(&Default::default()).finish()]);
    assert!(message(plan.finish().unwrap_err()).contains("has not run"));
    drop(eb);
    // and the plan goes on: the next step is right
    let got = resident(&ctx, &plan, &bb, 0);
    same_pairs(
        &got,
        &Context::cpu().compute_batch(b.view(), &options).unwrap(),
        "after",
    );
}

#[test]
fn per_item_counts_on_the_device() {
    let Some(ctx) = common::gpu() else { return };
    let (device, queue) = ctx.device_and_queue().unwrap();
    let m = maps(41, 5, 20, 30, 7);
    let options = Options::new(Construction::T).superlevel();
    let plan = ctx.resident_plan(&[5, 20, 30], &options).unwrap();
    // with a rerun, so that the counts are those of the rerun's records
    wgpu_persistence::internals::set_resident_rounds(&plan, 1);
    let buffer = upload(device, m.view(), 0);
    let mut encoder = device.create_command_encoder(&Default::default());
    plan.record(&mut encoder, &buffer, 0).unwrap();
    queue.submit([encoder.finish()]);
    assert!(plan.finish().unwrap().stats.submissions > 0);
    let counts = read_u32s(device, queue, &plan.outputs().unwrap().counts, 0, 10);
    let host = Context::cpu().compute_batch(m.view(), &options).unwrap();
    let want: Vec<u32> = host
        .iter()
        .flat_map(|d| [d.dim(0).len() as u32, d.dim(1).len() as u32])
        .collect();
    assert_eq!(counts, want);
}

#[test]
fn overlapping_outputs_and_huge_priors_are_refused() {
    let Some(ctx) = common::gpu() else { return };
    let (device, _) = ctx.device_and_queue().unwrap();
    let message = |e: wgpu_persistence::Error| e.to_string();
    let plan = ctx
        .resident_loss_plan(&[2, 8, 8], &[TopologicalLoss::new(&[1, 1])])
        .unwrap();
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 4096,
        usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    let at = |o| BufferAt::new(&buffer, o);
    // maps at 0..512; a gradient from 256 overlaps them, losses inside the gradient overlap it
    assert!(message(
        plan.record_loss(&mut encoder, at(0), at(256), at(2048))
            .unwrap_err()
    )
    .contains("overlap"));
    assert!(message(
        plan.record_loss(&mut encoder, at(0), at(1024), at(1028))
            .unwrap_err()
    )
    .contains("overlap"));
    plan.record_loss(&mut encoder, at(0), at(512), at(1024))
        .unwrap();
    let huge = TopologicalLoss::new(&[1 << 33, 0]);
    assert!(message(ctx.resident_loss_plan(&[2, 8, 8], &[huge]).unwrap_err()).contains("at most"));
}

#[test]
fn loss_of_maps_with_denormal_values() {
    let Some(ctx) = common::gpu() else { return };
    // sigmoid(-90)-like values: below f32's smallest normal, down to its smallest denormal
    let m = Array3::from_shape_fn((2, 9, 11), |(b, y, x)| match (b + y * 3 + x * 7) % 5 {
        0 => 0.0,
        1 => f32::from_bits(1),
        2 => 3e-39,
        3 => 8e-40,
        _ => 1.1e-38,
    });
    for kind in [LossKind::Squared, LossKind::L1] {
        let mut prior = TopologicalLoss::new(&[1, 1]);
        prior.kind = kind;
        let plan = ctx
            .resident_loss_plan(&[2, 9, 11], std::slice::from_ref(&prior))
            .unwrap();
        let (losses, gradient, _) = resident_loss(&ctx, &plan, m.view()).unwrap();
        let host = Context::cpu()
            .topological_loss_batch(m.view(), &[prior])
            .unwrap();
        assert_eq!(bits(&losses), bits(&host.losses), "{kind:?}");
        assert_eq!(
            bits(&gradient),
            bits(host.gradient.as_slice().unwrap()),
            "{kind:?}"
        );
        assert!(
            gradient.iter().any(|&g| g != 0.0),
            "{kind:?}: the denormal pairs move pixels"
        );
    }
}

#[test]
fn one_plan_takes_new_priors_for_every_batch() {
    let Some(ctx) = common::gpu() else { return };
    let (b, h, w) = (4, 23, 19);
    let m = maps(31, b, h, w, 6);
    let plan = ctx
        .resident_loss_plan(&[b, h, w], &[TopologicalLoss::new(&[1, 0])])
        .unwrap();
    let mut weighted = TopologicalLoss::new(&[2, 1]);
    weighted.weights = vec![0.25, 3.0];
    let batches: Vec<Vec<TopologicalLoss>> = vec![
        (0..b).map(|i| TopologicalLoss::new(&[1, i % 3])).collect(),
        vec![weighted.clone()],
        vec![
            TopologicalLoss::new(&[1, 2]),
            weighted,
            TopologicalLoss::new(&[0, 0]),
            TopologicalLoss::new(&[3, 1]),
        ],
    ];
    let mut last = vec![TopologicalLoss::new(&[1, 0])];
    for priors in &batches {
        plan.set_priors(priors).unwrap();
        let (losses, gradient, status) = resident_loss(&ctx, &plan, m.view()).unwrap();
        let host = ctx.topological_loss_batch(m.view(), priors).unwrap();
        assert_eq!(bits(&losses), bits(&host.losses), "{priors:?}");
        assert_eq!(bits(&gradient), bits(host.gradient.as_slice().unwrap()));
        // the stamp and one 16-byte prior per map went up with the recording
        assert_eq!(status.stats.bytes_written, 16 + 16 * b as u64, "{status:?}");
        last = priors.clone();
    }
    // refused: the plan keeps the priors it had
    let l1 = {
        let mut p = TopologicalLoss::new(&[1, 1]);
        p.kind = LossKind::L1;
        p
    };
    let t = {
        let mut p = TopologicalLoss::new(&[1, 1]);
        p.construction = Construction::T;
        p
    };
    let refused: Vec<(Vec<TopologicalLoss>, &str)> = vec![
        (
            vec![TopologicalLoss::new(&[1, 1]); 3],
            "3 priors for 4 maps",
        ),
        (vec![l1], "kind"),
        (vec![t], "construction"),
        (vec![TopologicalLoss::new(&[1, 5000])], "at most"),
        (vec![], "0 priors"),
    ];
    for (priors, says) in refused {
        let e = plan.set_priors(&priors).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }
    // the priors the plan has already: nothing to upload
    plan.set_priors(&last).unwrap();
    let (losses, gradient, status) = resident_loss(&ctx, &plan, m.view()).unwrap();
    let host = ctx.topological_loss_batch(m.view(), &last).unwrap();
    assert_eq!(bits(&losses), bits(&host.losses));
    assert_eq!(bits(&gradient), bits(host.gradient.as_slice().unwrap()));
    assert_eq!(status.stats.bytes_written, 16, "{status:?}");
    // a plan made without priors has none to change
    let plain = ctx.resident_plan(&[b, h, w], &Options::default()).unwrap();
    let e = plain.set_priors(&last).unwrap_err().to_string();
    assert!(e.contains("without priors"), "{e}");
}

/// `b x d x h x w` volumes with `levels` distinct values (ties when few).
fn volumes(seed: u64, dims: [usize; 4], levels: u32) -> Array4<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array4::from_shape_fn(dims, |_| rng.gen_range(0..levels) as f32 / levels as f32)
}

/// Volumes: H0 and H2 paired on the device (their records stay there), H1 reduced on the host when
/// the diagrams are read; the diagrams equal the host API's on the GPU and on the CPU backend, for
/// V and T, sublevel and superlevel, zero persistence kept or not, at a non-zero offset.
#[test]
fn volumes_equal_the_host_api() {
    let Some(ctx) = common::gpu() else { return };
    let (device, _) = ctx.device_and_queue().unwrap();
    let cpu = Context::cpu();
    let shapes = [
        [1, 1, 1, 1],
        [1, 1, 1, 7],
        [2, 3, 4, 5],
        [3, 6, 7, 5],
        [1, 17, 9, 33],
    ];
    for (s, &dims) in shapes.iter().enumerate() {
        for levels in [3, 1 << 20] {
            let v = volumes(s as u64 * 13 + levels as u64, dims, levels);
            let values = v.as_slice().expect("row-major");
            let buffer = upload_values(device, values, 20);
            for options in options_of(&[Construction::V, Construction::T]) {
                let what = format!("{dims:?} levels {levels} {options:?}");
                let plan = ctx.resident_plan(&dims, &options).expect("plan");
                assert_eq!(plan.shape(), dims.to_vec());
                let got = resident(&ctx, &plan, &buffer, 20);
                assert!(got.iter().all(|d| d.pairs.len() == 3), "{what}: H0..H2");
                same_pairs(&got, &ctx.compute_batch(v.view(), &options).unwrap(), &what);
                same_pairs(&got, &cpu.compute_batch(v.view(), &options).unwrap(), &what);
            }
        }
    }
}

/// A volume plan: constant and checkerboard volumes, one plan reused, a step that maps only the
/// status (the records of H0 and H2 stay on the device, each with its dimension in the low byte),
/// reruns of graphs that did not converge, and its errors.
#[test]
fn volume_plans_reruns_traffic_and_errors() {
    let Some(ctx) = common::gpu() else { return };
    let (device, queue) = ctx.device_and_queue().unwrap();
    let dims = [2, 9, 10, 11];
    let options = Options::new(Construction::T).superlevel();
    let plan = ctx.resident_plan(&dims, &options).unwrap();
    let constant = Array4::from_elem(dims, 0.5f32);
    let checker = Array4::from_shape_fn(dims, |(b, i, j, k)| ((b + i + j + k) % 2) as f32);
    for (n, v) in [constant, checker, volumes(8, dims, 5)].iter().enumerate() {
        let buffer = upload_values(device, v.as_slice().unwrap(), 0);
        let got = resident(&ctx, &plan, &buffer, 0);
        same_pairs(
            &got,
            &Context::cpu().compute_batch(v.view(), &options).unwrap(),
            &format!("volume {n}"),
        );
    }
    // noise with one hooking round recorded: both graphs are paired again by finish
    let v = volumes(21, dims, 1 << 20);
    let buffer = upload_values(device, v.as_slice().unwrap(), 0);
    let want = Context::cpu().compute_batch(v.view(), &options).unwrap();
    let plan = ctx.resident_plan(&dims, &options).unwrap();
    wgpu_persistence::internals::set_resident_rounds(&plan, 1);
    let status = resident_status(&ctx, &plan, &buffer);
    assert!(status.stats.submissions >= 1, "no rerun: {status:?}");
    same_pairs(&plan.read_diagrams().unwrap(), &want, "volume rerun");
    // the next step needs no rerun and maps the status alone; the records stay on the device
    let status = resident_status(&ctx, &plan, &buffer);
    assert_eq!(status.stats.submissions, 0, "{status:?}");
    assert_eq!(status.stats.bytes_mapped, 160, "{status:?}");
    assert_eq!(status.stats.bytes_written, 16, "{status:?}");
    let outputs = plan.outputs().unwrap();
    let counts = read_u32s(device, queue, &outputs.counts, 0, 2 * dims[0]);
    for (k, dim) in [(0usize, 0u32), (1, 2)] {
        let count = read_u32s(device, queue, &outputs.control[k], outputs.count_offset, 1)[0];
        assert_eq!(count, status.pairs[k]);
        let words = read_u32s(device, queue, &outputs.records[k], 0, 6 * count as usize);
        let mut per_volume = vec![0u32; dims[0]];
        for r in words.chunks(6) {
            assert_eq!(r[1] & 0xff, dim, "records[{k}]");
            per_volume[r[0] as usize] += 1;
        }
        let want_counts: Vec<u32> = (0..dims[0]).map(|b| counts[2 * b + k]).collect();
        assert_eq!(per_volume, want_counts, "records[{k}] per volume");
        // every merge is kept: at least the pairs of that dimension the diagram reports
        let reported: usize = want.iter().map(|d| d.dim(dim as usize).len()).sum();
        assert!(
            count as usize >= reported,
            "records[{k}]: {count} < {reported}"
        );
    }
    same_pairs(&plan.read_diagrams().unwrap(), &want, "volume, no rerun");
    // errors: no Freudenthal volumes; no loss plan for volumes (H1 needs the host); NaN voxels
    let message = |e: wgpu_persistence::Error| e.to_string();
    assert!(message(
        ctx.resident_plan(&dims, &Options::new(Construction::Freudenthal))
            .unwrap_err()
    )
    .contains("Freudenthal"));
    let prior = wgpu_persistence::TopologicalLoss::new(&[1, 0, 0]);
    assert!(message(ctx.resident_loss_plan(&dims, &[prior]).unwrap_err()).contains("volume"));
    let mut nan = v.clone();
    nan[[1, 2, 3, 4]] = f32::NAN;
    let buffer = upload_values(device, nan.as_slice().unwrap(), 0);
    resident_status(&ctx, &plan, &buffer);
    assert!(message(plan.read_diagrams().unwrap_err()).contains("NaN"));
}
