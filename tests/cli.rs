//! Integration tests of the `wgpu-persistence` binary. All but one run on `--backend cpu`; the GPU
//! test needs an adapter (lavapipe in CI) and fails without one, unless `WGPU_PERSISTENCE_NO_GPU=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{Array, Array2, Array3, ArrayD, Dimension};
use ndarray_npy::{WritableElement, WriteNpyExt};
use wgpu_persistence::{Construction, Context, Diagram, Options};

const CSV_HEADER: &str = "dim,birth,death,birth_index,death_index";
const BATCH_CSV_HEADER: &str = "image,dim,birth,death,birth_index,death_index";

// ---------------------------------------------------------------------------------------------
// Helpers

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "wgpu-persistence-cli-{}-{tag}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn npy<A: WritableElement, D: Dimension>(&self, name: &str, array: &Array<A, D>) -> PathBuf {
        let path = self.path(name);
        let file = std::fs::File::create(&path).expect("create npy");
        array.write_npy(file).expect("write npy");
        path
    }

    fn bytes(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `.npy` file written by hand (version 1.0, C order), for dtypes ndarray-npy would not write.
fn raw_npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

struct Run {
    output: Output,
    stdout: String,
    stderr: String,
}

fn run_in(dir: Option<&Path>, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wgpu-persistence"));
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.output().expect("run the binary");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output,
    }
}

fn run(args: &[&str]) -> Run {
    run_in(None, args)
}

fn run_ok(args: &[&str]) -> Run {
    let r = run(args);
    assert!(
        r.output.status.success(),
        "{args:?} failed ({:?}); stderr:\n{}",
        r.output.status,
        r.stderr
    );
    r
}

/// Non-zero exit, no panic, and one `error: ...` line (the last one) that contains every needle.
fn assert_clean_failure(r: &Run, needles: &[&str]) {
    assert!(
        !r.output.status.success(),
        "expected failure, stdout:\n{}",
        r.stdout
    );
    assert_eq!(r.output.status.code(), Some(1), "stderr:\n{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "panicked:\n{}", r.stderr);
    assert!(
        r.stdout.is_empty(),
        "stdout not empty on error:\n{}",
        r.stdout
    );
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "expected one error line, stderr:\n{}",
        r.stderr
    );
    let last = r.stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last, errors[0],
        "error line is not the last line:\n{}",
        r.stderr
    );
    for needle in needles {
        assert!(
            errors[0].contains(needle),
            "'{needle}' missing from: {}",
            errors[0]
        );
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `repair INPUT --betti BETTI -o OUT -b cpu`
fn repair_args<'a>(input: &'a Path, betti: &'a str, out: &'a Path) -> [&'a str; 8] {
    let (input, out) = (path_str(input), path_str(out));
    ["repair", input, "--betti", betti, "-o", out, "-b", "cpu"]
}

/// One CSV data row: `(image, dim, birth, death, birth_index, death_index)`; `image` is 0 without --batch.
type Row = (usize, usize, f32, f32, usize, Option<usize>);

fn parse_csv(text: &str, batch: bool) -> Vec<Row> {
    let mut lines = text.lines();
    let expected = if batch { BATCH_CSV_HEADER } else { CSV_HEADER };
    assert_eq!(lines.next(), Some(expected));
    lines
        .map(|line| {
            let mut f: Vec<&str> = line.split(',').collect();
            let image = if batch {
                f.remove(0).parse().expect("image")
            } else {
                0
            };
            assert_eq!(f.len(), 5, "bad row '{line}'");
            let death_index = match f[4] {
                "" => None,
                s => Some(s.parse().expect("death_index")),
            };
            (
                image,
                f[0].parse().expect("dim"),
                f[1].parse().expect("birth"),
                f[2].parse().expect("death"),
                f[3].parse().expect("birth_index"),
                death_index,
            )
        })
        .collect()
}

/// The rows the CLI should print for these diagrams.
fn rows_of(diagrams: &[Diagram]) -> Vec<Row> {
    let mut rows = Vec::new();
    for (image, d) in diagrams.iter().enumerate() {
        for (dim, pairs) in d.pairs.iter().enumerate() {
            for p in pairs {
                rows.push((image, dim, p.birth, p.death, p.birth_index, p.death_index));
            }
        }
    }
    rows
}

/// Bitwise equality of rows (so `inf`, `-inf` and every f32 must round-trip exactly).
fn assert_rows_identical(got: &[Row], want: &[Row]) {
    assert_eq!(got.len(), want.len(), "row counts differ");
    for (g, w) in got.iter().zip(want) {
        let same = g.0 == w.0
            && g.1 == w.1
            && g.2.to_bits() == w.2.to_bits()
            && g.3.to_bits() == w.3.to_bits()
            && g.4 == w.4
            && g.5 == w.5;
        assert!(same, "row {g:?} != {w:?}");
    }
}

/// Every birth/death equals the pixel value at its index (in image `image` of `values`).
fn assert_values_at_indices(rows: &[Row], values: &[f32], pixels: usize) {
    for &(image, _, birth, death, bi, di) in rows {
        let img = &values[image * pixels..(image + 1) * pixels];
        assert_eq!(img[bi].to_bits(), birth.to_bits(), "birth at {bi}");
        match di {
            Some(di) => assert_eq!(img[di].to_bits(), death.to_bits(), "death at {di}"),
            None => assert!(death.is_infinite(), "essential death {death}"),
        }
    }
}

/// Deterministic pseudo-random `f32` in [0, 1) with many digits (LCG), some values quantised to tie.
fn test_image(h: usize, w: usize, seed: u64) -> Array2<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    Array2::from_shape_fn((h, w), |(y, x)| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = (state >> 40) as f32 / (1u64 << 24) as f32;
        if (y + x) % 5 == 0 {
            (v * 4.0).floor() / 4.0
        } else {
            v * 1e-3 + v
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn default_sample_runs_from_any_directory() {
    let dir = TempDir::new("sample");
    let r = run_in(Some(&dir.0), &["diagram", "--backend", "cpu"]);
    assert!(r.output.status.success(), "stderr:\n{}", r.stderr);
    assert!(
        r.stderr.contains("backend cpu"),
        "no backend line:\n{}",
        r.stderr
    );
    let rows = parse_csv(&r.stdout, false);
    assert!(rows.len() > 100, "only {} pairs", rows.len());
    let essential: Vec<&Row> = rows.iter().filter(|r| r.5.is_none()).collect();
    assert_eq!(essential.len(), 1, "one essential class");
    assert_eq!(essential[0].1, 0);
    assert_eq!(essential[0].3, f32::INFINITY);
    assert!(r
        .stdout
        .lines()
        .any(|l| l.starts_with("0,") && l.contains(",inf,") && l.ends_with(',')));
    assert!(rows.iter().any(|r| r.1 == 1), "the photograph has H1 pairs");
}

#[test]
fn csv_values_round_trip_and_match_pixels() {
    let dir = TempDir::new("roundtrip");
    let mut image = test_image(23, 17, 1);
    image[[3, 4]] = f32::INFINITY;
    image[[10, 2]] = f32::NEG_INFINITY;
    image[[12, 12]] = 1.0e-30;
    image[[20, 1]] = 3.0e38;
    let path = dir.npy("img.npy", &image);
    let values: Vec<f32> = image.iter().copied().collect();
    let ctx = Context::cpu();
    for construction in ["v", "t", "freudenthal"] {
        for superlevel in [false, true] {
            let mut args = vec!["diagram", path_str(&path), "--backend", "cpu"];
            args.extend(["--construction", construction]);
            if superlevel {
                args.push("--superlevel");
            }
            let r = run_ok(&args);
            let rows = parse_csv(&r.stdout, false);
            assert_values_at_indices(&rows, &values, values.len());
            let mut options =
                Options::new(construction.parse::<Construction>().expect("construction"));
            if superlevel {
                options = options.superlevel();
            }
            let want = ctx.compute(image.view(), &options).expect("library");
            assert_rows_identical(&rows, &rows_of(&[want]));
            let essential_death = if superlevel { "-inf" } else { "inf" };
            assert!(
                r.stdout
                    .lines()
                    .any(|l| l.split(',').nth(2) == Some(essential_death) && l.ends_with(',')),
                "no essential row with death {essential_death}"
            );
        }
    }
}

#[test]
fn integer_and_f64_dtypes_load() {
    let dir = TempDir::new("dtypes");
    let base = test_image(9, 11, 7);
    let paths = [
        dir.npy("u8.npy", &base.mapv(|v| (v * 255.0) as u8)),
        dir.npy("u16.npy", &base.mapv(|v| (v * 65535.0) as u16)),
        dir.npy("i16.npy", &base.mapv(|v| (v * 60000.0 - 30000.0) as i16)),
        dir.npy("i32.npy", &base.mapv(|v| (v * 1e6 - 5e5) as i32)),
        dir.npy("f64.npy", &base.mapv(|v| f64::from(v) / 3.0)),
    ];
    let expected: [Vec<f32>; 5] = [
        base.iter().map(|&v| f32::from((v * 255.0) as u8)).collect(),
        base.iter()
            .map(|&v| f32::from((v * 65535.0) as u16))
            .collect(),
        base.iter()
            .map(|&v| f32::from((v * 60000.0 - 30000.0) as i16))
            .collect(),
        base.iter()
            .map(|&v| (v * 1e6 - 5e5) as i32 as f32)
            .collect(),
        base.iter().map(|&v| (f64::from(v) / 3.0) as f32).collect(),
    ];
    for (path, values) in paths.iter().zip(&expected) {
        let r = run_ok(&["diagram", path_str(path), "--backend", "cpu"]);
        let rows = parse_csv(&r.stdout, false);
        assert!(!rows.is_empty());
        assert_values_at_indices(&rows, values, values.len());
    }
}

#[test]
fn batch_csv_has_an_image_column_with_every_image() {
    let dir = TempDir::new("batch");
    let (b, h, w) = (3, 12, 10);
    let stack = Array3::from_shape_fn((b, h, w), |(i, y, x)| {
        test_image(h, w, i as u64 + 11)[[y, x]]
    });
    let path = dir.npy("stack.npy", &stack);
    let r = run_ok(&["diagram", path_str(&path), "--batch", "--backend", "cpu"]);
    let rows = parse_csv(&r.stdout, true);
    for image in 0..b {
        let essential = rows
            .iter()
            .filter(|r| r.0 == image && r.5.is_none())
            .count();
        assert_eq!(essential, 1, "image {image} has one essential class");
    }
    assert!(rows.iter().all(|r| r.0 < b));
    let values: Vec<f32> = stack.iter().copied().collect();
    assert_values_at_indices(&rows, &values, h * w);
    let want = Context::cpu()
        .compute_batch(stack.view(), &Options::new(Construction::V))
        .expect("library");
    assert_rows_identical(&rows, &rows_of(&want));
}

#[test]
fn json_parses_single_and_batch() {
    let dir = TempDir::new("json");
    let image = test_image(8, 13, 3);
    let single = dir.npy("img.npy", &image);
    let r = run_ok(&[
        "diagram",
        path_str(&single),
        "--format",
        "json",
        "--backend",
        "cpu",
        "--superlevel",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(v["shape"], serde_json::json!([8, 13]));
    assert_eq!(v["backend"], "cpu");
    let pairs = v["pairs"].as_array().expect("pairs array");
    assert_eq!(pairs.len(), 2);
    let values: Vec<f32> = image.iter().copied().collect();
    let mut essential = 0;
    for pair in pairs
        .iter()
        .flat_map(|d| d.as_array().expect("dimension array"))
    {
        let birth = pair["birth"].as_f64().expect("finite birth") as f32;
        let birth_index = pair["birth_index"].as_u64().expect("birth_index") as usize;
        assert_eq!(values[birth_index], birth);
        match pair["death_index"].as_u64() {
            Some(i) => assert_eq!(
                values[i as usize],
                pair["death"].as_f64().expect("death") as f32
            ),
            None => {
                assert!(pair["death_index"].is_null());
                assert_eq!(pair["death"], "-inf");
                essential += 1;
            }
        }
    }
    assert_eq!(essential, 1);

    let stack = Array3::from_shape_fn((2, 5, 6), |(i, y, x)| (i * 7 + y * 3 + x * 5 % 7) as f32);
    let batch = dir.npy("stack.npy", &stack);
    let r = run_ok(&[
        "diagram",
        path_str(&batch),
        "--batch",
        "-f",
        "json",
        "-b",
        "cpu",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    let images = v.as_array().expect("an array with --batch");
    assert_eq!(images.len(), 2);
    for d in images {
        assert_eq!(d["shape"], serde_json::json!([5, 6]));
        assert_eq!(
            d["pairs"][0]
                .as_array()
                .and_then(|a| a.last())
                .map(|p| &p["death"]),
            Some(&"inf".into())
        );
    }
}

#[test]
fn keep_zero_keeps_zero_persistence_pairs() {
    let dir = TempDir::new("keepzero");
    let image = Array2::from_shape_fn((6, 7), |(y, x)| ((y + x) % 3) as u8);
    let path = dir.npy("img.npy", &image);
    let dropped = parse_csv(
        &run_ok(&["diagram", path_str(&path), "-b", "cpu"]).stdout,
        false,
    );
    let kept = parse_csv(
        &run_ok(&["diagram", path_str(&path), "-b", "cpu", "--keep-zero"]).stdout,
        false,
    );
    assert!(dropped.iter().all(|r| r.5.is_none() || r.2 != r.3));
    assert!(kept.iter().any(|r| r.5.is_some() && r.2 == r.3));
    assert!(kept.len() > dropped.len());
}

#[test]
fn nan_input_fails_naming_the_index() {
    let dir = TempDir::new("nan");
    let mut image = test_image(4, 5, 2);
    image[[1, 2]] = f32::NAN;
    image[[3, 0]] = f32::NAN;
    let path = dir.npy("nan.npy", &image);
    let r = run(&["diagram", path_str(&path), "--backend", "cpu"]);
    assert_clean_failure(&r, &["NaN", "index 7", "nan.npy"]);

    let mut stack = Array3::<f64>::zeros((2, 3, 3));
    stack[[1, 0, 2]] = f64::NAN;
    let path = dir.npy("nan_stack.npy", &stack);
    let r = run(&["diagram", path_str(&path), "--backend", "cpu", "--batch"]);
    assert_clean_failure(&r, &["NaN", "index 11"]);
}

#[test]
fn three_d_is_a_volume_and_a_stack_only_with_batch() {
    let dir = TempDir::new("3d");
    let volume = Array3::from_shape_fn((3, 4, 5), |(z, y, x)| ((z * 7 + y * 3 + x * 5) % 4) as f32);
    let path = dir.npy("volume.npy", &volume);
    let ctx = Context::cpu();
    for construction in ["v", "t"] {
        let options = Options::new(construction.parse().unwrap()).superlevel();
        let r = run_ok(&[
            "diagram",
            path_str(&path),
            "-b",
            "cpu",
            "-c",
            construction,
            "--superlevel",
        ]);
        let want = ctx.compute(volume.view(), &options).unwrap();
        assert_rows_identical(&parse_csv(&r.stdout, false), &rows_of(&[want]));
    }
    let r = run_ok(&["diagram", path_str(&path), "-b", "cpu", "-f", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(v["shape"], serde_json::json!([3, 4, 5]));
    assert_eq!(v["pairs"].as_array().expect("pairs").len(), 3);
    // with --batch the same file is three 4x5 images
    let r = run_ok(&["diagram", path_str(&path), "-b", "cpu", "--batch"]);
    let want = ctx
        .compute_batch(volume.view(), &Options::default())
        .unwrap();
    assert_rows_identical(&parse_csv(&r.stdout, true), &rows_of(&want));
    // and a 4D file with --batch is a stack of volumes
    let stack = volume.clone().insert_axis(ndarray::Axis(0));
    let path4 = dir.npy("volumes.npy", &stack);
    let r = run_ok(&["diagram", path_str(&path4), "-b", "cpu", "--batch"]);
    let want = ctx
        .compute_batch(stack.view(), &Options::default())
        .unwrap();
    assert_rows_identical(&parse_csv(&r.stdout, true), &rows_of(&want));
    // Freudenthal is 2D only
    let r = run(&["diagram", path_str(&path), "-b", "cpu", "-c", "f"]);
    assert_clean_failure(&r, &["Freudenthal", "2D"]);
    // a NaN voxel is named along the volume's axes
    let mut bad = volume.clone();
    bad[[2, 1, 3]] = f32::NAN;
    let path = dir.npy("nan_volume.npy", &bad);
    let r = run(&["diagram", path_str(&path), "-b", "cpu"]);
    assert_clean_failure(&r, &["index 48", "slice 2, row 1, column 3"]);
}

#[test]
fn loss_of_a_volume_writes_a_volume_gradient() {
    let dir = TempDir::new("loss3d");
    let mut volume = Array3::<f32>::zeros((5, 5, 5));
    volume.slice_mut(ndarray::s![1..4, 1..4, 1..4]).fill(0.9);
    volume[[2, 2, 2]] = 0.3;
    let path = dir.npy("shell.npy", &volume);
    let gradient = dir.path("gradient.npy");
    let r = run_ok(&[
        "loss",
        path_str(&path),
        "--betti",
        "1,0,0",
        "-b",
        "cpu",
        "--gradient",
        path_str(&gradient),
    ]);
    let mut loss = wgpu_persistence::TopologicalLoss::new(&[1, 0, 0]);
    loss.construction = Construction::V;
    let want = Context::cpu()
        .topological_loss(volume.view(), &loss)
        .unwrap();
    let printed: f32 = r.stdout.lines().last().unwrap().parse().unwrap();
    assert_eq!(printed, want.loss);
    let written: Array3<f32> =
        ndarray_npy::ReadNpyExt::read_npy(std::fs::File::open(&gradient).unwrap()).unwrap();
    assert_eq!(written, want.gradient);
    assert!(written.iter().any(|&g| g != 0.0));
    // repair takes volumes too (issue 15): the repaired map has the volume's shape and reaches
    // the prior (here: no void)
    let out = dir.path("out.npy");
    let r = run(&repair_args(&path, "1,0,0", &out));
    assert!(r.output.status.success(), "stderr:\n{}", r.stderr);
    assert!(r.stdout.contains("betti_after: 1,0,0"), "{}", r.stdout);
    let repaired: Array3<f32> =
        ndarray_npy::ReadNpyExt::read_npy(std::fs::File::open(&out).unwrap()).unwrap();
    assert_eq!(repaired.dim(), written.dim());
}

#[test]
fn wrong_dimensionality_and_empty_inputs_fail() {
    let dir = TempDir::new("dims");
    let one = dir.npy("one.npy", &ndarray::arr1(&[1.0f32, 2.0, 3.0]));
    assert_clean_failure(&run(&["diagram", path_str(&one), "-b", "cpu"]), &["1D"]);
    assert_clean_failure(
        &run(&["diagram", path_str(&one), "-b", "cpu", "--batch"]),
        &["1D"],
    );
    let four = dir.npy("four.npy", &ArrayD::<f32>::zeros(vec![2, 2, 2, 2]));
    assert_clean_failure(
        &run(&["diagram", path_str(&four), "-b", "cpu"]),
        &["4D", "--batch"],
    );
    let five = dir.npy("five.npy", &ArrayD::<f32>::zeros(vec![2, 2, 2, 2, 2]));
    assert_clean_failure(
        &run(&["diagram", path_str(&five), "-b", "cpu", "--batch"]),
        &["5D"],
    );
    let empty = dir.npy("empty.npy", &Array2::<f32>::zeros((0, 5)));
    assert_clean_failure(
        &run(&["diagram", path_str(&empty), "-b", "cpu"]),
        &["empty"],
    );
    let empty3 = dir.npy("empty3.npy", &Array3::<u8>::zeros((0, 3, 3)));
    assert_clean_failure(
        &run(&["diagram", path_str(&empty3), "-b", "cpu", "--batch"]),
        &["empty"],
    );
}

#[test]
fn missing_file_and_unknown_extension_fail() {
    let dir = TempDir::new("missing");
    let missing = dir.path("does_not_exist.npy");
    assert_clean_failure(
        &run(&["diagram", path_str(&missing), "-b", "cpu"]),
        &["does_not_exist.npy"],
    );
    let missing_png = dir.path("does_not_exist.png");
    assert_clean_failure(
        &run(&["time", path_str(&missing_png), "-b", "cpu"]),
        &["does_not_exist.png"],
    );
    let bmp = dir.bytes("image.bmp", b"BM not really");
    assert_clean_failure(
        &run(&["diagram", path_str(&bmp), "-b", "cpu"]),
        &["unsupported file type"],
    );
}

#[test]
fn unsupported_dtypes_and_corrupt_files_fail_without_panicking() {
    let dir = TempDir::new("dtype");
    let i8_npy = dir.bytes("i8.npy", &raw_npy("|i1", "(2, 3)", &[1, 2, 3, 4, 5, 6]));
    assert_clean_failure(
        &run(&["diagram", path_str(&i8_npy), "-b", "cpu"]),
        &["dtype", "|i1"],
    );
    let complex = dir.bytes("c8.npy", &raw_npy("<c8", "(2, 2)", &[0; 32]));
    assert_clean_failure(
        &run(&["diagram", path_str(&complex), "-b", "cpu"]),
        &["dtype", "<c8"],
    );
    let int64 = dir.bytes("i8b.npy", &raw_npy("<i8", "(1, 2)", &[0; 16]));
    assert_clean_failure(
        &run(&["diagram", path_str(&int64), "-b", "cpu"]),
        &["dtype", "<i8"],
    );
    // A header that claims far more data than the file holds must not be trusted for an allocation.
    let huge = dir.bytes("huge.npy", &raw_npy("<f4", "(100000, 100000)", &[0; 16]));
    assert_clean_failure(
        &run(&["diagram", path_str(&huge), "-b", "cpu"]),
        &["truncated"],
    );
    let overflow = raw_npy("<f4", "(4000000000, 4000000000, 4000000000)", &[0; 16]);
    let overflow = dir.bytes("overflow.npy", &overflow);
    assert_clean_failure(
        &run(&["diagram", path_str(&overflow), "-b", "cpu"]),
        &["too large"],
    );
    let short = dir.bytes("short.npy", &raw_npy("<f4", "(3, 3)", &[0; 20]));
    assert_clean_failure(
        &run(&["diagram", path_str(&short), "-b", "cpu"]),
        &["truncated"],
    );
    let garbage = dir.bytes("garbage.npy", b"not an npy file at all");
    assert_clean_failure(
        &run(&["diagram", path_str(&garbage), "-b", "cpu"]),
        &["not a .npy file"],
    );
    let bad_png = dir.bytes("bad.png", b"\x89PNG\r\n\x1a\n truncated");
    assert_clean_failure(
        &run(&["diagram", path_str(&bad_png), "-b", "cpu"]),
        &["bad.png"],
    );
    // a directory, and a device that never ends (an image was read whole first: until memory ran
    // out), are refused before anything is read
    let folder = dir.path("folder.npy");
    std::fs::create_dir(&folder).expect("mkdir");
    assert_clean_failure(
        &run(&["diagram", path_str(&folder), "-b", "cpu"]),
        &["folder.npy", "not a regular file"],
    );
    #[cfg(unix)]
    {
        let endless = dir.path("endless.png");
        std::os::unix::fs::symlink("/dev/zero", &endless).expect("symlink");
        assert_clean_failure(
            &run(&["diagram", path_str(&endless), "-b", "cpu"]),
            &["endless.png", "not a regular file"],
        );
    }
}

/// The CRC-32 of a PNG chunk (over its type and data).
fn png_crc(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn grayscale_png_and_tiff_inputs_work_and_colour_is_rejected() {
    let dir = TempDir::new("png");
    let (w, h) = (9u32, 7u32);
    let gray8 =
        image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 37 + y * 91) % 256) as u8]));
    let png8 = dir.path("gray8.png");
    gray8.save(&png8).expect("save png");
    let values: Vec<f32> = gray8.as_raw().iter().map(|&v| f32::from(v)).collect();
    let rows = parse_csv(
        &run_ok(&["diagram", path_str(&png8), "-b", "cpu"]).stdout,
        false,
    );
    assert!(rows.len() > 1);
    assert_values_at_indices(&rows, &values, values.len());

    // the same image with one grey level marked transparent (a tRNS chunk before IDAT): it decodes
    // with an alpha channel, and its grey levels are still the image
    let bytes = std::fs::read(&png8).expect("read png");
    let idat = bytes
        .windows(4)
        .position(|w| w == b"IDAT")
        .expect("an IDAT chunk")
        - 4;
    let mut chunk = b"tRNS\x00\x25".to_vec();
    let crc = png_crc(&chunk);
    chunk.splice(0..0, 2u32.to_be_bytes());
    chunk.extend_from_slice(&crc.to_be_bytes());
    let trns = dir.bytes(
        "trns.png",
        &[&bytes[..idat], &chunk, &bytes[idat..]].concat(),
    );
    assert_eq!(
        run_ok(&["diagram", path_str(&trns), "-b", "cpu"]).stdout,
        run_ok(&["diagram", path_str(&png8), "-b", "cpu"]).stdout
    );

    let gray16 = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
        image::Luma([((x * 7919 + y * 104729) % 65536) as u16])
    });
    let values: Vec<f32> = gray16.as_raw().iter().map(|&v| f32::from(v)).collect();
    for name in ["gray16.png", "gray16.tif"] {
        let path = dir.path(name);
        gray16.save(&path).expect("save 16-bit image");
        let rows = parse_csv(
            &run_ok(&["diagram", path_str(&path), "-b", "cpu"]).stdout,
            false,
        );
        assert!(rows.len() > 1);
        assert_values_at_indices(&rows, &values, values.len());
    }

    let rgb = image::RgbImage::from_pixel(4, 4, image::Rgb([10, 20, 30]));
    let rgb_path = dir.path("rgb.png");
    rgb.save(&rgb_path).expect("save rgb png");
    assert_clean_failure(
        &run(&["diagram", path_str(&rgb_path), "-b", "cpu"]),
        &["grayscale"],
    );
}

#[test]
fn output_option_writes_a_file_and_keeps_stdout_empty() {
    let dir = TempDir::new("out");
    let out = dir.path("diagram.json");
    let r = run_ok(&["diagram", "-b", "cpu", "-f", "json", "-o", path_str(&out)]);
    assert!(r.stdout.is_empty());
    let text = std::fs::read_to_string(&out).expect("output file");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["shape"], serde_json::json!([128, 128]));
}

#[test]
fn time_prints_one_json_line() {
    let r = run_ok(&["time", "--backend", "cpu", "--repeat", "3"]);
    assert_eq!(r.stdout.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(v["backend"], "cpu");
    assert!(v["adapter"].is_string());
    assert_eq!(v["shape"], serde_json::json!([128, 128]));
    assert_eq!(v["repeat"], 3);
    let (median, min) = (
        v["median_s"].as_f64().expect("median"),
        v["min_s"].as_f64().expect("min"),
    );
    assert!(min > 0.0 && min <= median);
    let pairs = v["pairs"].as_array().expect("pair counts");
    assert_eq!(pairs.len(), 2);
    assert!(pairs.iter().all(|n| n.as_u64().is_some_and(|n| n > 0)));
    assert!(
        v["gpu_stage_median_s"].is_null(),
        "no GPU stages on the CPU backend"
    );
    // --kernel-timings on the CPU backend: said to be impossible, and the run still timed
    let r = run_ok(&[
        "time",
        "--backend",
        "cpu",
        "--repeat",
        "1",
        "--kernel-timings",
    ]);
    assert!(
        r.stderr.contains("cannot time kernels"),
        "stderr:\n{}",
        r.stderr
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert!(v["median_s"].as_f64().is_some() && v.get("gpu_kernel_median_s").is_none());
    // --repeat 0 is a usage error, reported by clap with exit status 2.
    let bad = run(&["time", "-b", "cpu", "--repeat", "0"]);
    assert_eq!(bad.output.status.code(), Some(2), "stderr:\n{}", bad.stderr);
    assert!(!bad.stderr.contains("panicked"));
    // any warm-up count leaves --repeat timed runs, 0 too (the first call of the process timed)
    for warmup in ["0", "2"] {
        let r = run_ok(&["time", "-b", "cpu", "--warmup", warmup, "--repeat", "3"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
        assert_eq!(v["repeat"].as_u64(), Some(3), "{}", r.stdout);
    }
    // but the first call computes a diagram: --warmup 0 does not go with --loss
    let bad = run(&["time", "-b", "cpu", "--warmup", "0", "--loss", "1,1"]);
    assert_eq!(bad.output.status.code(), Some(1), "stderr:\n{}", bad.stderr);
    assert!(bad.stderr.contains("--warmup 0"), "stderr:\n{}", bad.stderr);
}

#[test]
fn timings_and_loss_timing() {
    let r = run_ok(&["diagram", "--backend", "cpu", "--timings"]);
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("timings:"))
        .unwrap_or_else(|| panic!("no timings line in stderr:\n{}", r.stderr));
    assert!(
        line.contains("wall") && line.contains("ms") && line.contains("cpu"),
        "{line}"
    );
    assert!(
        r.stdout.starts_with("dim,birth,death"),
        "the diagram is still written"
    );

    // time --loss: the loss with its gradient, on a batch; pair counts are those of the superlevel
    // diagrams the loss uses
    let dir = TempDir::new("time-loss");
    let stack = Array3::from_shape_fn((3, 20, 24), |(i, y, x)| {
        test_image(20, 24, i as u64 + 9)[[y, x]]
    });
    let path = dir.npy("maps.npy", &stack);
    let r = run_ok(&[
        "time",
        path_str(&path),
        "--batch",
        "-b",
        "cpu",
        "--loss",
        "1,0",
        "--repeat",
        "2",
        "--timings",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(v["shape"], serde_json::json!([3, 20, 24]));
    assert!(v["median_s"].as_f64().is_some_and(|t| t > 0.0));
    let ctx = wgpu_persistence::Context::cpu();
    let diagrams = ctx
        .compute_batch(stack.view(), &Options::default().superlevel())
        .expect("diagrams");
    let want: Vec<usize> = (0..2)
        .map(|k| diagrams.iter().map(|d| d.dim(k).len()).sum())
        .collect();
    assert_eq!(v["pairs"], serde_json::json!(want));
    assert!(r.stderr.contains("timings:"), "stderr:\n{}", r.stderr);
    assert_clean_failure(
        &run(&["time", "-b", "cpu", "--loss", "one"]),
        &["--loss", "'one'"],
    );

    // without an input, time --loss takes the bundled sample as `loss` takes an 8-bit image:
    // scaled to [0, 1] (the same order, so the pair counts of the sample's superlevel diagram)
    let r = run_ok(&["time", "-b", "cpu", "--loss", "1,0", "--repeat", "1"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    let diagram = run_ok(&["diagram", "-b", "cpu", "--superlevel"]);
    let want: Vec<usize> = (0..2)
        .map(|k| {
            let dim = format!("{k},");
            diagram
                .stdout
                .lines()
                .filter(|l| l.starts_with(&dim))
                .count()
        })
        .collect();
    assert!(want[0] > 1 && want[1] > 0, "the sample has features");
    assert_eq!(v["pairs"], serde_json::json!(want));
}

#[test]
fn gpu_backend_answers_like_the_cpu() {
    if std::env::var("WGPU_PERSISTENCE_NO_GPU").as_deref() == Ok("1") {
        eprintln!("WGPU_PERSISTENCE_NO_GPU=1: skipping the GPU CLI test");
        return;
    }
    let dir = TempDir::new("gpu");
    let stack = Array3::from_shape_fn((2, 19, 23), |(i, y, x)| {
        test_image(19, 23, i as u64 + 5)[[y, x]]
    });
    let path = dir.npy("stack.npy", &stack);
    let args = |backend| {
        vec![
            "diagram",
            path_str(&path),
            "--batch",
            "--backend",
            backend,
            "-c",
            "t",
        ]
    };
    let gpu = run_ok(&args("gpu"));
    assert!(
        gpu.stderr.contains("backend gpu"),
        "stderr:\n{}",
        gpu.stderr
    );
    let cpu = run_ok(&args("cpu"));
    assert_eq!(gpu.stdout, cpu.stdout, "GPU and CPU diagrams differ");

    let r = run_ok(&["diagram", "--backend", "gpu", "-f", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(v["backend"], "gpu");
    let r = run_ok(&["time", "--backend", "gpu", "--repeat", "1"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(v["backend"], "gpu");
    // lavapipe offers timestamp queries: three positive stage times
    if let Some(stages) = v["gpu_stage_median_s"].as_array() {
        assert_eq!(stages.len(), 3);
        assert!(
            stages.iter().all(|t| t.as_f64().is_some_and(|t| t > 0.0)),
            "{stages:?}"
        );
    }
    assert!(
        v.get("gpu_kernel_median_s").is_none(),
        "kernels are timed only when asked"
    );
    // --kernel-timings: one entry per kernel, in order of first dispatch, the ranking's first
    let r = run_ok(&[
        "time",
        "--backend",
        "gpu",
        "--repeat",
        "2",
        "--kernel-timings",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    let kernels = v["gpu_kernel_median_s"].as_array().expect("kernel times");
    let names: Vec<&str> = kernels
        .iter()
        .filter_map(|k| k["kernel"].as_str())
        .collect();
    assert_eq!(names.first(), Some(&"order_keys"), "{names:?}");
    for name in [
        "radix_scatter",
        "boruvka_select",
        "pointer_jump",
        "compact_pairs",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(kernels
        .iter()
        .all(|k| k["median_s"].as_f64().is_some_and(|t| t >= 0.0)
            && k["dispatches"].as_u64().is_some_and(|n| n >= 1)));
}

// ---------------------------------------------------------------------------------------------
// loss and repair

/// A 32 x 32 ring probability map (radius 9) with a gap on the right where it drops to 0.3, plus a
/// little deterministic noise so that the map is tie-free.
fn broken_ring() -> Array2<f32> {
    let noise = test_image(32, 32, 41);
    Array2::from_shape_fn((32, 32), |(y, x)| {
        let (dy, dx) = (y as f32 - 15.5, x as f32 - 15.5);
        let r = (dy * dy + dx * dx).sqrt();
        let ring = 0.9 * (-(r - 9.0).powi(2) / 4.5).exp();
        let ring = if dy.abs() < 2.0 && dx > 4.0 {
            ring.min(0.3)
        } else {
            ring
        };
        (0.05 + ring + 0.02 * noise[[y, x]]).clamp(0.0, 1.0)
    })
}

fn read_npy2(path: &Path) -> Array2<f32> {
    use ndarray_npy::ReadNpyExt;
    Array2::<f32>::read_npy(std::fs::File::open(path).expect("open npy")).expect("read npy")
}

fn last_line_f32(stdout: &str) -> f32 {
    let line = stdout.lines().last().expect("a last line");
    line.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not an f32: {line:?}"))
}

#[test]
fn loss_prints_the_library_value_and_writes_its_gradient() {
    let dir = TempDir::new("loss");
    let map = broken_ring();
    let path = dir.npy("ring.npy", &map);
    let ctx = Context::cpu();
    for (kind, construction, lib_kind, lib_construction) in [
        (
            "squared",
            "v",
            wgpu_persistence::LossKind::Squared,
            Construction::V,
        ),
        ("l1", "t", wgpu_persistence::LossKind::L1, Construction::T),
    ] {
        let gradient = dir.path(&format!("grad-{kind}.npy"));
        let r = run_ok(&[
            "loss",
            path_str(&path),
            "--betti",
            "1,1",
            "-b",
            "cpu",
            "--kind",
            kind,
            "-c",
            construction,
            "--gradient",
            path_str(&gradient),
        ]);
        let mut loss = wgpu_persistence::TopologicalLoss::new(&[1, 1]);
        loss.kind = lib_kind;
        loss.construction = lib_construction;
        let want = ctx.topological_loss(map.view(), &loss).expect("library");
        assert_eq!(last_line_f32(&r.stdout), want.loss, "{kind}");
        let got = read_npy2(&gradient);
        assert_eq!(got.shape(), map.shape());
        assert_eq!(got, want.gradient, "{kind}");
        assert!(got.iter().any(|&g| g != 0.0));
    }
}

#[test]
fn loss_scales_png_input_to_unit_range() {
    let dir = TempDir::new("losspng");
    let map = broken_ring();
    let gray = image::GrayImage::from_fn(32, 32, |x, y| {
        image::Luma([(map[[y as usize, x as usize]] * 255.0).round() as u8])
    });
    let png = dir.path("ring.png");
    gray.save(&png).expect("save png");
    let r = run_ok(&["loss", path_str(&png), "--betti", "1,1", "-b", "cpu"]);
    let scaled = Array2::from_shape_fn((32, 32), |(y, x)| {
        f32::from(gray.get_pixel(x as u32, y as u32)[0]) / 255.0
    });
    let want = Context::cpu()
        .topological_loss(
            scaled.view(),
            &wgpu_persistence::TopologicalLoss::new(&[1, 1]),
        )
        .expect("library");
    assert_eq!(last_line_f32(&r.stdout), want.loss);
}

#[test]
fn repair_closes_a_broken_ring() {
    let dir = TempDir::new("repair");
    let map = broken_ring();
    let path = dir.npy("ring.npy", &map);
    let out = dir.path("repaired.npy");
    let repair = |input: &Path| run_ok(&repair_args(input, "1,1", &out));
    let r = repair(&path);
    let repaired = read_npy2(&out);
    assert_eq!(repaired.shape(), map.shape());
    let ctx = Context::cpu();
    let betti = |m: &Array2<f32>| {
        ctx.compute(m.view(), &Options::new(Construction::V).superlevel())
            .expect("library")
            .betti_at(0.5, true)
    };
    assert_eq!(betti(&map), vec![1, 0], "the test ring is broken");
    assert_eq!(betti(&repaired), vec![1, 1]);
    let change = (&repaired - &map).mapv(f32::abs).mean().expect("mean");
    assert!(change < 0.1, "mean |change| {change}");
    assert!(repaired.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(r.stdout.contains("betti_before: 1,0"), "{}", r.stdout);
    assert!(r.stdout.contains("betti_after: 1,1"), "{}", r.stdout);
    assert!(r.stdout.contains("loss_before: ") && r.stdout.contains("loss_after: "));
    assert!(!r.stderr.contains("not reached"), "{}", r.stderr);

    // a constant map has no feature for the gradient to move: repair stops at once, and says so
    // rather than asking for more steps
    let r = repair(&dir.npy("flat.npy", &Array2::from_elem((8, 8), 0.5f32)));
    assert!(r.stdout.contains("steps: 0"), "{}", r.stdout);
    assert!(
        r.stderr.contains("not reached") && r.stderr.contains("gradient vanished"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("more --steps"), "{}", r.stderr);
}

#[test]
fn bad_betti_and_out_of_range_maps_fail_cleanly() {
    let dir = TempDir::new("badbetti");
    let path = dir.npy("ring.npy", &broken_ring());
    let out = dir.path("out.npy");
    for betti in ["", "1,x", "one", "1,,1", "-1,0", "1,1,1,1"] {
        let r = run(&["loss", path_str(&path), "--betti", betti, "-b", "cpu"]);
        assert_clean_failure(&r, &["--betti"]);
        let r = run(&repair_args(&path, betti, &out));
        assert_clean_failure(&r, &["--betti"]);
    }
    let bytes = dir.npy("bytes.npy", &broken_ring().mapv(|v| (v * 255.0) as u8));
    let r = run(&repair_args(&bytes, "1,1", &out));
    assert_clean_failure(&r, &["[0, 1]"]);
}

#[test]
fn a_volume_on_the_gpu_backend_is_paired_on_the_gpu() {
    if std::env::var("WGPU_PERSISTENCE_NO_GPU").as_deref() == Ok("1") {
        eprintln!("WGPU_PERSISTENCE_NO_GPU=1: skipping the GPU CLI test");
        return;
    }
    let dir = TempDir::new("gpu3d");
    let volume = Array3::from_shape_fn((4, 5, 6), |(z, y, x)| ((z * 5 + y * 3 + x) % 7) as f32);
    let path = dir.npy("volume.npy", &volume);
    let r = run_ok(&[
        "time",
        path_str(&path),
        "-b",
        "gpu",
        "--repeat",
        "1",
        "--timings",
    ]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON line");
    assert_eq!(v["backend"], "gpu");
    assert_ne!(v["adapter"], "cpu");
    assert_eq!(v["shape"], serde_json::json!([4, 5, 6]));
    assert_eq!(v["pairs"].as_array().map(Vec::len), Some(3));
    assert!(r.stderr.contains("timings: wall"), "stderr:\n{}", r.stderr);
    assert!(r.stderr.contains("(gpu)"), "stderr:\n{}", r.stderr);
    if r.stderr.contains("GPU stages") {
        assert!(r.stderr.contains("H2 pairing"), "stderr:\n{}", r.stderr);
        assert!(
            r.stderr.contains("H1 apparent pairs"),
            "stderr:\n{}",
            r.stderr
        );
    }
}

#[test]
fn a_4d_map_is_refused_without_a_batch_hint() {
    let dir = TempDir::new("map4d");
    let path = dir.npy("map.npy", &ArrayD::<f32>::zeros(vec![2, 2, 2, 2]));
    let r = run(&["loss", path_str(&path), "--betti", "1,0", "-b", "cpu"]);
    // loss takes --batch now (issue 15): the message points to it
    assert_clean_failure(&r, &["4D", "--batch"]);
}
