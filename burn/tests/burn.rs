//! The burn integration on lavapipe (or any adapter) and on ndarray: both directions of device
//! sharing, the loss and its gradient against the host API (bit for bit) and central finite
//! differences, upstream scaling, fusion on (burn's `Tensor` API, this crate's build) and off (the
//! non-fused cube backend called directly), volumes, diagrams, and the errors.
#![allow(deprecated)] // burn's NdArray backend

use burn::backend::autodiff::Autodiff;
use burn::backend::ops::FloatTensorOps;
use burn::backend::AutodiffBackend;
use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_cubecl::{CubeBackend, CubeDevice};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use wgpu_persistence::{Backend, BackendChoice, Context, Options};
use wgpu_persistence_burn::{
    context, diagrams, diagrams_with_report, init_wgpu, route, share_wgpu, topological_loss,
    topological_loss_with_report, Error, LossKind, Route, TopologicalLoss, TopologyBackend,
};

/// burn's wgpu device shared with the library; a test fails (never skips) without an adapter.
fn device() -> Device {
    init_wgpu().expect("burn's wgpu device (lavapipe in CI)")
}

/// Values with many ties: eight levels.
fn tied(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(0..8) as f32 / 7.0).collect()
}

/// Distinct values (a shuffled ladder inside (0, 1)), so the loss is smooth around them.
fn tie_free(n: usize, seed: u64) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n).map(|k| (k as f32 + 0.5) / n as f32).collect();
    v.shuffle(&mut StdRng::seed_from_u64(seed));
    v
}

fn host() -> Context {
    Context::with_backend(BackendChoice::Cpu).expect("the CPU backend")
}

fn host_loss(dims: &[usize], values: &[f32], priors: &[TopologicalLoss]) -> (Vec<f32>, Vec<f32>) {
    use wgpu_persistence::ndarray::{ArrayView3, ArrayView4};
    let ctx = host();
    let r = match *dims {
        [n, h, w] => {
            let r = ctx
                .topological_loss_batch(ArrayView3::from_shape([n, h, w], values).unwrap(), priors)
                .unwrap();
            (r.losses, r.gradient.into_raw_vec_and_offset().0)
        }
        [n, d, h, w] => {
            let r = ctx
                .topological_loss_batch(
                    ArrayView4::from_shape([n, d, h, w], values).unwrap(),
                    priors,
                )
                .unwrap();
            (r.losses, r.gradient.into_raw_vec_and_offset().0)
        }
        _ => unreachable!(),
    };
    r
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().as_slice::<f32>().unwrap().to_vec()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Loss and gradient of `values` through burn on `device` (autodiff), with the route taken.
fn burn_loss(
    device: &Device,
    dims: &[usize],
    values: &[f32],
    priors: &[TopologicalLoss],
) -> (Vec<f32>, Vec<f32>, Route) {
    let ad = device.clone().autodiff();
    macro_rules! run {
        ($d:literal) => {{
            let dims: [usize; $d] = dims.try_into().unwrap();
            let maps =
                Tensor::<$d>::from_data(TensorData::new(values.to_vec(), dims), &ad).require_grad();
            let (loss, report) = topological_loss_with_report(maps.clone(), priors).unwrap();
            let grads = loss.clone().sum().backward();
            let g = maps.grad(&grads).expect("a gradient for the maps");
            (to_vec(loss), to_vec(g), report.route)
        }};
    }
    match dims.len() {
        3 => run!(3),
        4 => run!(4),
        _ => unreachable!(),
    }
}

/// Asserts that burn's loss and gradient equal the host API's bit for bit; the route taken.
fn same_as_host(
    device: &Device,
    dims: &[usize],
    values: &[f32],
    priors: &[TopologicalLoss],
) -> Route {
    let (l, g, r) = burn_loss(device, dims, values, priors);
    let (hl, hg) = host_loss(dims, values, priors);
    assert_eq!((bits(&l), bits(&g)), (bits(&hl), bits(&hg)), "{dims:?}");
    r
}

fn priors_all() -> Vec<Vec<TopologicalLoss>> {
    let mut l1 = TopologicalLoss::new(&[2, 1]);
    l1.kind = LossKind::L1;
    let mut freudenthal = TopologicalLoss::new(&[1, 1]);
    freudenthal.construction = wgpu_persistence::Construction::Freudenthal;
    let mut weighted = TopologicalLoss::new(&[1, 0]);
    weighted.weights = vec![0.5, 2.0];
    weighted.construction = wgpu_persistence::Construction::T;
    vec![
        vec![TopologicalLoss::new(&[1, 1])],
        vec![l1],
        vec![weighted],
        vec![freudenthal],
        vec![
            TopologicalLoss::new(&[1, 0]),
            TopologicalLoss::new(&[1, 2]),
            TopologicalLoss::new(&[3, 1]),
        ],
    ]
}

#[test]
fn burn_device_into_the_library_computes_in_place_bit_for_bit() {
    let device = device();
    let ctx = context(&device).expect("init_wgpu registers a context");
    assert_eq!(ctx.backend(), Backend::Gpu);
    assert_eq!(route(&device, &[3, 17, 23]), Route::Device);
    for (i, priors) in priors_all().iter().enumerate() {
        for dims in [[3, 17, 23], [3, 1, 1], [3, 1, 40], [3, 33, 65]] {
            let values = tied(dims.iter().product(), i as u64);
            let (l, g, r) = burn_loss(&device, &dims, &values, priors);
            assert_eq!(r, Route::Device, "{dims:?}");
            let (hl, hg) = host_loss(&dims, &values, priors);
            assert_eq!(bits(&l), bits(&hl), "losses, priors {i}, {dims:?}");
            assert_eq!(bits(&g), bits(&hg), "gradient, priors {i}, {dims:?}");
        }
    }
}

#[test]
fn the_device_route_maps_only_the_status_and_writes_only_the_stamp() {
    let device = device();
    let dims = [4, 32, 32];
    let values = tied(4 * 32 * 32, 7);
    let maps = Tensor::<3>::from_data(TensorData::new(values, dims), &device);
    let (_, report) = topological_loss_with_report(maps, &[TopologicalLoss::new(&[1, 1])]).unwrap();
    assert_eq!(report.route, Route::Device);
    let stats = report.stats.expect("stats on the device route");
    assert_eq!(stats.bytes_mapped, 160, "{stats:?}");
    assert_eq!(stats.bytes_written, 16, "{stats:?}");
}

#[test]
fn one_plan_serves_batches_with_different_priors() {
    let device = device();
    let dims = [5, 19, 21]; // a shape of this test's own: the device's plans are shared
    let values = tied(5 * 19 * 21, 17);
    let per_map = |k: usize| -> Vec<TopologicalLoss> {
        (0..5)
            .map(|i| TopologicalLoss::new(&[1, (i + k) % 3]))
            .collect()
    };
    let written = |priors: &[TopologicalLoss]| {
        let maps = Tensor::<3>::from_data(TensorData::new(values.clone(), dims), &device);
        let (_, report) = topological_loss_with_report(maps, priors).unwrap();
        assert_eq!(report.route, Route::Device);
        report
            .stats
            .expect("stats on the device route")
            .bytes_written
    };
    for priors in [per_map(0), per_map(1), per_map(1), per_map(2)] {
        assert_eq!(
            same_as_host(&device, &dims, &values, &priors),
            Route::Device
        );
    }
    // a change of priors uploads 16 bytes a map with the stamp; the same priors again, the stamp
    // alone
    assert_eq!(written(&per_map(0)), 16 + 5 * 16);
    assert_eq!(written(&per_map(0)), 16);
    assert_eq!(written(&[TopologicalLoss::new(&[1, 1])]), 16 + 5 * 16);
}

#[test]
fn maps_sliced_from_a_larger_tensor_are_read_at_their_offset() {
    let device = device();
    let values = tied(7 * 20 * 20, 11);
    let all = Tensor::<3>::from_data(TensorData::new(values.clone(), [7, 20, 20]), &device);
    // a new tensor that burn may place inside a shared page, and a slice of the first
    let doubled = all.clone().mul_scalar(0.5);
    let part = all.narrow(0, 2, 3);
    let priors = [TopologicalLoss::new(&[1, 1])];
    let (loss, report) = topological_loss_with_report(part, &priors).unwrap();
    assert_eq!(report.route, Route::Device);
    let (hl, _) = host_loss(&[3, 20, 20], &values[2 * 400..5 * 400], &priors);
    assert_eq!(bits(&to_vec(loss)), bits(&hl));
    let half: Vec<f32> = values.iter().map(|v| v * 0.5).collect();
    let (hl, _) = host_loss(&[7, 20, 20], &half, &priors);
    assert_eq!(
        bits(&to_vec(topological_loss(doubled, &priors).unwrap())),
        bits(&hl)
    );
}

#[test]
fn the_library_device_into_burn() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
        .expect("an adapter (lavapipe in CI)");
    let (wgpu_device, queue) = wgpu_persistence::request_shared_device(&adapter).unwrap();
    let device = share_wgpu(instance, adapter, wgpu_device, queue).unwrap();
    assert!(context(&device).is_some());
    // burn's own kernels run on our device
    let a = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]),
        &device,
    );
    let b = a.clone().matmul(a).exp().sum();
    let expected = [7.0f32, 10.0, 15.0, 22.0]
        .iter()
        .map(|v| v.exp())
        .sum::<f32>();
    let got = to_vec(b)[0];
    assert!(
        (got - expected).abs() <= expected * 1e-5,
        "{got} {expected}"
    );
    // and the loss reads burn's tensors on it in place
    let dims = [2, 16, 16];
    let values = tied(512, 3);
    let priors = [TopologicalLoss::new(&[1, 1])];
    assert_eq!(
        same_as_host(&device, &dims, &values, &priors),
        Route::Device
    );
}

#[test]
fn a_device_without_the_adapter_features_and_limits_is_refused() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default())).unwrap();
    assert!(
        adapter.limits().max_compute_invocations_per_workgroup
            > wgpu::Limits::default().max_compute_invocations_per_workgroup
            || !(adapter.features() & wgpu::Features::SUBGROUP).is_empty(),
        "this adapter needs nothing past wgpu's defaults: the check below cannot fail"
    );
    let (wgpu_device, queue) =
        pollster::block_on(adapter.request_device(&Default::default())).unwrap();
    match share_wgpu(instance, adapter, wgpu_device, queue) {
        Err(Error::Device(msg)) => assert!(msg.contains("request_shared_device"), "{msg}"),
        other => panic!("expected a device error, got {other:?}"),
    }
}

#[test]
fn gradient_matches_central_finite_differences_on_tie_free_maps() {
    let device = device();
    let dims = [2, 8, 9];
    let values = tie_free(144, 5);
    let priors = [TopologicalLoss::new(&[1, 1])];
    let (_, g, r) = burn_loss(&device, &dims, &values, &priors);
    assert_eq!(r, Route::Device);
    let h = 1e-3f32; // the values are 1/144 apart: the order of the filtration does not change
    let mut checked_nonzero = 0;
    for i in (0..values.len()).step_by(5).chain(
        g.iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(i, _)| i),
    ) {
        let map = i / 72;
        let mut up = values.clone();
        up[i] += h;
        let mut down = values.clone();
        down[i] -= h;
        let fd = (host_loss(&dims, &up, &priors).0[map] - host_loss(&dims, &down, &priors).0[map])
            / (2.0 * h);
        assert!(
            (fd - g[i]).abs() <= 2e-3 + 2e-3 * g[i].abs(),
            "pixel {i}: fd {fd}, g {}",
            g[i]
        );
        checked_nonzero += (g[i] != 0.0) as usize;
    }
    assert!(
        checked_nonzero >= 4,
        "the maps' pairs give nonzero gradients"
    );
}

#[test]
fn upstream_gradients_scale_per_map() {
    let device = device().autodiff();
    let dims = [3, 12, 12];
    let values = tied(432, 9);
    let priors = [TopologicalLoss::new(&[1, 1])];
    let maps =
        Tensor::<3>::from_data(TensorData::new(values.clone(), dims), &device).require_grad();
    let loss = || topological_loss(maps.clone(), &priors).unwrap();
    let g3 = to_vec(maps.grad(&loss().mul_scalar(3.0).sum().backward()).unwrap());
    let w = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, -2.0, 0.5], [3]), &device);
    let gw = to_vec(maps.grad(&loss().mul(w).sum().backward()).unwrap());
    let (_, hg) = host_loss(&dims, &values, &priors);
    assert!(hg.iter().any(|v| *v != 0.0));
    for (i, v) in hg.iter().enumerate() {
        assert_eq!(g3[i], 3.0 * v, "pixel {i}");
        assert_eq!(gw[i], [1.0, -2.0, 0.5][i / 144] * v, "pixel {i}");
    }
}

#[test]
fn fusion_off_the_cube_backend_called_directly_gives_the_same_numbers() {
    type B = Autodiff<CubeBackend>;
    let device = device();
    let cube = match device.clone().inner().as_dispatch() {
        burn::backend::DispatchDevice::Cube(d @ CubeDevice::Wgpu(_)) => d.clone(),
        _ => panic!("init_wgpu gives a wgpu device"),
    };
    let dims = [2, 15, 11];
    let values = tied(330, 13);
    let priors = [TopologicalLoss::new(&[1, 1])];
    let maps = B::float_from_data(TensorData::new(values.clone(), dims), &cube);
    let maps = B::float_set_require_grad(maps, true);
    // the crate's call table is what topological_loss fills: go through it as the crate does, with
    // the fused path off (no Fusion<_> in the type)
    let (l, g) = wgpu_persistence_burn::testing::with_call(&priors, |call| {
        let loss = <B as TopologyBackend>::topological_loss(maps.clone(), call);
        let grads = B::backward(B::float_sum(loss.clone()));
        let g = B::grad(&maps, &grads).expect("a gradient");
        let read = |t| {
            burn::backend::read_sync(CubeBackend::float_into_data(t))
                .unwrap()
                .as_slice::<f32>()
                .unwrap()
                .to_vec()
        };
        (read(B::inner(loss)), read(g))
    })
    .unwrap();
    let (hl, hg) = host_loss(&dims, &values, &priors);
    assert_eq!((bits(&l), bits(&g)), (bits(&hl), bits(&hg)));
}

#[test]
fn ndarray_goes_through_the_host_with_the_same_numbers() {
    let device = Device::ndarray();
    for priors in priors_all() {
        let dims = [3, 14, 9];
        let values = tied(378, 21);
        assert_eq!(same_as_host(&device, &dims, &values, &priors), Route::Host);
    }
}

#[test]
fn volumes_go_through_the_host_on_both_backends() {
    let priors = [TopologicalLoss::new(&[1, 0, 1])];
    let dims = [2, 5, 6, 7];
    let values = tied(420, 17);
    for device in [device(), Device::ndarray()] {
        assert_eq!(same_as_host(&device, &dims, &values, &priors), Route::Host);
    }
}

/// Every construction, sub- and superlevel, zero-persistence pairs kept and not.
fn options_all() -> Vec<Options> {
    use wgpu_persistence::Construction;
    let mut all = vec![];
    for c in [Construction::V, Construction::T, Construction::Freudenthal] {
        for superlevel in [false, true] {
            let o = Options::new(c);
            let o = if superlevel { o.superlevel() } else { o };
            all.push(o);
        }
    }
    all.push(Options::default().keep_zero_persistence(true));
    all
}

fn host_diagrams(
    dims: &[usize],
    values: &[f32],
    options: &Options,
) -> Vec<wgpu_persistence::Diagram> {
    use wgpu_persistence::ndarray::{ArrayView3, ArrayView4};
    match *dims {
        [n, h, w] => {
            host().compute_batch(ArrayView3::from_shape([n, h, w], values).unwrap(), options)
        }
        [n, d, h, w] => host().compute_batch(
            ArrayView4::from_shape([n, d, h, w], values).unwrap(),
            options,
        ),
        _ => unreachable!(),
    }
    .unwrap()
}

fn same_pairs(got: &[wgpu_persistence::Diagram], expected: &[wgpu_persistence::Diagram]) {
    assert_eq!(got.len(), expected.len());
    for (i, (a, b)) in got.iter().zip(expected).enumerate() {
        assert_eq!(a.pairs, b.pairs, "diagram {i}");
    }
}

#[test]
fn diagrams_of_images_on_a_shared_device_are_paired_in_place() {
    let device = device();
    let dims = [3, 17, 23];
    let values = tied(3 * 17 * 23, 23);
    // the images inside a larger tensor: another image first, so they start at a non-zero offset
    let mut all = tied(17 * 23, 29);
    all.extend(&values);
    let big = Tensor::<3>::from_data(TensorData::new(all, [4, 17, 23]), &device);
    for options in options_all() {
        let expected = host_diagrams(&dims, &values, &options);
        let (got, report) = diagrams_with_report(big.clone().narrow(0, 1, 3), &options).unwrap();
        assert_eq!(report.route, Route::Device, "{options:?}");
        assert_eq!(report.stats.unwrap().bytes_mapped, 160, "the status read");
        same_pairs(&got, &expected);
        // one H x W image is a batch of one
        let (one, report) =
            diagrams_with_report(big.clone().narrow(0, 2, 1).reshape([17, 23]), &options).unwrap();
        assert_eq!(report.route, Route::Device);
        same_pairs(&one, &expected[1..2]);
    }
    // a tensor on the autodiff device, and larger images (more hooking rounds)
    let values = tied(2 * 70 * 90, 41);
    let t = Tensor::<3>::from_data(
        TensorData::new(values.clone(), [2, 70, 90]),
        &device.autodiff(),
    );
    let options = Options::default().superlevel();
    let (got, report) = diagrams_with_report(t, &options).unwrap();
    assert_eq!(report.route, Route::Device);
    same_pairs(&got, &host_diagrams(&[2, 70, 90], &values, &options));
}

#[test]
fn diagrams_of_volumes_in_place_and_on_ndarray_through_the_host() {
    let images = tied(3 * 10 * 13, 37);
    for (n, options) in [
        Options::default().superlevel(),
        Options::new(wgpu_persistence::Construction::T),
    ]
    .iter()
    .enumerate()
    {
        let vol = tied(2 * 4 * 5 * 6, 31 + n as u64);
        // on the shared device the plan reads the tensor's buffer (H0 and H2 paired there, H1 on
        // the host); on ndarray the host API answers
        for (device, route) in [(device(), Route::Device), (Device::ndarray(), Route::Host)] {
            let t = Tensor::<4>::from_data(TensorData::new(vol.clone(), [2, 4, 5, 6]), &device);
            let (got, report) = diagrams_with_report(t, options).unwrap();
            assert_eq!(report.route, route, "{options:?}");
            if route == Route::Device {
                let stats = report.stats.expect("the plan's stats");
                assert_eq!(stats.bytes_mapped, 160, "finish maps the status alone");
            }
            same_pairs(&got, &host_diagrams(&[2, 4, 5, 6], &vol, options));
        }
    }
    let t = Tensor::<3>::from_data(
        TensorData::new(images.clone(), [3, 10, 13]),
        &Device::ndarray(),
    );
    let options = Options::default().superlevel();
    let (got, report) = diagrams_with_report(t, &options).unwrap();
    assert_eq!(report.route, Route::Host);
    same_pairs(&got, &host_diagrams(&[3, 10, 13], &images, &options));
}

#[test]
fn diagrams_with_fusion_off_the_cube_backend_called_directly() {
    let device = device();
    let cube = match device.clone().inner().as_dispatch() {
        burn::backend::DispatchDevice::Cube(d @ CubeDevice::Wgpu(_)) => d.clone(),
        _ => panic!("init_wgpu gives a wgpu device"),
    };
    let values = tied(2 * 15 * 11, 43);
    let options = Options::new(wgpu_persistence::Construction::T);
    let maps = CubeBackend::float_from_data(TensorData::new(values.clone(), [2, 15, 11]), &cube);
    let (_, got, route) = wgpu_persistence_burn::testing::with_diagram_call(&options, |call| {
        <CubeBackend as TopologyBackend>::diagrams(maps, call)
    })
    .unwrap();
    assert_eq!(route, Route::Device);
    same_pairs(&got, &host_diagrams(&[2, 15, 11], &values, &options));
}

#[test]
fn diagrams_of_bad_tensors_are_clear_errors() {
    let device = device();
    let options = Options::default();
    let nan = {
        let mut v = tied(2 * 6 * 7, 47);
        v[50] = f32::NAN;
        Tensor::<3>::from_data(TensorData::new(v, [2, 6, 7]), &device)
    };
    match diagrams(nan, &options) {
        Err(Error::Persistence(wgpu_persistence::Error::NanPixel { .. })) => {}
        other => panic!("a NaN pixel: {other:?}"),
    }
    let line = Tensor::<1>::from_data(TensorData::new(vec![0.5f32; 4], [4]), &device);
    assert!(matches!(diagrams(line, &options), Err(Error::Tensor(_))));
}

#[test]
fn bad_input_gives_clear_errors() {
    let priors = [TopologicalLoss::new(&[1, 1])];
    for device in [device(), Device::ndarray()] {
        let t2 = Tensor::<2>::zeros([4, 4], &device);
        assert!(
            matches!(topological_loss(t2, &priors), Err(Error::Tensor(m)) if m.contains("rank 2"))
        );
        let empty = Tensor::<3>::zeros([0, 4, 4], &device);
        assert!(
            matches!(topological_loss(empty, &priors), Err(Error::Tensor(m)) if m.contains("empty"))
        );
        let three = Tensor::<3>::zeros([3, 4, 4], &device);
        let two_priors = [priors[0].clone(), priors[0].clone()];
        assert!(
            matches!(topological_loss(three, &two_priors), Err(Error::Tensor(m)) if m.contains("2 priors for 3 maps"))
        );
        for bad in [f32::NAN, 1.5, -0.25, f32::INFINITY] {
            let mut v = vec![0.5f32; 2 * 36];
            v[40] = bad;
            let t = Tensor::<3>::from_data(TensorData::new(v, [2, 6, 6]), &device);
            match (bad.is_nan(), topological_loss(t, &priors)) {
                // the host API says NanPixel; the resident plan's check on the bits, NotAProbability
                (
                    true,
                    Err(Error::Persistence(wgpu_persistence::Error::NanPixel { index: 40 })),
                ) => {}
                (
                    _,
                    Err(Error::Persistence(wgpu_persistence::Error::NotAProbability {
                        index: 40,
                        ..
                    })),
                ) => {}
                (_, other) => {
                    panic!("{bad}: expected the library's error at value 40, got {other:?}")
                }
            }
        }
        // after an error the next call works
        let ok = Tensor::<3>::full([1, 5, 5], 0.5, &device);
        assert!(topological_loss(ok, &priors).is_ok());
    }
    let f64s = Tensor::<3>::full([1, 4, 4], 0.5, &Device::ndarray()).cast(DType::F64);
    assert_eq!(f64s.dtype(), DType::F64);
    assert!(matches!(topological_loss(f64s, &priors), Err(Error::Tensor(m)) if m.contains("F64")));
}

#[test]
fn cargo_lock_holds_one_wgpu() {
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let wgpus = lock.lines().filter(|l| *l == "name = \"wgpu\"").count();
    assert_eq!(
        wgpus, 1,
        "Cargo.lock holds {wgpus} wgpu crates: burn's and ours must be one"
    );
}

#[test]
fn maps_made_by_fused_kernels_get_the_chain_rule() {
    // p = sigmoid(2x - 1): burn fuses the element-wise kernels that make the maps; the loss must
    // read their values and the chain rule reach x
    let priors = [TopologicalLoss::new(&[1, 1])];
    let dims = [3, 16, 16];
    let x: Vec<f32> = tie_free(768, 31).iter().map(|v| 4.0 * v - 2.0).collect();
    for device in [device(), Device::ndarray()] {
        let ad = device.clone().autodiff();
        let xt = Tensor::<3>::from_data(TensorData::new(x.clone(), dims), &ad).require_grad();
        let p = burn::tensor::activation::sigmoid(xt.clone().mul_scalar(2.0).sub_scalar(1.0));
        let pv = to_vec(p.clone());
        let loss = topological_loss(p, &priors).unwrap();
        let gx = to_vec(xt.grad(&loss.clone().sum().backward()).unwrap());
        let (hl, hg) = host_loss(&dims, &pv, &priors);
        assert_eq!(bits(&to_vec(loss)), bits(&hl));
        let mut nonzero = 0;
        for i in 0..pv.len() {
            let want = hg[i] * pv[i] * (1.0 - pv[i]) * 2.0;
            assert!(
                (gx[i] - want).abs() <= 1e-5 + 1e-4 * want.abs(),
                "{i}: {} {want}",
                gx[i]
            );
            nonzero += usize::from(hg[i] != 0.0);
        }
        assert!(nonzero > 0);
    }
}
