//! `plot`: the pictures decode, have the size asked for and are not blank; an SVG diagram has one
//! mark per pair it counts in its legend; no input makes it fail (1x1, constant, volumes,
//! batches, every kind); a bad output is refused clearly.

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{Array2, Array3};
use ndarray_npy::WriteNpyExt;

fn cli(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wgpu-persistence"));
    c.env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .current_dir(dir);
    c
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wgpu-persistence-plot-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn ok(c: &mut Command) -> String {
    let out = c.output().expect("run the CLI");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn save<A: WriteNpyExt>(path: &Path, a: &A) {
    a.write_npy(std::fs::File::create(path).expect("create"))
        .expect("write");
}

/// A decoded PNG of the given size that holds a picture: many colours, ink on a good share of it.
fn check_png(path: &Path, size: (u32, u32)) {
    let picture = image::open(path).expect("decode").to_rgb8();
    assert_eq!(picture.dimensions(), size, "{}", path.display());
    let mut colours: Vec<[u8; 3]> = picture.pixels().map(|p| p.0).collect();
    let ink = colours.iter().filter(|c| **c != [255, 255, 255]).count();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 20,
        "{}: {} colours",
        path.display(),
        colours.len()
    );
    assert!(
        ink * 50 > picture.len() / 3,
        "{}: {ink} pixels of ink",
        path.display()
    );
}

#[test]
fn plot_with_no_input_draws_the_samples_diagram() {
    let d = dir("sample");
    ok(cli(&d).arg("plot"));
    check_png(&d.join("sample_diagram.png"), (800, 700));
    ok(cli(&d).args([
        "plot", "--kind", "all", "--size", "1500x500", "-o", "all.png",
    ]));
    check_png(&d.join("all.png"), (1500, 500));
}

#[test]
fn an_svg_diagram_has_one_mark_per_pair() {
    let d = dir("svg");
    let image = Array2::from_shape_fn((23, 29), |(y, x)| ((y * 7 + x * 13 + y * x) % 11) as f32);
    save(&d.join("ties.npy"), &image);
    for superlevel in [false, true] {
        let flag: &[&str] = if superlevel { &["--superlevel"] } else { &[] };
        let csv = ok(cli(&d).args(["diagram", "ties.npy"]).args(flag));
        let dims: Vec<&str> = csv.lines().skip(1).map(|l| &l[..1]).collect();
        let count = |k: &str| dims.iter().filter(|d| **d == k).count();
        ok(cli(&d).args(["plot", "ties.npy", "-o", "d.svg"]).args(flag));
        let svg = std::fs::read_to_string(d.join("d.svg")).expect("svg");
        // H0 circles, H1 triangles, one more of each in the legend
        assert_eq!(svg.matches("<circle").count(), count("0") + 1);
        assert_eq!(svg.matches("<polygon").count(), count("1") + 1);
        let essential = csv.lines().skip(1).filter(|l| l.ends_with(',')).count();
        assert!(svg.contains(&format!(
            "H0: {} finite, {essential} essential",
            count("0") - essential
        )));
    }
}

#[test]
fn every_kind_draws_every_input() {
    let d = dir("kinds");
    save(&d.join("one.npy"), &Array2::<f32>::zeros((1, 1)));
    save(&d.join("flat.npy"), &Array2::<f32>::from_elem((5, 7), 3.0));
    let mut volume = Array3::<f32>::zeros((9, 10, 11));
    volume.slice_mut(ndarray::s![2..7, 2..8, 2..9]).fill(0.9);
    volume.slice_mut(ndarray::s![3..6, 4..6, 4..7]).fill(0.2);
    save(&d.join("volume.npy"), &volume);
    let stack = Array3::from_shape_fn((3, 12, 12), |(b, y, x)| ((b + y * 5 + x * 3) % 7) as f32);
    save(&d.join("stack.npy"), &stack);
    for input in ["one.npy", "flat.npy", "volume.npy"] {
        for kind in ["diagram", "barcode", "overlay", "heatmap", "all"] {
            ok(cli(&d).args(["plot", input, "--kind", kind, "--superlevel", "-o", "k.svg"]));
            ok(cli(&d).args([
                "plot", input, "--kind", kind, "--size", "600x400", "-o", "k.png",
            ]));
            let picture = image::open(d.join("k.png")).expect("decode");
            assert_eq!(
                (picture.width(), picture.height()),
                (600, 400),
                "{input} {kind}"
            );
        }
    }
    ok(cli(&d).args([
        "plot",
        "volume.npy",
        "--kind",
        "overlay",
        "--slice",
        "4",
        "-o",
        "s.png",
    ]));
    check_png(&d.join("s.png"), (800, 760));
    ok(cli(&d).args([
        "plot",
        "stack.npy",
        "--batch",
        "--kind",
        "barcode",
        "-o",
        "b.png",
    ]));
    for b in 0..3 {
        check_png(&d.join(format!("b_{b}.png")), (900, 700));
    }
    // a stack of one is numbered too: a script that reads OUT_0.png finds it
    save(
        &d.join("one.npy"),
        &stack.slice(ndarray::s![..1, .., ..]).to_owned(),
    );
    ok(cli(&d).args(["plot", "one.npy", "--batch", "-o", "one.png"]));
    check_png(&d.join("one_0.png"), (800, 700));
    assert!(!d.join("one.png").exists());
}

#[test]
fn bad_plot_arguments_are_refused_clearly() {
    let d = dir("bad");
    save(&d.join("v.npy"), &Array3::<f32>::zeros((3, 4, 5)));
    for (args, message) in [
        (vec!["plot", "-o", "x.jpg"], "must be a .png or an .svg"),
        (vec!["plot", "--size", "10x10"], "invalid --size"),
        (vec!["plot", "--dims", "0,7"], "invalid --dims"),
        (
            vec!["plot", "v.npy", "--kind", "overlay", "--slice", "3"],
            "the volume has 3 slices",
        ),
    ] {
        let out = cli(&d).args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
