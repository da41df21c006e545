//! `plot`: pictures drawn with plotters, as PNG or SVG: the persistence diagram, the barcode of the
//! most persistent pairs, the input with the birth and death pixels of its most persistent pairs,
//! and a diverging colour map (for a gradient map written by `loss --gradient`).

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, ArrayView2, Axis};
use plotters::coord::types::RangedCoordf32;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use wgpu_persistence::{Diagram, PersistencePair};

use crate::args::{PlotArgs, PlotKind};
use crate::input::load_input;
use crate::{compute, fail, open_context, options, CliResult};

/// DejaVu Sans (Bitstream Vera license, `assets/fonts/LICENSE-DejaVu.txt`): plotters draws text
/// with it, so pictures look the same everywhere and need no system fonts.
const FONT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));

/// Colours of H0, H1, H2.
const DIM_COLOURS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
];

type Draw<T> = Result<T, String>;

fn drawing<E: std::error::Error>(e: E) -> String {
    format!("drawing failed: {e}")
}

pub(crate) fn run_plot(args: &PlotArgs) -> CliResult<()> {
    register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| fail("the embedded font could not be read"))?;
    let input = load_input(args.compute.input.as_deref(), args.compute.batch)?;
    let output = args.output.clone().unwrap_or_else(|| {
        let stem = args
            .compute
            .input
            .as_deref()
            .and_then(Path::file_stem)
            .map_or("sample".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from(format!("{stem}_{}.png", args.kind.name()))
    });
    let svg = match output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => false,
        Some("svg") => true,
        _ => {
            return Err(fail(format!(
                "'{}': the output must be a .png or an .svg",
                output.display()
            )))
        }
    };
    let (width, height) = parse_size(args.size.as_deref(), args.kind)?;
    let dims = parse_dims(args.dims.as_deref())?;
    let superlevel = args.compute.superlevel;
    let diagrams = match args.kind {
        PlotKind::Heatmap => Vec::new(),
        _ => {
            let ctx = open_context(args.compute.backend)?;
            compute(&ctx, &input, &options(&args.compute, false))?.0
        }
    };
    let items = if input.batch {
        input.values.shape()[0]
    } else {
        1
    };
    let name = input
        .name
        .rsplit('/')
        .next()
        .unwrap_or(&input.name)
        .to_string();
    for b in 0..items {
        let item = match input.batch {
            true => input.values.index_axis(Axis(0), b).to_owned(),
            false => input.values.clone(),
        };
        // with --batch, numbered whatever the count: a stack of one is no exception
        let path = match input.batch {
            false => output.clone(),
            true => numbered(&output, b),
        };
        let title = match input.batch {
            false => name.clone(),
            true => format!("{name} [{b}]"),
        };
        let figure = Figure {
            title,
            kind: args.kind,
            diagram: diagrams.get(b),
            values: &item,
            dims: &dims,
            superlevel,
            top: args.top,
            slice: args.slice,
        };
        let result = match svg {
            true => {
                let root = SVGBackend::new(&path, (width, height)).into_drawing_area();
                figure
                    .draw(&root)
                    .and_then(|()| root.present().map_err(drawing))
            }
            false => render_png(&figure, &path, width, height),
        };
        result.map_err(|e| fail(format!("{}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Draws into an RGB buffer and writes it as PNG (with the `image` crate: plotters' own encoder
/// would bring a second version of it).
fn render_png(figure: &Figure<'_>, path: &Path, width: u32, height: u32) -> Draw<()> {
    let mut buffer = vec![0u8; 3 * width as usize * height as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(drawing)?;
    }
    let picture = image::RgbImage::from_raw(width, height, buffer)
        .ok_or_else(|| "the picture buffer has the wrong size".to_string())?;
    picture
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| format!("cannot write '{}': {e}", path.display()))
}

/// `OUT.png` -> `OUT_3.png` for item 3 of a batch.
fn numbered(path: &Path, b: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or("plot".into(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or("png".into(), |e| e.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}_{b}.{ext}"))
}

fn parse_size(text: Option<&str>, kind: PlotKind) -> CliResult<(u32, u32)> {
    let Some(text) = text else {
        return Ok(match kind {
            PlotKind::Diagram => (800, 700),
            PlotKind::Barcode => (900, 700),
            PlotKind::Overlay | PlotKind::Heatmap => (800, 760),
            PlotKind::All => (2100, 700),
        });
    };
    let bad = || {
        fail(format!(
            "invalid --size '{text}' (expected WIDTHxHEIGHT, 200 to 8000 each)"
        ))
    };
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    match (200..=8000).contains(&w) && (200..=8000).contains(&h) {
        true => Ok((w, h)),
        false => Err(bad()),
    }
}

fn parse_dims(text: Option<&str>) -> CliResult<Vec<usize>> {
    let Some(text) = text else {
        return Ok(vec![0, 1, 2]);
    };
    let dims: Option<Vec<usize>> = text
        .split(',')
        .map(|d| d.trim().parse().ok().filter(|d| *d <= 2))
        .collect();
    match dims {
        Some(d) if !d.is_empty() => Ok(d),
        _ => Err(fail(format!(
            "invalid --dims '{text}' (expected comma-separated dimensions 0, 1, 2)"
        ))),
    }
}

/// One picture of one item.
struct Figure<'a> {
    title: String,
    kind: PlotKind,
    diagram: Option<&'a Diagram>,
    values: &'a ArrayD<f32>,
    dims: &'a [usize],
    superlevel: bool,
    top: usize,
    slice: Option<usize>,
}

impl Figure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Draw<()> {
        root.fill(&WHITE).map_err(drawing)?;
        let filtration = if self.superlevel {
            "superlevel"
        } else {
            "sublevel"
        };
        match (self.kind, self.diagram) {
            (PlotKind::Heatmap, _) => self.heatmap(root),
            (PlotKind::Diagram, Some(d)) => self.persistence_diagram(root, d, filtration),
            (PlotKind::Barcode, Some(d)) => self.barcode(root, d, filtration),
            (PlotKind::Overlay, Some(d)) => self.overlay(root, d),
            (PlotKind::All, Some(d)) => {
                let panels = root.split_evenly((1, 3));
                self.persistence_diagram(&panels[0], d, filtration)?;
                self.barcode(&panels[1], d, filtration)?;
                self.overlay(&panels[2], d)
            }
            (_, None) => Err("no diagram was computed".into()),
        }
    }

    /// The pairs of the chosen dimensions, with their dimension.
    fn pairs<'d>(&self, d: &'d Diagram) -> Vec<(usize, &'d [PersistencePair])> {
        self.dims
            .iter()
            .filter(|&&k| k < d.pairs.len())
            .map(|&k| (k, d.pairs[k].as_slice()))
            .collect()
    }

    /// Birth against death per dimension, the diagonal, essential classes on a line at the edge.
    fn persistence_diagram<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        d: &Diagram,
        filtration: &str,
    ) -> Draw<()> {
        let pairs = self.pairs(d);
        let (lo, hi) = finite_range(
            pairs
                .iter()
                .flat_map(|(_, ps)| ps.iter().flat_map(|p| [p.birth, p.death])),
        );
        let pad = 0.06 * (hi - lo);
        // essential classes (and deaths at an infinite value) sit on a line beyond the values
        let never = if self.superlevel {
            lo - 2.0 * pad
        } else {
            hi + 2.0 * pad
        };
        // deaths lie above the diagonal (superlevel: below it); the essential line beyond them
        let (y0, y1) = match self.superlevel {
            true => (lo - 3.0 * pad, hi + pad),
            false => (lo - pad, hi + 3.0 * pad),
        };
        let clamp = |v: f32, edge: f32| if v.is_finite() { v } else { edge };
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("Persistence diagram: {} ({filtration})", self.title),
                ("sans-serif", 22),
            )
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(lo - pad..hi + pad, y0..y1)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("birth")
            .y_desc("death")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(drawing)?;
        chart
            .draw_series(LineSeries::new(
                [(lo - pad, lo - pad), (hi + pad, hi + pad)],
                BLACK.mix(0.5),
            ))
            .map_err(drawing)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(lo - pad, never), (hi + pad, never)],
                6,
                4,
                BLACK.mix(0.4).into(),
            ))
            .map_err(drawing)?;
        let label_y = if self.superlevel {
            never - 0.6 * pad
        } else {
            never + 0.6 * pad
        };
        chart
            .draw_series(std::iter::once(Text::new(
                if self.superlevel {
                    "death -inf (essential)"
                } else {
                    "death +inf (essential)"
                },
                (lo - 0.8 * pad, label_y),
                ("sans-serif", 14).into_font().color(&BLACK.mix(0.7)),
            )))
            .map_err(drawing)?;
        for (k, ps) in pairs {
            let colour = DIM_COLOURS[k % 3];
            let points: Vec<(f32, f32)> = ps
                .iter()
                .map(|p| {
                    (
                        clamp(p.birth, if p.birth > 0.0 { hi + pad } else { lo - pad }),
                        clamp(p.death, never),
                    )
                })
                .collect();
            let essential = ps.iter().filter(|p| p.is_essential()).count();
            let label = format!(
                "H{k}: {} finite, {essential} essential",
                ps.len() - essential
            );
            let style = colour.mix(0.75).filled();
            let series = match k {
                0 => chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, style))),
                1 => chart.draw_series(points.iter().map(|&p| TriangleMarker::new(p, 4, style))),
                _ => chart.draw_series(
                    points
                        .iter()
                        .map(|&p| Cross::new(p, 4, colour.stroke_width(2))),
                ),
            }
            .map_err(drawing)?;
            series
                .label(label)
                .legend(move |(x, y)| -> DynElement<'static, DB, (i32, i32)> {
                    match k {
                        0 => Circle::new((x, y), 4, colour.filled()).into_dyn(),
                        1 => TriangleMarker::new((x, y), 5, colour.filled()).into_dyn(),
                        _ => Cross::new((x, y), 5, colour.stroke_width(2)).into_dyn(),
                    }
                });
        }
        chart
            .configure_series_labels()
            .position(if self.superlevel {
                SeriesLabelPosition::UpperLeft
            } else {
                SeriesLabelPosition::LowerRight
            })
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(drawing)?;
        Ok(())
    }

    /// The `top` most persistent pairs of each chosen dimension as bars from birth to death.
    fn barcode<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        d: &Diagram,
        filtration: &str,
    ) -> Draw<()> {
        let mut bars: Vec<(usize, PersistencePair)> = Vec::new();
        for (k, ps) in self.pairs(d) {
            bars.extend(most_persistent(ps, self.top).into_iter().map(|p| (k, *p)));
        }
        let (lo, hi) = finite_range(bars.iter().flat_map(|(_, p)| [p.birth, p.death]));
        let pad = 0.05 * (hi - lo);
        // room below the bars for the legend
        let rows = bars.len().max(1) as f32 + 4.0;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "Barcode: {} ({filtration}, {} most persistent per dimension)",
                    self.title, self.top
                ),
                ("sans-serif", 20),
            )
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(20)
            .build_cartesian_2d(lo - pad..hi + pad, rows..0f32)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("filtration value")
            .disable_y_mesh()
            .disable_y_axis()
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(drawing)?;
        let edge = |v: f32| match v {
            v if v.is_finite() => v,
            v if v > 0.0 => hi + pad,
            _ => lo - pad,
        };
        for (k, &colour) in DIM_COLOURS.iter().enumerate() {
            let mine: Vec<(usize, &PersistencePair)> = bars
                .iter()
                .enumerate()
                .filter(|(_, (dim, _))| *dim == k)
                .map(|(i, (_, p))| (i, p))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let essential = mine.iter().filter(|(_, p)| p.is_essential()).count();
            chart
                .draw_series(mine.iter().map(|&(i, p)| {
                    let (a, b) = (edge(p.birth), edge(p.death));
                    let y = i as f32;
                    Rectangle::new(
                        [(a.min(b), y + 0.15), (a.max(b), y + 0.85)],
                        colour.filled(),
                    )
                }))
                .map_err(drawing)?
                .label(format!(
                    "H{k}: {} bars ({essential} essential, to the edge)",
                    mine.len()
                ))
                .legend(move |(x, y)| {
                    Rectangle::new([(x - 6, y - 4), (x + 6, y + 4)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(drawing)?;
        Ok(())
    }

    /// The picture shown: a 2D item as it is; a volume's chosen slice, or its maximum-intensity
    /// projection along depth (the marks are then projected too).
    fn picture(&self) -> Draw<(ndarray::Array2<f32>, Option<usize>)> {
        match self.values.ndim() {
            2 => Ok((
                self.values
                    .view()
                    .into_dimensionality()
                    .map_err(|e| e.to_string())?
                    .to_owned(),
                None,
            )),
            3 => {
                let depth = self.values.shape()[0];
                match self.slice {
                    Some(z) if z < depth => Ok((
                        self.values
                            .index_axis(Axis(0), z)
                            .into_dimensionality()
                            .map_err(|e| e.to_string())?
                            .to_owned(),
                        Some(z),
                    )),
                    Some(z) => Err(format!("--slice {z}: the volume has {depth} slices")),
                    None => Ok((
                        self.values
                            .fold_axis(Axis(0), f32::NEG_INFINITY, |m, &v| m.max(v))
                            .into_dimensionality()
                            .map_err(|e| e.to_string())?,
                        None,
                    )),
                }
            }
            n => Err(format!("cannot draw a {n}D item")),
        }
    }

    /// The input in grey with the birth (circles) and death (crosses) pixels of the `top` most
    /// persistent pairs of each chosen dimension.
    fn overlay<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, d: &Diagram) -> Draw<()> {
        let (picture, slice) = self.picture()?;
        let (height, width) = picture.dim();
        let what = match (self.values.ndim(), slice) {
            (3, Some(z)) => format!(", slice {z} (marks of that slice)"),
            (3, None) => ", maximum-intensity projection".to_string(),
            _ => String::new(),
        };
        let mut chart = image_chart(
            area,
            format!("Critical pixels: {}{what}", self.title),
            height,
            width,
        )?;
        draw_cells(&mut chart, picture.view(), |v, lo, hi| {
            let g = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            let g = (40.0 + 200.0 * g.clamp(0.0, 1.0)) as u8;
            RGBColor(g, g, g)
        })?;
        let plane = height * width;
        let place = |index: usize| -> Option<(f32, f32)> {
            let (z, rest) = (index / plane, index % plane);
            match slice {
                Some(s) if s != z => None,
                _ => Some(((rest % width) as f32 + 0.5, (rest / width) as f32 + 0.5)),
            }
        };
        for (k, ps) in self.pairs(d) {
            let colour = DIM_COLOURS[k % 3];
            let chosen = most_persistent(ps, self.top);
            let births: Vec<(f32, f32)> =
                chosen.iter().filter_map(|p| place(p.birth_index)).collect();
            let deaths: Vec<(f32, f32)> = chosen
                .iter()
                .filter_map(|p| p.death_index.and_then(place))
                .collect();
            chart
                .draw_series(
                    births
                        .iter()
                        .map(|&p| Circle::new(p, 5, colour.stroke_width(2))),
                )
                .map_err(drawing)?
                .label(format!(
                    "H{k}: births of the {} most persistent",
                    chosen.len()
                ))
                .legend(move |(x, y)| Circle::new((x, y), 5, colour.stroke_width(2)));
            chart
                .draw_series(
                    deaths
                        .iter()
                        .map(|&p| Cross::new(p, 5, colour.stroke_width(2))),
                )
                .map_err(drawing)?
                .label(format!("H{k}: their deaths"))
                .legend(move |(x, y)| Cross::new((x, y), 5, colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(drawing)?;
        Ok(())
    }

    /// The input as a diverging colour map around 0 (blue negative, red positive), with a scale.
    fn heatmap<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Draw<()> {
        let (picture, slice) = self.picture_for_heatmap()?;
        let (height, width) = picture.dim();
        let scale = picture
            .iter()
            .filter(|v| v.is_finite())
            .fold(0f32, |m, v| m.max(v.abs()));
        let nonzero = picture.iter().filter(|v| **v != 0.0).count();
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0.saturating_sub(110));
        let what = match slice {
            Some(z) => format!(", slice {z}"),
            None => String::new(),
        };
        let mut chart = image_chart(
            &left,
            format!("{}{what}: {nonzero} nonzero values", self.title),
            height,
            width,
        )?;
        draw_cells(&mut chart, picture.view(), move |v, _, _| {
            diverging(v, scale)
        })?;
        // the colour scale
        let mut bar = ChartBuilder::on(&right)
            .margin_top(60)
            .margin_bottom(50)
            .margin_right(10)
            .y_label_area_size(60)
            .build_cartesian_2d(
                0f32..1f32,
                -scale.max(f32::MIN_POSITIVE)..scale.max(f32::MIN_POSITIVE),
            )
            .map_err(drawing)?;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_label_style(("sans-serif", 13))
            .draw()
            .map_err(drawing)?;
        let steps = 64;
        let s = scale.max(f32::MIN_POSITIVE);
        bar.draw_series((0..steps).map(|i| {
            let a = -s + 2.0 * s * i as f32 / steps as f32;
            let b = -s + 2.0 * s * (i + 1) as f32 / steps as f32;
            Rectangle::new([(0.0, a), (1.0, b)], diverging(0.5 * (a + b), s).filled())
        }))
        .map_err(drawing)?;
        Ok(())
    }

    /// A heatmap's 2D picture: the item, or a volume's chosen slice (by default the slice with the
    /// largest total magnitude, where a gradient acts most).
    fn picture_for_heatmap(&self) -> Draw<(ndarray::Array2<f32>, Option<usize>)> {
        if self.values.ndim() == 3 && self.slice.is_none() {
            let z = self
                .values
                .outer_iter()
                .map(|s| s.iter().map(|v| v.abs()).sum::<f32>())
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (z, t)| {
                    if t > best.1 {
                        (z, t)
                    } else {
                        best
                    }
                })
                .0;
            return Ok((
                self.values
                    .index_axis(Axis(0), z)
                    .into_dimensionality()
                    .map_err(|e| e.to_string())?
                    .to_owned(),
                Some(z),
            ));
        }
        self.picture()
    }
}

/// The `top` most persistent pairs, most persistent first (ties in the diagram's order).
fn most_persistent(pairs: &[PersistencePair], top: usize) -> Vec<&PersistencePair> {
    let mut sorted: Vec<&PersistencePair> = pairs.iter().collect();
    sorted.sort_by(|a, b| b.persistence().total_cmp(&a.persistence()));
    sorted.truncate(top);
    sorted
}

/// The chart a picture is drawn in: pixel coordinates, rows down, axes named, no grid.
type PixelChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf32, RangedCoordf32>>;

fn image_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: String,
    height: usize,
    width: usize,
) -> Draw<PixelChart<'a, DB>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(0f32..width as f32, height as f32..0f32)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("column")
        .y_desc("row")
        .draw()
        .map_err(drawing)?;
    Ok(chart)
}

/// Blue (negative) to white (0) to red (positive), saturating at `scale`.
fn diverging(v: f32, scale: f32) -> RGBColor {
    let t = if scale > 0.0 && v.is_finite() {
        (v / scale).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let fade = |full: u8, t: f32| (255.0 - (255.0 - full as f32) * t) as u8;
    match t >= 0.0 {
        true => RGBColor(fade(178, t), fade(24, t), fade(43, t)),
        false => RGBColor(fade(33, -t), fade(102, -t), fade(172, -t)),
    }
}

/// The smallest and largest finite values (a unit range around a single value, 0..1 for none).
fn finite_range(values: impl Iterator<Item = f32>) -> (f32, f32) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    match (lo.is_finite(), hi > lo) {
        (false, _) => (0.0, 1.0),
        (true, true) => (lo, hi),
        (true, false) => (lo - 0.5, lo + 0.5),
    }
}

/// Draws `picture` as cells of a chart whose coordinates are pixels (averaged in blocks so that
/// at most 200 cells run along each axis), coloured by `colour(value, min, max)`.
fn draw_cells<DB: DrawingBackend>(
    chart: &mut PixelChart<'_, DB>,
    picture: ArrayView2<'_, f32>,
    colour: impl Fn(f32, f32, f32) -> RGBColor,
) -> Draw<()> {
    let (height, width) = picture.dim();
    let block = height.max(width).div_ceil(200).max(1);
    let (lo, hi) = finite_range(picture.iter().copied());
    let mut cells = Vec::new();
    for r in (0..height).step_by(block) {
        for c in (0..width).step_by(block) {
            let window = picture.slice(ndarray::s![
                r..(r + block).min(height),
                c..(c + block).min(width)
            ]);
            let finite: Vec<f32> = window.iter().copied().filter(|v| v.is_finite()).collect();
            let v = match finite.is_empty() {
                true => window.iter().next().copied().unwrap_or(0.0),
                false => finite.iter().sum::<f32>() / finite.len() as f32,
            };
            let v = match v {
                v if v.is_finite() => v,
                v if v > 0.0 => hi,
                _ => lo,
            };
            let (r1, c1) = ((r + block).min(height), (c + block).min(width));
            cells.push(Rectangle::new(
                [(c as f32, r as f32), (c1 as f32, r1 as f32)],
                colour(v, lo, hi).filled(),
            ));
        }
    }
    chart.draw_series(cells).map_err(drawing)?;
    Ok(())
}
