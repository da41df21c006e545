//! Writing results: CSV and JSON diagrams, `.npy` arrays, to a file or to stdout.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use ndarray_npy::WriteNpyExt;
use rayon::prelude::*;
use serde::{Serialize, Serializer};
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

/// Rows formatted per block, on all cores, then written in order.
const ROWS_PER_BLOCK: usize = 1 << 14;

/// CSV: a header, then one row per pair (`image,` first with `--batch`); values print as the
/// shortest decimal that parses back to the same `f32` (`inf`, `-inf`), as `f32`'s `Display` does.
pub(crate) fn write_csv(w: &mut dyn Write, diagrams: &[Diagram], batch: bool) -> io::Result<()> {
    if batch {
        w.write_all(b"image,")?;
    }
    writeln!(w, "dim,birth,death,birth_index,death_index")?;
    // blocks of rows of one image and dimension, in output order
    let blocks: Vec<(usize, usize, &[PersistencePair])> = diagrams
        .iter()
        .enumerate()
        .flat_map(|(image, d)| {
            d.pairs.iter().enumerate().flat_map(move |(dim, pairs)| {
                pairs
                    .chunks(ROWS_PER_BLOCK)
                    .map(move |block| (image, dim, block))
            })
        })
        .collect();
    // a group of blocks at a time, formatted on all cores into buffers that are kept for the next
    // group (fresh pages cost as much as the formatting), then written in order
    let threads = rayon::current_num_threads().max(1);
    let mut texts: Vec<Vec<u8>> = vec![Vec::new(); 2 * threads];
    for group in blocks.chunks(texts.len()) {
        texts
            .par_iter_mut()
            .zip(group)
            .for_each(|(out, &(image, dim, pairs))| {
                out.clear();
                for p in pairs {
                    if batch {
                        push_usize(out, image);
                        out.push(b',');
                    }
                    push_usize(out, dim);
                    out.push(b',');
                    push_f32(out, p.birth);
                    out.push(b',');
                    push_f32(out, p.death);
                    out.push(b',');
                    push_usize(out, p.birth_index);
                    out.push(b',');
                    if let Some(i) = p.death_index {
                        push_usize(out, i);
                    }
                    out.push(b'\n');
                }
            });
        for text in &texts[..group.len()] {
            w.write_all(text)?;
        }
    }
    Ok(())
}

/// An `f32` as a JSON number, or as the string `"inf"` / `"-inf"` (JSON has no infinity).
struct JsonF32(f32);

impl Serialize for JsonF32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            v if v.is_finite() => s.serialize_f32(v),
            v if v == f32::INFINITY => s.serialize_str("inf"),
            v if v == f32::NEG_INFINITY => s.serialize_str("-inf"),
            _ => s.serialize_str("nan"),
        }
    }
}

#[derive(Serialize)]
struct JsonPair {
    birth: JsonF32,
    death: JsonF32,
    birth_index: usize,
    death_index: Option<usize>,
}

#[derive(Serialize)]
struct JsonDiagram<'a> {
    shape: &'a [usize],
    backend: String,
    pairs: Vec<Vec<JsonPair>>,
}

impl<'a> From<&'a Diagram> for JsonDiagram<'a> {
    fn from(d: &'a Diagram) -> Self {
        let pairs = d
            .pairs
            .iter()
            .map(|dim| {
                dim.iter()
                    .map(|p| JsonPair {
                        birth: JsonF32(p.birth),
                        death: JsonF32(p.death),
                        birth_index: p.birth_index,
                        death_index: p.death_index,
                    })
                    .collect()
            })
            .collect();
        JsonDiagram {
            shape: &d.shape,
            backend: d.backend.to_string(),
            pairs,
        }
    }
}

pub(crate) fn write_json(w: &mut dyn Write, diagrams: &[Diagram], batch: bool) -> io::Result<()> {
    let json: Vec<JsonDiagram<'_>> = diagrams.iter().map(JsonDiagram::from).collect();
    match (batch, json.as_slice()) {
        (false, [single]) => serde_json::to_writer(&mut *w, single)?,
        _ => serde_json::to_writer(&mut *w, &json)?,
    }
    writeln!(w)
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
    fn infinities_are_strings_in_json() {
        let text = serde_json::to_string(&[
            JsonF32(1.5),
            JsonF32(f32::INFINITY),
            JsonF32(f32::NEG_INFINITY),
        ])
        .expect("serialises");
        assert_eq!(text, r#"[1.5,"inf","-inf"]"#);
    }
}
