//! `wgpu_persistence._native`: the Python bindings of the crate, built by maturin (`pip install .` at
//! the repository root). The Python package `wgpu_persistence` (in `python/wgpu_persistence/`) wraps
//! these functions: it turns whatever `numpy.asarray` takes into a C-contiguous array of a pixel type
//! the crate accepts, names the arguments and reshapes batches; this module only checks, computes
//! and converts.
//!
//! - Inputs are read where they are, under NumPy's read-only borrow, and the work runs with the GIL
//!   released (`Python::detach`), as NumPy's own functions do: other Python threads run meanwhile,
//!   and one that writes into an array while a call reads it gets what NumPy would give it (a
//!   result of some mix of the values). Output tables are allocated by NumPy (which asks for huge
//!   pages) and filled without the GIL.
//! - Contexts are cached per backend choice and per process: a child made by `fork` (PyTorch's
//!   DataLoader workers) finds its parent's entries, leaks them on purpose (dropping a device or a
//!   thread pool whose threads did not survive the fork can hang) and makes its own.
//! - The CPU work runs in a thread pool of this process (rayon's global pool would hang in a forked
//!   child: its threads are the parent's).

use std::sync::{Arc, Mutex, MutexGuard};

use numpy::prelude::*;
use numpy::{PyArray1, PyArray2, PyArrayDyn, PyReadonlyArrayDyn, PyUntypedArray};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

use wgpu_persistence::ndarray::{ArrayView, Dimension, Ix2, Ix3, IxDyn, RemoveAxis};
use wgpu_persistence::{
    Backend, BackendChoice, Construction, Context, Diagram, Error, LossKind, Options,
    PersistencePair, Pixel, RepairOptions, RepairResult, TopologicalLoss,
};

/// A crate error as the Python exception a caller can catch: what is wrong with the input or the
/// arguments is a `ValueError`, what went wrong with the device a `RuntimeError`.
fn py_error(e: Error) -> PyErr {
    match e {
        Error::NoAdapter(_)
        | Error::Device(_)
        | Error::Readback(_)
        | Error::NotConverged { .. }
        | Error::Internal(_) => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// What this process has made: a thread pool and a context per backend choice, tagged with the
/// process id that made them.
struct State {
    pid: u32,
    pool: Option<Arc<rayon::ThreadPool>>,
    contexts: Vec<(BackendChoice, Arc<Context>)>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// This process's state, made afresh after a fork (the parent's is leaked, never dropped).
fn state() -> MutexGuard<'static, Option<State>> {
    let mut guard = STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    if guard.as_ref().is_some_and(|s| s.pid != pid) {
        // inherited over fork: its threads and its device's driver state are the parent's
        std::mem::forget(guard.take());
    }
    if guard.is_none() {
        *guard = Some(State {
            pid,
            pool: None,
            contexts: Vec::new(),
        });
    }
    guard
}

fn pool() -> PyResult<Arc<rayon::ThreadPool>> {
    if let Some(pool) = state().as_ref().and_then(|s| s.pool.clone()) {
        return Ok(pool);
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("wgpu-persistence-{i}"))
            .build()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread pool: {e}")))?,
    );
    let mut guard = state();
    Ok(match guard.as_mut() {
        Some(s) => s.pool.get_or_insert(pool).clone(),
        None => pool,
    })
}

fn backend_choice(backend: &str) -> PyResult<BackendChoice> {
    backend.parse().map_err(py_error)
}

/// The context for a backend choice, made on first use in this process (outside the lock: making
/// a GPU context takes a while and other threads may want the one that exists).
fn context(backend: &str) -> PyResult<Arc<Context>> {
    let choice = backend_choice(backend)?;
    let cached = |guard: &MutexGuard<'static, Option<State>>| {
        guard.as_ref().and_then(|s| {
            s.contexts
                .iter()
                .find(|(c, _)| *c == choice)
                .map(|(_, ctx)| ctx.clone())
        })
    };
    if let Some(ctx) = cached(&state()) {
        return Ok(ctx);
    }
    let made = Arc::new(Context::with_backend(choice).map_err(py_error)?);
    let mut guard = state();
    if let Some(ctx) = cached(&guard) {
        return Ok(ctx);
    }
    if let Some(s) = guard.as_mut() {
        s.contexts.push((choice, made.clone()));
    }
    Ok(made)
}

/// Runs `work` with the GIL released, in this process's thread pool, on the context for `backend`.
fn run<R: Send>(
    py: Python<'_>,
    backend: &str,
    work: impl FnOnce(&Context) -> wgpu_persistence::Result<R> + Send,
) -> PyResult<R> {
    py.detach(move || {
        // made (the first time) without the GIL: a GPU context takes a while
        let ctx = context(backend)?;
        pool()?.install(|| work(&ctx)).map_err(py_error)
    })
}

/// NumPy's read-only borrow of an input array of one of the crate's pixel types; it lives while the
/// work reads the array in place (with the GIL released, as NumPy's own functions read theirs).
enum Readonly<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
    U8(PyReadonlyArrayDyn<'py, u8>),
    U16(PyReadonlyArrayDyn<'py, u16>),
    I16(PyReadonlyArrayDyn<'py, i16>),
    I32(PyReadonlyArrayDyn<'py, i32>),
}

/// The values of a borrowed input, row-major.
enum Pixels<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    I16(&'a [i16]),
    I32(&'a [i32]),
}

/// `$body` with `$values` bound to the input's `&[T]`, whatever its pixel type.
macro_rules! with_pixels {
    ($pixels:expr, $values:ident => $body:expr) => {
        match $pixels {
            Pixels::F32($values) => $body,
            Pixels::F64($values) => $body,
            Pixels::U8($values) => $body,
            Pixels::U16($values) => $body,
            Pixels::I16($values) => $body,
            Pixels::I32($values) => $body,
        }
    };
}

fn contiguous<'a, T: numpy::Element>(array: &'a PyReadonlyArrayDyn<'_, T>) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| {
        PyValueError::new_err("the array must be C-contiguous (numpy.ascontiguousarray)")
    })
}

impl<'py> Readonly<'py> {
    /// Borrows a C-contiguous array of one of the crate's pixel types.
    fn of(x: &Bound<'py, PyUntypedArray>) -> PyResult<Self> {
        fn borrow<'py, T: numpy::Element>(
            x: &Bound<'py, PyUntypedArray>,
        ) -> Option<PyReadonlyArrayDyn<'py, T>> {
            x.cast::<PyArrayDyn<T>>().ok().map(|a| a.readonly())
        }
        if let Some(a) = borrow::<f32>(x) {
            Ok(Readonly::F32(a))
        } else if let Some(a) = borrow::<f64>(x) {
            Ok(Readonly::F64(a))
        } else if let Some(a) = borrow::<u8>(x) {
            Ok(Readonly::U8(a))
        } else if let Some(a) = borrow::<u16>(x) {
            Ok(Readonly::U16(a))
        } else if let Some(a) = borrow::<i16>(x) {
            Ok(Readonly::I16(a))
        } else if let Some(a) = borrow::<i32>(x) {
            Ok(Readonly::I32(a))
        } else {
            Err(PyTypeError::new_err(format!(
                "unsupported pixel type {}: give float32, float64, uint8, uint16, int16 or int32",
                x.dtype()
            )))
        }
    }

    /// Borrows a C-contiguous `float32` array (probability maps).
    fn maps(x: &Bound<'py, PyUntypedArray>) -> PyResult<PyReadonlyArrayDyn<'py, f32>> {
        match Readonly::of(x)? {
            Readonly::F32(a) => Ok(a),
            _ => Err(PyTypeError::new_err(format!(
                "probability maps are float32 here, got {}",
                x.dtype()
            ))),
        }
    }

    fn pixels(&self) -> PyResult<Pixels<'_>> {
        Ok(match self {
            Readonly::F32(a) => Pixels::F32(contiguous(a)?),
            Readonly::F64(a) => Pixels::F64(contiguous(a)?),
            Readonly::U8(a) => Pixels::U8(contiguous(a)?),
            Readonly::U16(a) => Pixels::U16(contiguous(a)?),
            Readonly::I16(a) => Pixels::I16(contiguous(a)?),
            Readonly::I32(a) => Pixels::I32(contiguous(a)?),
        })
    }
}

fn options(construction: &str, superlevel: bool, keep_zero: bool) -> PyResult<Options> {
    let construction: Construction = construction.parse().map_err(py_error)?;
    let options = Options::new(construction).keep_zero_persistence(keep_zero);
    Ok(if superlevel {
        options.superlevel()
    } else {
        options
    })
}

/// A diagram as rows `dim, birth, death, birth_index, death_index` (`-1` for an essential class),
/// dimensions in order and each in the crate's order, written into `out` (`5 x` its pairs); the
/// values are the input's own (`f64` and `i32` inputs: exact, where the diagram holds them rounded
/// to `f32`).
fn fill_table<T: Pixel + Sync>(diagram: &Diagram, input: &[T], out: &mut [f64]) {
    // the diagram's own values where f32 holds the input exactly (no lookups into the input)
    let exact = T::EXACT_IN_F32;
    let value = |i: usize| input.get(i).map_or(f64::NAN, |v| v.to_f64());
    let row = |k: usize, p: &PersistencePair, out: &mut [f64]| {
        out[0] = k as f64;
        out[1] = if exact {
            f64::from(p.birth)
        } else {
            value(p.birth_index)
        };
        out[2] = match p.death_index {
            Some(d) if !exact => value(d),
            _ => f64::from(p.death),
        };
        out[3] = p.birth_index as f64;
        out[4] = p.death_index.map_or(-1.0, |d| d as f64);
    };
    let mut rest = out;
    let mut blocks = Vec::new();
    for (k, pairs) in diagram.pairs.iter().enumerate() {
        for chunk in pairs.chunks(TABLE_BLOCK) {
            let (block, tail) = std::mem::take(&mut rest).split_at_mut(5 * chunk.len());
            blocks.push((k, chunk, block));
            rest = tail;
        }
    }
    blocks.into_par_iter().for_each(|(k, chunk, block)| {
        for (p, out) in chunk.iter().zip(block.chunks_exact_mut(5)) {
            row(k, p, out);
        }
    });
}

/// Rows of a table filled by one task.
const TABLE_BLOCK: usize = 1 << 14;

fn view<'a, T>(
    values: &'a [T],
    shape: &[usize],
) -> wgpu_persistence::Result<ArrayView<'a, T, IxDyn>> {
    ArrayView::from_shape(IxDyn(shape), values)
        .map_err(|e| Error::InvalidArgument(format!("shape {shape:?}: {e}")))
}

/// The diagrams of `x`: one item (an image or a volume by its axes), or with `batch` a stack whose
/// first axis counts the items. One `(n, 5)` float64 table per item.
#[pyfunction]
#[pyo3(signature = (x, batch, construction, superlevel, backend, keep_zero))]
fn diagrams<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyUntypedArray>,
    batch: bool,
    construction: &str,
    superlevel: bool,
    backend: &str,
    keep_zero: bool,
) -> PyResult<Vec<Bound<'py, PyArray2<f64>>>> {
    let options = options(construction, superlevel, keep_zero)?;
    let input = Readonly::of(x)?;
    let pixels = input.pixels()?;
    let shape = x.shape().to_vec();
    let diagrams = run(py, backend, |ctx| {
        with_pixels!(&pixels, values => if batch {
            ctx.compute_batch(view(values, &shape)?, &options)
        } else {
            Ok(vec![ctx.compute_slice(values, &shape, &options)?])
        })
    })?;
    // the tables in NumPy's memory (which asks for huge pages: a large table's fresh pages cost
    // as much as filling it), filled on all threads without the GIL
    let tables: Vec<Bound<'py, PyArray2<f64>>> = diagrams
        .iter()
        .map(|d| PyArray2::zeros(py, [d.pairs.iter().map(Vec::len).sum(), 5], false))
        .collect();
    let mut guards: Vec<_> = tables.iter().map(|t| t.readwrite()).collect();
    let mut outs = guards
        .iter_mut()
        .map(|g| {
            g.as_slice_mut()
                .map_err(|_| PyRuntimeError::new_err("a new table is not contiguous"))
        })
        .collect::<PyResult<Vec<&mut [f64]>>>()?;
    let n = x.len() / diagrams.len().max(1);
    let pool = pool()?;
    py.detach(|| {
        pool.install(|| {
            with_pixels!(&pixels, values => {
                for (b, (d, out)) in diagrams.iter().zip(outs.iter_mut()).enumerate() {
                    fill_table(d, &values[b * n..(b + 1) * n], out);
                }
            })
        })
    });
    drop(guards);
    Ok(tables)
}

fn loss_kind(kind: &str) -> PyResult<LossKind> {
    match kind.to_ascii_lowercase().as_str() {
        "squared" => Ok(LossKind::Squared),
        "l1" => Ok(LossKind::L1),
        other => Err(PyValueError::new_err(format!(
            "unknown loss kind '{other}' (expected squared or l1)"
        ))),
    }
}

/// One prior per entry of `betti` (one for all maps, or one per map).
fn priors(
    betti: Vec<Vec<i64>>,
    construction: &str,
    kind: &str,
    weights: Option<Vec<f32>>,
) -> PyResult<Vec<TopologicalLoss>> {
    let construction: Construction = construction.parse().map_err(py_error)?;
    let kind = loss_kind(kind)?;
    betti
        .into_iter()
        .map(|b| {
            let betti = b
                .iter()
                .map(|&v| {
                    usize::try_from(v).map_err(|_| {
                        PyValueError::new_err(format!(
                            "a prior's Betti numbers are counts (0 or more), got {b:?}"
                        ))
                    })
                })
                .collect::<PyResult<Vec<usize>>>()?;
            Ok(TopologicalLoss {
                betti,
                kind,
                weights: weights.clone().unwrap_or_default(),
                construction,
            })
        })
        .collect()
}

/// Per-map losses and the gradient in the maps' shape.
type LossAndGradient<'py> = (Bound<'py, PyArray1<f32>>, Bound<'py, PyArrayDyn<f32>>);

/// One map's loss terms: the `(m, 4)` table, the weights, the cost of the missing features.
type MapTerms<'py> = (Bound<'py, PyArray2<i64>>, Bound<'py, PyArray1<f32>>, f64);

/// The topological loss of each map of a stack (`B x H x W` or `B x D x H x W`, float32) and its
/// gradient in the stack's shape.
#[pyfunction]
#[pyo3(signature = (maps, betti, construction, kind, weights, backend))]
fn topological_loss_batch<'py>(
    py: Python<'py>,
    maps: &Bound<'py, PyUntypedArray>,
    betti: Vec<Vec<i64>>,
    construction: &str,
    kind: &str,
    weights: Option<Vec<f32>>,
    backend: &str,
) -> PyResult<LossAndGradient<'py>> {
    let priors = priors(betti, construction, kind, weights)?;
    let maps = Readonly::maps(maps)?;
    let values = contiguous(&maps)?;
    let shape = maps.shape().to_vec();
    let (losses, gradient) = run(py, backend, |ctx| {
        let result = ctx.topological_loss_batch(view(values, &shape)?, &priors)?;
        let (gradient, _) = result.gradient.into_raw_vec_and_offset();
        Ok((result.losses, gradient))
    })?;
    Ok((
        PyArray1::from_vec(py, losses),
        PyArray1::from_vec(py, gradient).reshape(shape)?,
    ))
}

/// What the loss of each map of a stack is made of: per map an int64 table of its features
/// (`dim, birth_index, death_index, kept`), their weights (float32) and the cost of the missing
/// features.
#[pyfunction]
#[pyo3(signature = (maps, betti, construction, weights, backend))]
fn loss_terms<'py>(
    py: Python<'py>,
    maps: &Bound<'py, PyUntypedArray>,
    betti: Vec<Vec<i64>>,
    construction: &str,
    weights: Option<Vec<f32>>,
    backend: &str,
) -> PyResult<Vec<MapTerms<'py>>> {
    let priors = priors(betti, construction, "squared", weights)?;
    let maps = Readonly::maps(maps)?;
    let values = contiguous(&maps)?;
    let shape = maps.shape().to_vec();
    let per_map = run(py, backend, |ctx| {
        let terms = ctx.loss_terms_batch(view(values, &shape)?, &priors)?;
        Ok(terms
            .into_iter()
            .map(|(t, _)| {
                let mut table = Vec::with_capacity(4 * t.terms.len());
                let mut weights = Vec::with_capacity(t.terms.len());
                for term in &t.terms {
                    table.extend_from_slice(&[
                        term.dim as i64,
                        term.birth_index as i64,
                        term.death_index as i64,
                        i64::from(term.kept),
                    ]);
                    weights.push(term.weight);
                }
                let missing: f64 = t.missing.iter().map(|&m| f64::from(m)).sum();
                (table, weights, missing)
            })
            .collect::<Vec<_>>())
    })?;
    per_map
        .into_iter()
        .map(|(table, weights, missing)| {
            let n = weights.len();
            Ok((
                PyArray1::from_vec(py, table).reshape([n, 4])?,
                PyArray1::from_vec(py, weights),
                missing,
            ))
        })
        .collect()
}

/// Repairs one map (`H x W` or `D x H x W`, float32) towards a prior, as the CLI's `repair`.
#[pyfunction]
#[pyo3(signature = (map, betti, construction, kind, weights, steps, lr, fidelity, margin, backend))]
#[allow(clippy::too_many_arguments)]
fn repair<'py>(
    py: Python<'py>,
    map: &Bound<'py, PyUntypedArray>,
    betti: Vec<i64>,
    construction: &str,
    kind: &str,
    weights: Option<Vec<f32>>,
    steps: usize,
    lr: f32,
    fidelity: f32,
    margin: f32,
    backend: &str,
) -> PyResult<(Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyDict>)> {
    let prior = priors(vec![betti], construction, kind, weights)?
        .pop()
        .ok_or_else(|| PyValueError::new_err("no prior"))?;
    let map = Readonly::maps(map)?;
    let values = contiguous(&map)?;
    let shape = map.shape().to_vec();
    let dims = shape.clone();
    let repair_options = RepairOptions {
        steps,
        lr,
        fidelity,
        margin,
    };
    let result = run(py, backend, |ctx| {
        let view = view(values, &dims)?;
        let result = match dims.len() {
            2 => repaired::<Ix2>(ctx, view, &prior, &repair_options)?,
            3 => repaired::<Ix3>(ctx, view, &prior, &repair_options)?,
            got => {
                return Err(Error::WrongDimensionality {
                    expected: "2 (a map) or 3 (a volume)",
                    got,
                    shape: dims.clone(),
                })
            }
        };
        Ok(result)
    })?;
    let info = PyDict::new(py);
    info.set_item("loss_before", result.loss_before)?;
    info.set_item("loss_after", result.loss_after)?;
    info.set_item("betti_before", result.betti_before)?;
    info.set_item("betti_after", result.betti_after)?;
    info.set_item("steps_taken", result.steps_taken)?;
    Ok((PyArray1::from_vec(py, result.map).reshape(shape)?, info))
}

/// `repair` on a map of `D` axes, its result out of its dimensionality.
fn repaired<D: Dimension>(
    ctx: &Context,
    map: ArrayView<'_, f32, IxDyn>,
    prior: &TopologicalLoss,
    options: &RepairOptions,
) -> wgpu_persistence::Result<Repaired>
where
    D::Larger: RemoveAxis + Dimension<Smaller = D>,
{
    let map = map.into_dimensionality::<D>().map_err(shape_error)?;
    let r: RepairResult<D> = wgpu_persistence::repair(ctx, map, prior, options)?;
    Ok(Repaired {
        map: r.map.into_raw_vec_and_offset().0,
        loss_before: r.loss_before,
        loss_after: r.loss_after,
        betti_before: r.betti_before,
        betti_after: r.betti_after,
        steps_taken: r.steps_taken,
    })
}

/// What `repair` hands back, out of its dimensionality.
struct Repaired {
    map: Vec<f32>,
    loss_before: f32,
    loss_after: f32,
    betti_before: Vec<usize>,
    betti_after: Vec<usize>,
    steps_taken: usize,
}

fn shape_error(e: wgpu_persistence::ndarray::ShapeError) -> Error {
    Error::InvalidArgument(e.to_string())
}

/// Which backend and adapter answer for a backend choice, and why.
#[pyfunction]
#[pyo3(signature = (backend))]
fn backend_info<'py>(py: Python<'py>, backend: &str) -> PyResult<Bound<'py, PyDict>> {
    let ctx = context(backend)?;
    let info = PyDict::new(py);
    info.set_item("requested", backend.to_ascii_lowercase())?;
    info.set_item(
        "backend",
        match ctx.backend() {
            Backend::Gpu => "gpu",
            Backend::Cpu => "cpu",
        },
    )?;
    let adapter = ctx.adapter_info();
    info.set_item("adapter", adapter.map(|a| a.name.clone()))?;
    info.set_item(
        "device_type",
        adapter.map(|a| format!("{:?}", a.device_type)),
    )?;
    info.set_item("api", adapter.map(|a| format!("{:?}", a.backend)))?;
    info.set_item(
        "driver",
        adapter.map(|a| format!("{} {}", a.driver, a.driver_info)),
    )?;
    info.set_item("fallback_reason", ctx.fallback_reason())?;
    info.set_item("threads", pool()?.current_num_threads())?;
    Ok(info)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(diagrams, m)?)?;
    m.add_function(wrap_pyfunction!(topological_loss_batch, m)?)?;
    m.add_function(wrap_pyfunction!(loss_terms, m)?)?;
    m.add_function(wrap_pyfunction!(repair, m)?)?;
    m.add_function(wrap_pyfunction!(backend_info, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
