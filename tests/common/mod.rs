//! Shared test helpers: the GPU context (required, never skipped) and diagram comparisons.
#![allow(dead_code)]

use wgpu_persistence::ndarray::ArrayViewD;
use wgpu_persistence::{BackendChoice, Context, Diagram, Options, RunStats, Shape};

/// The GPU context. Fails the test when no adapter is found: GPU tests never skip silently.
/// (Set `WGPU_PERSISTENCE_NO_GPU=1` to run only the CPU halves on a machine without any adapter.)
pub fn gpu() -> Option<Context> {
    if std::env::var("WGPU_PERSISTENCE_NO_GPU").is_ok_and(|v| v == "1") {
        eprintln!("WGPU_PERSISTENCE_NO_GPU=1: GPU half of this test not run");
        return None;
    }
    match Context::with_backend(BackendChoice::Gpu) {
        Ok(ctx) => {
            let info = ctx.adapter_info().expect("GPU context has an adapter");
            eprintln!("GPU test on adapter '{}' ({:?}, {:?})", info.name, info.backend, info.device_type);
            Some(ctx)
        }
        Err(e) => panic!("GPU test needs an adapter and none was found: {e}. Install mesa-vulkan-drivers (lavapipe)."),
    }
}

/// Every context to test: the CPU backend, and the GPU when allowed.
pub fn contexts() -> Vec<Context> {
    let mut v = vec![Context::cpu()];
    v.extend(gpu());
    v
}

/// Check the contract's index invariants: `f[birth_index] == birth`, `f[death_index] == death`.
pub fn check_indices(values: &[f32], d: &Diagram) {
    for (k, pairs) in d.pairs.iter().enumerate() {
        for p in pairs {
            assert!(values[p.birth_index] == p.birth, "H{k} birth index {p:?}");
            if let Some(di) = p.death_index {
                assert!(values[di] == p.death, "H{k} death index {p:?}");
            } else {
                assert!(p.death.is_infinite());
            }
        }
    }
}

/// A golden-file number: a JSON number, or the strings "inf" / "-inf".
pub fn num(v: &serde_json::Value) -> f32 {
    match v {
        serde_json::Value::String(s) => s.parse().expect("inf or -inf"),
        other => other.as_f64().expect("number") as f32,
    }
}

/// One dimension of a diagram as a multiset: finite `(birth, death)` pairs and essential births,
/// both sorted.
pub type Multiset = (Vec<(f32, f32)>, Vec<f32>);

/// Dimension `dim` of a golden diagram (`{"0": {"finite": [[b, d], ...], "essential": [b, ...]}}`).
pub fn expected(diagram: &serde_json::Value, dim: usize) -> Multiset {
    let d = &diagram[dim.to_string()];
    let mut finite: Vec<(f32, f32)> = d["finite"]
        .as_array()
        .map(|a| a.iter().map(|p| (num(&p[0]), num(&p[1]))).collect())
        .unwrap_or_default();
    finite.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut essential: Vec<f32> = d["essential"]
        .as_array()
        .map(|a| a.iter().map(num).collect())
        .unwrap_or_default();
    essential.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (finite, essential)
}

/// Dimension `dim` of one of our diagrams, as [`expected`] gives a golden one.
pub fn ours(d: &Diagram, dim: usize) -> Multiset {
    let mut finite: Vec<(f32, f32)> = d
        .dim(dim)
        .iter()
        .filter(|p| !p.is_essential())
        .map(|p| (p.birth, p.death))
        .collect();
    finite.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut essential: Vec<f32> = d
        .dim(dim)
        .iter()
        .filter(|p| p.is_essential())
        .map(|p| p.birth)
        .collect();
    essential.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (finite, essential)
}

/// One golden file: its path, its JSON, the input's shape and values.
pub struct GoldenCase {
    pub path: std::path::PathBuf,
    pub json: serde_json::Value,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// The golden files of `dir` (at least `at_least` of them), sorted by name.
pub fn golden_cases(dir: &str, at_least: usize) -> Vec<GoldenCase> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= at_least, "golden files missing in {dir}");
    paths
        .into_iter()
        .map(|path| {
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let shape = json["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let values = json["data"].as_array().unwrap().iter().map(num).collect();
            GoldenCase {
                path,
                json,
                shape,
                values,
            }
        })
        .collect()
}

/// Items to compute on together, as the tests build them (what `image::from_slice` and
/// `image::from_volume_slice` gave before the redesign): `count` items of `shape`, row-major `f32`.
#[derive(Debug, Clone)]
pub struct Items {
    pub values: Vec<f32>,
    pub count: usize,
    pub shape: Shape,
}

impl Items {
    /// `[H, W]`: one image; `[B, H, W]`: a batch of images.
    pub fn images(values: &[f32], dims: &[usize]) -> Items {
        let (count, item) = match *dims {
            [h, w] => (1, [h, w].to_vec()),
            [b, h, w] => (b, [h, w].to_vec()),
            _ => panic!("images take [H, W] or [B, H, W], not {dims:?}"),
        };
        Self::new(values, count, &item)
    }

    /// `[D, H, W]`: one volume; `[B, D, H, W]`: a batch of volumes.
    pub fn volumes(values: &[f32], dims: &[usize]) -> Items {
        let (count, item) = match *dims {
            [d, h, w] => (1, [d, h, w].to_vec()),
            [b, d, h, w] => (b, [d, h, w].to_vec()),
            _ => panic!("volumes take [D, H, W] or [B, D, H, W], not {dims:?}"),
        };
        Self::new(values, count, &item)
    }

    fn new(values: &[f32], count: usize, item: &[usize]) -> Items {
        let shape = Shape::of(item).unwrap();
        assert_eq!(values.len(), count * shape.pixels(), "{count} x {item:?}");
        Items {
            values: values.to_vec(),
            count,
            shape,
        }
    }

    /// Volumes (H0, H1, H2) or images.
    pub fn volume(&self) -> bool {
        matches!(self.shape, Shape::Volume { .. })
    }

    /// `[B, ...axes of an item]`.
    pub fn dims(&self) -> Vec<usize> {
        [vec![self.count], self.shape.dims()].concat()
    }

    /// The batch view `compute_batch` takes.
    pub fn view(&self) -> ArrayViewD<'_, f32> {
        ArrayViewD::from_shape(self.dims(), &self.values).unwrap()
    }

    /// The values of item `b`.
    pub fn item(&self, b: usize) -> &[f32] {
        let n = self.shape.pixels();
        &self.values[b * n..(b + 1) * n]
    }
}

/// The diagrams of every item in one call, and the statistics of that run (what `compute_stack` gave).
pub fn compute_items(
    ctx: &Context,
    items: &Items,
    options: &Options,
) -> wgpu_persistence::Result<(Vec<Diagram>, RunStats)> {
    let diagrams = ctx.compute_batch(items.view(), options)?;
    Ok((diagrams, ctx.last_run_stats()))
}
