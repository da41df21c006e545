//! The edges of issue 15: which backend `Auto` picks, the loss of a map that lacks a feature its
//! prior asks for, and inputs that must be refused clearly or read as documented (library and CLI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{Array2, Array3, ArrayD};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use wgpu_persistence::{Backend, BackendChoice, Context, Error, Options, TopologicalLoss};

fn cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wgpu-persistence"));
    c.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    c
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wgpu-persistence-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn npy<A: ndarray_npy::WritableElement, D: ndarray::Dimension>(
    name: &str,
    a: &ndarray::Array<A, D>,
) -> PathBuf {
    let path = temp(name);
    a.write_npy(std::fs::File::create(&path).expect("create"))
        .expect("write");
    path
}

fn run(c: &mut Command) -> (bool, String, String) {
    let out = c.output().expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A flat map, a ring (0.9 on the ring, 0.1 elsewhere) and a disk (0.9 inside, 0.1 outside).
fn flat_ring_disk() -> [Array2<f32>; 3] {
    let r = |y: usize, x: usize| (y as f32 - 15.5).hypot(x as f32 - 15.5);
    [
        Array2::from_elem((32, 32), 0.5),
        Array2::from_shape_fn((32, 32), |(y, x)| {
            if (r(y, x) - 9.0).abs() < 2.5 {
                0.9
            } else {
                0.1
            }
        }),
        Array2::from_shape_fn((32, 32), |(y, x)| if r(y, x) < 11.0 { 0.9 } else { 0.1 }),
    ]
}

#[test]
fn a_missing_feature_costs_and_the_right_topology_scores_lowest() {
    let prior = TopologicalLoss::new(&[1, 1]);
    let [flat, ring, disk] = flat_ring_disk();
    for ctx in common::contexts() {
        let loss = |m: &Array2<f32>| ctx.topological_loss(m.view(), &prior).unwrap().loss;
        let (flat, ring, disk) = (loss(&flat), loss(&ring), loss(&disk));
        let label = ctx.backend();
        // flat: its one component has persistence 0.5 (the essential class clamped to the
        // minimum... of itself: 0) and no hole: both features of the prior missing
        assert_eq!(flat, 2.0, "{label}: flat map");
        // the disk has its component (1 - 0.8^2) and lacks the hole (1)
        assert!(
            (disk - (1.0 - 0.64 + 1.0)).abs() < 1e-5,
            "{label}: disk {disk}"
        );
        // the ring has both: (1 - 0.8^2) twice
        assert!(
            (ring - 2.0 * (1.0 - 0.64)).abs() < 1e-5,
            "{label}: ring {ring}"
        );
        assert!(ring < disk && disk < flat, "{label}: {ring} {disk} {flat}");
        // the L1 form counts a missing bar as 1 too
        let mut l1 = prior.clone();
        l1.kind = wgpu_persistence::LossKind::L1;
        assert_eq!(
            ctx.topological_loss(ndarray::Array2::from_elem((4, 4), 0.5f32).view(), &l1)
                .unwrap()
                .loss,
            2.0
        );
    }
}

#[test]
fn a_map_outside_zero_one_is_refused_by_loss_and_repair() {
    let prior = TopologicalLoss::new(&[1, 0]);
    for bad in [f32::INFINITY, f32::NEG_INFINITY, 1.5, -0.25, 255.0] {
        let mut map = Array2::from_elem((5, 5), 0.5f32);
        map[[2, 3]] = bad;
        for ctx in common::contexts() {
            match ctx.topological_loss(map.view(), &prior) {
                Err(Error::NotAProbability { index, value }) => {
                    assert_eq!(index, 13);
                    assert!(value == f64::from(bad));
                }
                other => panic!("{bad}: expected NotAProbability, got {other:?}"),
            }
            let r = wgpu_persistence::repair(&ctx, map.view(), &prior, &Default::default());
            assert!(
                matches!(r, Err(Error::NotAProbability { index: 13, .. })),
                "{r:?}"
            );
        }
        let path = npy("bad_map.npy", &map);
        let out = temp("r.npy");
        for (command, extra) in [
            ("loss", vec![]),
            ("repair", vec!["-o", out.to_str().unwrap()]),
        ] {
            let (ok, _, err) = run(cli()
                .args([
                    command,
                    path.to_str().unwrap(),
                    "--betti",
                    "1,0",
                    "-b",
                    "cpu",
                ])
                .args(extra));
            assert!(!ok, "{command} {bad}");
            assert!(
                err.contains("probability map") && err.contains("[0, 1]"),
                "{command} {bad}: {err}"
            );
        }
    }
}

#[test]
fn a_float64_map_a_hair_outside_zero_one_is_refused() {
    // these round into [0, 1] as f32 values (1.0, -0.0): the check reads the map's own values
    let prior = TopologicalLoss::new(&[1, 0]);
    for bad in [1.0 + 1e-12, -1e-300] {
        let mut map = Array2::from_elem((5, 5), 0.5f64);
        map[[2, 3]] = bad;
        let batch = map.clone().insert_axis(ndarray::Axis(0));
        let ctx = Context::cpu();
        let single = ctx.topological_loss(map.view(), &prior).map(|r| r.loss);
        let batched = ctx
            .topological_loss_batch(batch.view(), std::slice::from_ref(&prior))
            .map(|r| r.losses);
        let terms = ctx
            .loss_terms_batch(batch.view(), std::slice::from_ref(&prior))
            .map(|t| t.len());
        for r in [single.map(|_| ()), batched.map(|_| ()), terms.map(|_| ())] {
            match r {
                Err(Error::NotAProbability { index, value }) => {
                    assert_eq!((index, value), (13, bad));
                }
                other => panic!("{bad}: expected NotAProbability, got {other:?}"),
            }
        }
        // the CLI reads a float64 .npy's own values too
        let path = npy("hair.npy", &map);
        let (ok, _, err) = run(cli().args([
            "loss",
            path.to_str().unwrap(),
            "--betti",
            "1,0",
            "-b",
            "cpu",
        ]));
        assert!(!ok, "{bad}");
        assert!(
            err.contains("linear index 13") && err.contains("row 2, column 3"),
            "{bad}: {err}"
        );
    }
    // 1.0 and 0.0 themselves are probabilities
    let mut map = Array2::from_elem((5, 5), 0.5f64);
    map[[2, 3]] = 1.0;
    map[[1, 1]] = 0.0;
    assert!(Context::cpu().topological_loss(map.view(), &prior).is_ok());
}

#[test]
fn a_prior_has_one_to_three_betti_numbers_and_at_most_three_weights() {
    let map = Array2::from_elem((4, 4), 0.5f32);
    let ctx = Context::cpu();
    for betti in [&[][..], &[1, 0, 0, 0][..]] {
        match ctx.topological_loss(map.view(), &TopologicalLoss::new(betti)) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("Betti numbers"), "{m}"),
            other => panic!("betti {betti:?}: {other:?}"),
        }
    }
    let mut prior = TopologicalLoss::new(&[1, 0]);
    prior.weights = vec![1.0; 4];
    match ctx.topological_loss(map.view(), &prior) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("three weights"), "{m}"),
        other => panic!("four weights: {other:?}"),
    }
    for betti in [&[1][..], &[1, 0, 0][..]] {
        assert!(ctx
            .topological_loss(map.view(), &TopologicalLoss::new(betti))
            .is_ok());
    }
}

#[test]
fn nan_or_negative_weights_are_errors() {
    let map = Array2::from_elem((4, 4), 0.5f32);
    for w in [f32::NAN, -1.0, f32::INFINITY] {
        let mut prior = TopologicalLoss::new(&[1, 1]);
        prior.weights = vec![1.0, w];
        match Context::cpu().topological_loss(map.view(), &prior) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("weight"), "{m}"),
            other => panic!("weight {w}: {other:?}"),
        }
    }
}

#[test]
fn a_bad_backend_variable_is_named_in_the_error() {
    let (ok, _, err) = run(cli().env("WGPU_PERSISTENCE_BACKEND", "bogus").args([
        "diagram",
        "-o",
        temp("bogus.csv").to_str().unwrap(),
    ]));
    assert!(!ok);
    assert!(
        err.contains("WGPU_PERSISTENCE_BACKEND=bogus") && err.contains("auto, gpu or cpu"),
        "{err}"
    );
}

#[test]
fn auto_skips_a_software_adapter_and_says_why() {
    let Some(gpu) = common::gpu() else { return };
    let software = gpu
        .adapter_info()
        .is_some_and(|info| format!("{:?}", info.device_type) == "Cpu");
    let (ok, _, err) = run(cli().args(["diagram", "-o", temp("auto_a.csv").to_str().unwrap()]));
    assert!(ok, "{err}");
    if software {
        assert!(
            err.contains("backend cpu") && err.contains("skipped the software adapter"),
            "{err}"
        );
        // asked for, it is used: by the flag, or by the environment for `auto`
        let (ok, _, err) = run(cli().args([
            "diagram",
            "-b",
            "gpu",
            "-o",
            temp("auto_g.csv").to_str().unwrap(),
        ]));
        assert!(ok && err.contains("backend gpu"), "{err}");
        let (ok, _, err) = run(cli().env("WGPU_PERSISTENCE_BACKEND", "gpu").args([
            "diagram",
            "-o",
            temp("auto_e.csv").to_str().unwrap(),
        ]));
        assert!(ok && err.contains("backend gpu"), "{err}");
        assert_eq!(
            std::fs::read(temp("auto_a.csv")).unwrap(),
            std::fs::read(temp("auto_g.csv")).unwrap()
        );
    } else {
        assert!(err.contains("backend gpu"), "{err}");
    }
    assert_eq!(
        Context::with_backend(BackendChoice::Gpu).unwrap().backend(),
        Backend::Gpu
    );
}

#[test]
fn gradient_is_written_in_the_format_its_extension_names() {
    let [_, ring, _] = flat_ring_disk();
    let map = npy("ring.npy", &ring);
    let (g_npy, g_csv) = (temp("g.npy"), temp("g.csv"));
    for out in [&g_npy, &g_csv] {
        let (ok, _, err) = run(cli().args([
            "loss",
            map.to_str().unwrap(),
            "--betti",
            "1,1",
            "-b",
            "cpu",
            "--gradient",
            out.to_str().unwrap(),
        ]));
        assert!(ok, "{err}");
    }
    let from_npy = Array2::<f32>::read_npy(std::fs::File::open(&g_npy).unwrap()).unwrap();
    let text = std::fs::read_to_string(&g_csv).unwrap();
    let rows: Vec<Vec<f32>> = text
        .lines()
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 32);
    for (y, row) in rows.iter().enumerate() {
        assert_eq!(row.as_slice(), from_npy.row(y).as_slice().unwrap());
    }
    assert!(from_npy.iter().any(|g| *g != 0.0));
    let (ok, _, err) = run(cli().args([
        "loss",
        map.to_str().unwrap(),
        "--betti",
        "1,1",
        "--gradient",
        temp("g.txt").to_str().unwrap(),
    ]));
    assert!(!ok && err.contains(".npy or .csv"), "{err}");
}

#[test]
fn loss_and_repair_take_batches_and_repair_takes_volumes() {
    let [flat, ring, disk] = flat_ring_disk();
    let stack = ndarray::stack(ndarray::Axis(0), &[flat.view(), ring.view(), disk.view()]).unwrap();
    let path = npy("stack.npy", &stack);
    let (ok, out, err) = run(cli().args([
        "loss",
        path.to_str().unwrap(),
        "--betti",
        "1,1",
        "--batch",
        "-b",
        "cpu",
    ]));
    assert!(ok, "{err}");
    let ctx = Context::cpu();
    let prior = TopologicalLoss::new(&[1, 1]);
    let want: Vec<String> = [&flat, &ring, &disk]
        .iter()
        .map(|m| {
            ctx.topological_loss(m.view(), &prior)
                .unwrap()
                .loss
                .to_string()
        })
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
    // without --batch a 3D map is a volume, with one loss
    let (ok, out, _) = run(cli().args([
        "loss",
        path.to_str().unwrap(),
        "--betti",
        "1,1,0",
        "-b",
        "cpu",
    ]));
    assert!(ok && out.lines().count() == 1, "{out}");

    let fixed = temp("fixed.npy");
    let (ok, out, err) = run(cli().args([
        "repair",
        path.to_str().unwrap(),
        "--betti",
        "1,1",
        "--batch",
        "-b",
        "cpu",
        "-o",
        fixed.to_str().unwrap(),
    ]));
    assert!(ok, "{err}");
    let repaired = ArrayD::<f32>::read_npy(std::fs::File::open(&fixed).unwrap()).unwrap();
    assert_eq!(repaired.shape(), &[3, 32, 32]);
    let steps = out.lines().find(|l| l.starts_with("steps:")).unwrap();
    assert_eq!(steps.split_whitespace().count(), 4, "{steps}");
    // the ring already has its prior: repaired in no step, unchanged
    assert_eq!(steps.split_whitespace().nth(2), Some("0"), "{steps}");
    assert_eq!(repaired.index_axis(ndarray::Axis(0), 1), ring.into_dyn());

    // a hollow ball with a hole in its shell: the prior (1, 0, 1) asks for the void back
    let ball = Array3::from_shape_fn((12, 12, 12), |(z, y, x)| {
        let r = (z as f32 - 5.5).hypot(y as f32 - 5.5).hypot(x as f32 - 5.5);
        // the shell, pierced above the centre by one column of voxels just below 0.5
        match ((3.0..5.0).contains(&r), z > 5 && y == 6 && x == 6) {
            (true, true) => 0.45f32,
            (true, false) => 0.9,
            _ => 0.1,
        }
    });
    let ball_path = npy("ball.npy", &ball);
    let (ok, out, err) = run(cli().args([
        "repair",
        ball_path.to_str().unwrap(),
        "--betti",
        "1,0,1",
        "-b",
        "cpu",
        "-o",
        fixed.to_str().unwrap(),
    ]));
    assert!(ok, "{err}");
    assert!(out.contains("betti_after: 1,0,1"), "{out}");
    let repaired = ArrayD::<f32>::read_npy(std::fs::File::open(&fixed).unwrap()).unwrap();
    assert_eq!(repaired.shape(), &[12, 12, 12]);
}

fn write_tiff<C: tiff::encoder::colortype::ColorType>(
    path: &Path,
    pages: &[Vec<C::Inner>],
    w: u32,
    h: u32,
) where
    [C::Inner]: tiff::encoder::TiffValue,
{
    let mut encoder =
        tiff::encoder::TiffEncoder::new(std::fs::File::create(path).unwrap()).unwrap();
    for page in pages {
        encoder.write_image::<C>(w, h, page).unwrap();
    }
}

#[test]
fn tiffs_of_several_pages_are_volumes_and_other_files_are_named() {
    use tiff::encoder::colortype::{Gray16, Gray32, Gray32Float};
    let (w, h) = (5u32, 4u32);
    let pages: Vec<Vec<u16>> = (0..3)
        .map(|p| (0..w * h).map(|i| ((i * 7 + p * 11) % 23) as u16).collect())
        .collect();
    let tif = temp("pages.tif");
    write_tiff::<Gray16>(&tif, &pages, w, h);
    let volume = Array3::from_shape_vec(
        (3, 4, 5),
        pages.concat().iter().map(|&v| v as f32).collect(),
    )
    .unwrap();
    let vol_npy = npy("pages.npy", &volume);
    let diagram = |input: &Path, extra: &[&str]| {
        let (ok, out, err) = run(cli()
            .args(["diagram", input.to_str().unwrap(), "-b", "cpu"])
            .args(extra));
        assert!(ok, "{err}");
        out
    };
    // pages are slices of a volume (with --batch: a stack of images)
    assert_eq!(diagram(&tif, &[]), diagram(&vol_npy, &[]));
    assert_eq!(diagram(&tif, &["--batch"]), diagram(&vol_npy, &["--batch"]));
    // a 32-bit float TIFF is taken as it is
    let floats: Vec<f32> = (0..w * h).map(|i| i as f32 * 0.25 - 1.0).collect();
    let ftif = temp("float.tif");
    write_tiff::<Gray32Float>(&ftif, std::slice::from_ref(&floats), w, h);
    let fnpy = npy(
        "float.npy",
        &Array2::from_shape_vec((4, 5), floats).unwrap(),
    );
    assert_eq!(diagram(&ftif, &[]), diagram(&fnpy, &[]));
    // a 32-bit unsigned TIFF is refused, by what it holds and what is accepted
    let utif = temp("u32.tif");
    write_tiff::<Gray32>(&utif, &[(0..w * h).collect()], w, h);
    let (ok, _, err) = run(cli().args(["diagram", utif.to_str().unwrap()]));
    assert!(
        !ok && err.contains("32-bit unsigned") && err.contains("accepted"),
        "{err}"
    );
    // a palette PNG is named for what it is (its header says it; image would call it RGB)
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x04\0\0\0\x04\x08\x03\0\0\0".to_vec();
    png.extend([0u8; 4]);
    let ppng = temp("palette.png");
    std::fs::write(&ppng, &png).unwrap();
    let (ok, _, err) = run(cli().args(["diagram", ppng.to_str().unwrap()]));
    assert!(!ok && err.contains("palette (indexed colour)"), "{err}");
}

#[test]
fn a_batch_backward_takes_one_upstream_or_one_per_map() {
    let maps = Array3::from_shape_fn((2, 6, 6), |(b, y, x)| {
        ((b + y * 3 + x * 5) % 7) as f32 / 7.0
    });
    let r = Context::cpu()
        .topological_loss_batch(maps.view(), &[TopologicalLoss::new(&[1, 0])])
        .unwrap();
    assert!(r.backward(&[2.0]).is_ok() && r.backward(&[1.0, 3.0]).is_ok());
    for bad in [&[][..], &[1.0, 2.0, 3.0][..]] {
        assert!(matches!(r.backward(bad), Err(Error::InvalidArgument(_))));
    }
    let _ = Options::default();
}

#[test]
fn an_applications_device_keeps_its_lost_callback() {
    // the application's own device, as a renderer or a training stack would hand it in
    let Some(gpu) = common::gpu() else { return };
    let name = gpu
        .adapter_info()
        .map(|i| i.name.clone())
        .unwrap_or_default();
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(desc);
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
    let adapter = adapters
        .into_iter()
        .find(|a| a.get_info().name == name)
        .expect("the test adapter");
    let (device, queue) = pollster::block_on(adapter.request_device(&Default::default())).unwrap();
    let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = called.clone();
    device.set_device_lost_callback(move |_, _| {
        flag.store(true, std::sync::atomic::Ordering::SeqCst)
    });
    let ctx = Context::from_device(device.clone(), queue, adapter.get_info());
    let v = [1.0f32, 0.0, 2.0, 3.0];
    assert_eq!(
        ctx.compute_slice(&v, &[2, 2], &Options::default())
            .unwrap()
            .dim(0)
            .len(),
        1
    );
    device.destroy();
    // the library answers with an error, not a panic, and the application hears of the loss
    let r = ctx.compute_slice(&v, &[2, 2], &Options::default());
    assert!(
        matches!(r, Err(Error::Readback(ref m) | Error::Device(ref m)) if m.contains("lost")),
        "{r:?}"
    );
    assert!(called.load(std::sync::atomic::Ordering::SeqCst));
}

/// The pairs of a diagram as `(dim, birth_index, death_index)`, in the diagram's order.
fn index_pairs(d: &wgpu_persistence::Diagram) -> Vec<(usize, usize, Option<usize>)> {
    d.pairs
        .iter()
        .enumerate()
        .flat_map(|(k, ps)| ps.iter().map(move |p| (k, p.birth_index, p.death_index)))
        .collect()
}

/// The dense ranks of exact values, as `f32` (an order-equivalent input that f32 holds exactly).
fn dense_ranks(values: &[f64]) -> Vec<f32> {
    let mut sorted: Vec<f64> = values.iter().map(|v| v + 0.0).collect();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    values
        .iter()
        .map(|v| sorted.partition_point(|s| s.total_cmp(&(v + 0.0)).is_lt()) as f32)
        .collect()
}

/// f64 and i32 inputs whose values f32 cannot tell apart are ordered by their exact values: the
/// same pairs as the dense ranks of the input (an exact f32 input of the same order), on both
/// backends, for images, volumes and batches, every construction and direction; the reported values
/// are the input's, rounded to f32.
#[test]
fn f64_and_i32_inputs_are_ordered_exactly() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    // the cases first: f64 past f32's range, i32 past 2^24
    let cpu = Context::cpu();
    let d = cpu
        .compute_slice(
            &[0.0f64, 1e39, 5.0, 1e40, 1.0],
            &[1, 5],
            &Options::default(),
        )
        .unwrap();
    assert_eq!(
        index_pairs(&d),
        vec![(0, 2, Some(1)), (0, 4, Some(3)), (0, 0, None)]
    );
    let d = cpu
        .compute_slice(
            &[0i32, 16777217, 16777216, 16777218, 1],
            &[1, 5],
            &Options::default(),
        )
        .unwrap();
    // the pair (16777216, 16777217) that rounding to f32 loses, with its values rounded
    assert!(d
        .dim(0)
        .iter()
        .any(|p| p.birth_index == 2 && p.death_index == Some(1)));
    assert_eq!(d.dim(0).len(), 3);
    let contexts = common::contexts();
    for (case, dims) in [
        (0, vec![1usize, 1]),
        (1, vec![1, 40]),
        (2, vec![23, 31]),
        (3, vec![5, 6, 7]),
    ] {
        // values 1 + k * 1e-12 (k < 6): all round to 1.0f32, six exact levels, many ties
        let n: usize = dims.iter().product();
        let exact: Vec<f64> = (0..n)
            .map(|_| 1.0 + rng.gen_range(0..6) as f64 * 1e-12)
            .collect();
        let ranks = dense_ranks(&exact);
        let ints: Vec<i32> = (0..n).map(|_| (1 << 25) + rng.gen_range(0..6)).collect();
        let int_ranks = dense_ranks(&ints.iter().map(|&v| v as f64).collect::<Vec<_>>());
        let constructions: &[&str] = if dims.len() == 2 {
            &["v", "t", "f"]
        } else {
            &["v", "t"]
        };
        for construction in constructions {
            for superlevel in [false, true] {
                let mut options = Options::new(construction.parse().unwrap());
                if superlevel {
                    options = options.superlevel();
                }
                let want = cpu.compute_slice(&ranks, &dims, &options).unwrap();
                let want_int = cpu.compute_slice(&int_ranks, &dims, &options).unwrap();
                for ctx in &contexts {
                    let label = format!(
                        "case {case} {construction} super={superlevel} on {}",
                        ctx.backend()
                    );
                    let got = ctx.compute_slice(&exact, &dims, &options).unwrap();
                    assert_eq!(index_pairs(&got), index_pairs(&want), "f64 {label}");
                    for p in got.pairs.iter().flatten() {
                        assert_eq!(p.birth, exact[p.birth_index] as f32, "{label}");
                        if let Some(i) = p.death_index {
                            assert_eq!(p.death, exact[i] as f32, "{label}");
                        }
                    }
                    let got = ctx.compute_slice(&ints, &dims, &options).unwrap();
                    assert_eq!(index_pairs(&got), index_pairs(&want_int), "i32 {label}");
                    // a batch of two: the same pairs item by item
                    let twice: Vec<f64> = exact.iter().chain(&exact).copied().collect();
                    let batch_dims = [vec![2], dims.clone()].concat();
                    let batch = ArrayD::from_shape_vec(batch_dims, twice).unwrap();
                    for item in ctx.compute_batch(batch.view(), &options).unwrap() {
                        assert_eq!(index_pairs(&item), index_pairs(&want), "batch {label}");
                    }
                }
            }
        }
    }
}

/// The CLI reads float64 and int32 `.npy` files exactly and prints the input's own values.
#[test]
fn the_cli_prints_exact_values_of_f64_and_i32_files() {
    let f64_path = temp("exact_f64.npy");
    ndarray::arr2(&[[0.0f64, 1e39, 5.0, 1e40, 1.0]])
        .write_npy(std::fs::File::create(&f64_path).unwrap())
        .unwrap();
    let i32_path = temp("exact_i32.npy");
    ndarray::arr2(&[[0i32, 16777217, 16777216, 16777218, 1]])
        .write_npy(std::fs::File::create(&i32_path).unwrap())
        .unwrap();
    for backend in ["cpu", "gpu"] {
        let (ok, out, err) = run(cli().args(["diagram", "--backend", backend]).arg(&f64_path));
        assert!(ok, "{err}");
        let rows: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(
            rows,
            [
                format!("0,5,{},2,1", 1e39f64),
                format!("0,1,{},4,3", 1e40f64),
                "0,0,inf,0,".to_string()
            ]
        );
        let (ok, out, err) = run(cli()
            .args(["diagram", "--format", "json", "--backend", backend])
            .arg(&f64_path));
        assert!(ok, "{err}");
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["pairs"][0][0]["death"].as_f64(), Some(1e39));
        let (ok, out, err) = run(cli().args(["diagram", "--backend", backend]).arg(&i32_path));
        assert!(ok, "{err}");
        assert_eq!(
            out.lines().skip(1).collect::<Vec<_>>(),
            ["0,16777216,16777217,2,1", "0,1,16777218,4,3", "0,0,inf,0,"]
        );
    }
}

/// The memory tests measure the whole process: they run one at a time.
#[cfg(target_os = "linux")]
static MEMORY_TEST: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Resident memory of this process in bytes (Linux), from /proc/self/statm.
#[cfg(target_os = "linux")]
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// Memory stays flat over many calls on the CPU backend: diagrams, batches and the loss, 6,000
/// calls after a warm-up, grow the process by less than 16 MiB (a leak of 3 KB a call fails). The
/// GPU backend's test is the next.
#[cfg(target_os = "linux")]
#[test]
fn memory_stays_flat_over_many_cpu_calls() {
    let _alone = MEMORY_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let ctx = Context::cpu();
    let image = Array2::from_shape_fn((96, 96), |(y, x)| ((y * 37 + x * 11 + y * x) % 29) as f32);
    let maps = Array3::from_shape_fn((4, 48, 48), |(b, y, x)| {
        ((b * 7 + y * 5 + x * 3) % 13) as f32 / 12.0
    });
    let prior = [TopologicalLoss::new(&[1, 1])];
    let round = || {
        ctx.compute(image.view(), &Options::default()).unwrap();
        ctx.compute(image.view(), &Options::default().superlevel())
            .unwrap();
        ctx.topological_loss_batch(maps.view(), &prior).unwrap();
    };
    for _ in 0..50 {
        round();
    }
    let before = resident_bytes();
    for _ in 0..2000 {
        round();
    }
    let after = resident_bytes();
    assert!(
        after < before + (16 << 20),
        "resident memory grew from {before} to {after} bytes over 6,000 calls"
    );
}

/// Memory stays flat over many GPU calls on one context: 1,000 calls of the host API (diagrams of
/// an image, a batch and a volume, the loss of a batch) and 300 steps of a resident plan, after a
/// warm-up, grow the process by less than 8 MiB (a leak of 6 KB a call fails). On lavapipe this held
/// only once the kernels bound their parameters as storage buffers there: with uniform buffers the
/// driver kept a newly compiled shader per dispatch, about 1 MB per call (docs/performance.md,
/// section 6).
#[cfg(target_os = "linux")]
#[test]
fn memory_stays_flat_over_many_gpu_calls() {
    use wgpu::util::DeviceExt;
    let _alone = MEMORY_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ctx) = common::gpu() else { return };
    let image = Array2::from_shape_fn((32, 32), |(y, x)| ((y * 37 + x * 11 + y * x) % 29) as f32);
    let maps = Array3::from_shape_fn((4, 16, 16), |(b, y, x)| {
        ((b * 7 + y * 5 + x * 3) % 13) as f32 / 12.0
    });
    let volume = Array3::from_shape_fn((6, 6, 6), |(z, y, x)| ((z * 5 + y * 3 + x) % 7) as f32);
    let prior = [TopologicalLoss::new(&[1, 1])];
    let round = || {
        ctx.compute(image.view(), &Options::default()).unwrap();
        ctx.compute_batch(maps.view(), &Options::default().superlevel())
            .unwrap();
        ctx.compute(volume.view(), &Options::default()).unwrap();
        ctx.topological_loss_batch(maps.view(), &prior).unwrap();
    };
    let (device, queue) = ctx.device_and_queue().unwrap();
    let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(maps.as_slice().unwrap()),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    });
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: ((maps.len() + 4) * 4) as u64,
        usage: wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let plan = ctx.resident_loss_plan(&[4, 16, 16], &prior).unwrap();
    let step = || {
        let mut encoder = device.create_command_encoder(&Default::default());
        plan.record_loss(
            &mut encoder,
            wgpu_persistence::BufferAt::new(&input, 0),
            wgpu_persistence::BufferAt::new(&out, 0),
            wgpu_persistence::BufferAt::new(&out, (maps.len() * 4) as u64),
        )
        .unwrap();
        queue.submit([encoder.finish()]);
        plan.finish().unwrap();
    };
    for _ in 0..20 {
        round();
        step();
    }
    let before = resident_bytes();
    for _ in 0..250 {
        round();
    }
    for _ in 0..300 {
        step();
    }
    let after = resident_bytes();
    assert!(
        after < before + (8 << 20),
        "resident memory grew from {before} to {after} bytes over 1,000 GPU calls and 300 resident steps"
    );
}
