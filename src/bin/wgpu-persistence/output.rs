//! Writing results: CSV and JSON diagrams, `.npy` arrays, to a file or to stdout.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::WriteNpyExt;
use rayon::prelude::*;
use wgpu_persistence::{Diagram, PersistencePair};

use crate::decimal::{push_f32, push_usize};

use crate::{fail, CliResult};

/// Run `write` on the output file, or on stdout. A closed stdout (`| head`) is not an error.
pub(crate) fn write_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> CliResult<()> {
    match path {
        Some(path) => {
            let name = path.display();
            let file =
                File::create(path).map_err(|e| fail(format!("cannot create '{name}': {e}")))?;
            let mut out = BufWriter::new(file);
            write(&mut out)
                .and_then(|()| out.flush())
                .map_err(|e| fail(format!("cannot write '{name}': {e}")))
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            match write(&mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(fail(format!("cannot write to stdout: {e}")))
                }
                _ => Ok(()),
            }
        }
    }
}

/// Rows formatted per block: small enough that the first group's formatting and the last group's
/// writing, which overlap nothing, are short; large enough that a block pays for its hand-over.
const ROWS_PER_BLOCK: usize = 1 << 12;

/// Bytes reserved per row of a block (a CSV row of 1024x1024 noise takes 37 on average), so that
/// a block's buffer is not grown and copied row after row.
const BYTES_PER_ROW: usize = 48;

/// What a writer emits, in order: fixed text, or a block of one dimension's pairs of one image
/// (`first`: the block starts its dimension).
enum Piece<'a> {
    Text(String),
    Rows {
        image: usize,
        dim: usize,
        pairs: &'a [PersistencePair],
        first: bool,
    },
}

/// The pieces of every diagram's pairs, `open(image)`, `between_dims` and `close(image)` around
/// them as the format frames them.
fn pieces<'a>(
    diagrams: &'a [Diagram],
    open: impl Fn(usize, &Diagram) -> String,
    between_dims: &str,
    close: impl Fn(usize) -> String,
) -> Vec<Piece<'a>> {
    let mut out = vec![];
    for (image, d) in diagrams.iter().enumerate() {
        out.push(Piece::Text(open(image, d)));
        for (dim, pairs) in d.pairs.iter().enumerate() {
            if dim > 0 && !between_dims.is_empty() {
                out.push(Piece::Text(between_dims.to_string()));
            }
            for (i, block) in pairs.chunks(ROWS_PER_BLOCK).enumerate() {
                out.push(Piece::Rows {
                    image,
                    dim,
                    pairs: block,
                    first: i == 0,
                });
            }
        }
        out.push(Piece::Text(close(image)));
    }
    out
}

/// Writes the pieces in order. Blocks of rows are formatted by `row` a group at a time, on all
/// cores, into buffers kept for the group after next (fresh pages cost as much as the formatting);
/// this thread writes one group while the pool formats the next, so the writing (a tenth to a
/// third of the time, into the page cache) hides behind the formatting.
fn write_pieces(
    w: &mut dyn Write,
    pieces: &[Piece<'_>],
    row: impl Fn(&mut Vec<u8>, usize, usize, &PersistencePair, bool) + Sync,
) -> io::Result<()> {
    let group_len = 2 * rayon::current_num_threads().max(1);
    let format = |texts: &mut [Vec<u8>], group: &[Piece<'_>]| {
        texts.par_iter_mut().zip(group).for_each(|(out, piece)| {
            out.clear();
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                &Piece::Rows {
                    image,
                    dim,
                    pairs,
                    first,
                } => {
                    out.reserve(pairs.len() * BYTES_PER_ROW);
                    for (i, p) in pairs.iter().enumerate() {
                        row(out, image, dim, p, first && i == 0);
                    }
                }
            }
        })
    };
    let mut groups = pieces.chunks(group_len);
    let Some(first) = groups.next() else {
        return Ok(());
    };
    let mut ready: Vec<Vec<u8>> = vec![Vec::new(); group_len];
    let mut spare: Vec<Vec<u8>> = vec![Vec::new(); group_len];
    format(&mut ready, first);
    let mut ready_len = first.len();
    for group in groups {
        let written = rayon::in_place_scope(|scope| {
            scope.spawn(|_| format(&mut spare, group));
            ready[..ready_len]
                .iter()
                .try_for_each(|text| w.write_all(text))
        });
        written?;
        std::mem::swap(&mut ready, &mut spare);
        ready_len = group.len();
    }
    ready[..ready_len]
        .iter()
        .try_for_each(|text| w.write_all(text))
}

/// CSV: a header, then one row per pair (`image,` first with `--batch`); values print as the
/// shortest decimal that parses back to the same `f32` (`inf`, `-inf`), as `f32`'s `Display` does.
pub(crate) fn write_csv(
    w: &mut dyn Write,
    diagrams: &[Diagram],
    batch: bool,
    exact: Option<&ArrayD<f64>>,
) -> io::Result<()> {
    let exact = exact.and_then(|e| Exact::new(e, diagrams.len()));
    if batch {
        w.write_all(b"image,")?;
    }
    writeln!(w, "dim,birth,death,birth_index,death_index")?;
    let pieces = pieces(diagrams, |_, _| String::new(), "", |_| String::new());
    write_pieces(w, &pieces, |out, image, dim, p, _| {
        if batch {
            push_usize(out, image);
            out.push(b',');
        }
        push_usize(out, dim);
        out.push(b',');
        match &exact {
            // the input's own values (Display: the shortest text that parses back to them)
            Some(e) => {
                let _ = write!(out, "{},", e.at(image, Some(p.birth_index), p.birth));
                let _ = write!(out, "{},", e.at(image, p.death_index, p.death));
            }
            None => {
                push_f32(out, p.birth);
                out.push(b',');
                push_f32(out, p.death);
                out.push(b',');
            }
        }
        push_usize(out, p.birth_index);
        out.push(b',');
        if let Some(i) = p.death_index {
            push_usize(out, i);
        }
        out.push(b'\n');
    })
}

/// The exact values of an input whose diagrams hold them rounded (a `float64` or `int32` `.npy`
/// that `f32` cannot hold), item by item.
struct Exact<'a> {
    values: &'a [f64],
    per_item: usize,
}

impl<'a> Exact<'a> {
    fn new(values: &'a ArrayD<f64>, items: usize) -> Option<Self> {
        let values = values.as_slice()?;
        Some(Exact {
            per_item: values.len() / items.max(1),
            values,
        })
    }

    /// The value at pixel `index` of item `image`; `rounded` (an essential class's infinite
    /// death) where there is no pixel.
    fn at(&self, image: usize, index: Option<usize>, rounded: f32) -> f64 {
        index
            .and_then(|i| self.values.get(image * self.per_item + i))
            .copied()
            .unwrap_or(f64::from(rounded))
    }
}

/// A JSON number as serde_json writes an `f32` or an `f64` (zmij's shortest text for that type),
/// or the string `"inf"`, `"-inf"` (JSON has no infinity).
fn push_json<F: zmij::Float + Into<f64>>(out: &mut Vec<u8>, v: F) {
    match v.into() {
        w if w.is_finite() => {
            out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes())
        }
        f64::INFINITY => out.extend_from_slice(b"\"inf\""),
        f64::NEG_INFINITY => out.extend_from_slice(b"\"-inf\""),
        _ => out.extend_from_slice(b"\"nan\""),
    }
}

/// JSON: one object `{"shape":[..],"backend":"..","pairs":[[{pair},..],..]}` per diagram, an
/// array of them with `--batch` (or when there is not exactly one), as serde_json wrote it.
pub(crate) fn write_json(
    w: &mut dyn Write,
    diagrams: &[Diagram],
    batch: bool,
    exact: Option<&ArrayD<f64>>,
) -> io::Result<()> {
    let exact = exact.and_then(|e| Exact::new(e, diagrams.len()));
    let array = batch || diagrams.len() != 1;
    if array {
        w.write_all(b"[")?;
    }
    let open = |image: usize, d: &Diagram| {
        let shape: Vec<String> = d.shape.iter().map(usize::to_string).collect();
        format!(
            "{}{{\"shape\":[{}],\"backend\":\"{}\",\"pairs\":[[",
            if image > 0 { "," } else { "" },
            shape.join(","),
            d.backend
        )
    };
    let pieces = pieces(diagrams, open, "],[", |_| "]]}".to_string());
    write_pieces(w, &pieces, |out, image, _, p, first| {
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"birth\":");
        match &exact {
            Some(e) => push_json(out, e.at(image, Some(p.birth_index), p.birth)),
            None => push_json(out, p.birth),
        }
        out.extend_from_slice(b",\"death\":");
        match &exact {
            Some(e) => push_json(out, e.at(image, p.death_index, p.death)),
            None => push_json(out, p.death),
        }
        out.extend_from_slice(b",\"birth_index\":");
        push_usize(out, p.birth_index);
        out.extend_from_slice(b",\"death_index\":");
        match p.death_index {
            Some(i) => push_usize(out, i),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    })?;
    if array {
        w.write_all(b"]")?;
    }
    writeln!(w)
}

/// An array as CSV: one line per row (the last axis), the rows of every slice and item one after
/// another; values as in the diagrams' CSV.
pub(crate) fn write_array_csv<D: ndarray::Dimension>(
    w: &mut dyn Write,
    array: &ndarray::Array<f32, D>,
) -> io::Result<()> {
    let width = array.shape().last().copied().unwrap_or(1).max(1);
    let mut line = Vec::new();
    for (i, &v) in array.iter().enumerate() {
        if i % width != 0 {
            line.push(b',');
        }
        push_f32(&mut line, v);
        if i % width == width - 1 {
            line.push(b'\n');
            w.write_all(&line)?;
            line.clear();
        }
    }
    Ok(())
}

/// Writes `array` as a float32 `.npy` file.
pub(crate) fn write_npy<D: ndarray::Dimension>(
    path: &Path,
    array: &ndarray::Array<f32, D>,
) -> CliResult<()> {
    let name = path.display();
    let file = File::create(path).map_err(|e| fail(format!("cannot create '{name}': {e}")))?;
    let mut out = BufWriter::new(file);
    array
        .write_npy(&mut out)
        .map_err(|e| fail(format!("cannot write '{name}': {e}")))?;
    out.flush()
        .map_err(|e| fail(format!("cannot write '{name}': {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_are_serde_jsons_and_infinities_strings() {
        let mut out = vec![];
        for v in [f32::INFINITY, f32::NEG_INFINITY] {
            push_json(&mut out, v);
            out.push(b' ');
        }
        assert_eq!(String::from_utf8(out).unwrap(), r#""inf" "-inf" "#);
        for v in [
            0.0f32,
            -0.0,
            1.5,
            3.0,
            0.1,
            1e20,
            1e-7,
            f32::MAX,
            0.43945312,
        ] {
            let mut out = vec![];
            push_json(&mut out, v);
            assert_eq!(out, serde_json::to_string(&v).unwrap().as_bytes(), "{v:?}");
        }
    }
}
