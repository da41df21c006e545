//! CPU port of `shaders/apparent_pairs.wgsl`: the apparent pairs (square, youngest facet) of H1 of
//! a volume, as 4 bits per square, 8 squares per word. A square `q` and its youngest facet `e` are an
//! apparent pair when `q` is also the oldest cofacet of `e`; such a pair is a persistence pair, and
//! the column of `q` reduces to pivot `e` without any addition. Cells of one dimension are ordered by
//! (entry voxel's rank, slot), as in `cpu::volume`.

use crate::grid::{square_facets, GraphKind, Grid, NONE};
use crate::layout::apparent_pairs::APPARENT;
use crate::options::Construction;
use crate::{Error, Result};

/// `apparent_pairs`: one word per 8 squares (square id `3 * base vertex + closed axis`, as in
/// [`GraphKind::V3Dual`] and [`GraphKind::T3Dual`]) of a `D x H x W` volume whose voxel ranks are
/// `rank`. A square's facets are indexed in the order `cpu::volume` lists a boundary: along the second
/// open axis at the base vertex and one step along the first, then along the first open axis at the
/// base vertex and one step along the second.
pub fn apparent_pairs(
    construction: Construction,
    shape: [usize; 3],
    rank: &[u32],
) -> Result<Vec<u32>> {
    let (primal, dual) = GraphKind::of_volume(construction).ok_or_else(|| {
        Error::InvalidArgument("apparent pairs are computed for volumes (V or T)".into())
    })?;
    let [d, h, w] = shape;
    if rank.len() != d * h * w {
        return Err(Error::InvalidArgument(format!(
            "{} ranks for a {d}x{h}x{w} volume",
            rank.len()
        )));
    }
    let edges = Grid::volume(primal, d, h, w);
    let squares = Grid::volume(dual, d, h, w);
    let n = squares.edge_count();
    // a square's key, for its (complemented) dual-graph edge key; None outside the complex
    let square_key = |q: u32| {
        let (hi, lo) = squares.edge_key(q, rank);
        (hi != NONE || lo != NONE).then_some((!hi, !lo))
    };
    let stride = edges.vertex_stride();
    let nibble = |q: u32| -> u32 {
        let Some(key) = square_key(q) else {
            return 0;
        };
        let facets = square_facets(q as usize, stride.map(|s| s as usize));
        let (youngest, &facet) = facets
            .iter()
            .enumerate()
            .max_by_key(|(_, &f)| edges.edge_key(f as u32, rank))
            .unwrap_or((0, &facets[0]));
        let (e, j) = ((facet / 3) as u32, facet % 3);
        let c = edges.vertex_coordinates(e);
        for m in (0..3).filter(|&m| m != j) {
            let closed = (3 - j - m) as u32;
            let below = (c[m] > 0).then(|| e - stride[m]);
            for base in [Some(e), below].into_iter().flatten() {
                if square_key(3 * base + closed).is_some_and(|k| k < key) {
                    return youngest as u32;
                }
            }
        }
        APPARENT | youngest as u32
    };
    Ok((0..n.div_ceil(8))
        .map(|word| {
            (0..8)
                .map(|s| 8 * word + s)
                .filter(|&q| q < n)
                .fold(0, |acc, q| acc | nibble(q) << (4 * (q % 8)))
        })
        .collect())
}
