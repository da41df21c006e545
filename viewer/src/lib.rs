//! The viewer: wgpu-persistence inside an egui/eframe application. The application's own wgpu
//! device (eframe's render state) is handed to the library with `Context::from_device`, so every
//! recomputation runs on the device that draws the frame, inside the frame loop.
//!
//! What it shows: the image (a 2D input, or one slice of a volume) and its persistence diagram side
//! by side; a threshold whose sublevel (or superlevel) set is coloured on the image (each component
//! in its own colour, holes in magenta) with its Betti numbers counted on the picture and read off
//! the diagram (they agree: the test checks it); the birth and death pixels of the pair under the
//! pointer (a click keeps them); a smoothing slider that recomputes the diagram live, with the
//! milliseconds per recomputation and the backend that answered.

use std::path::Path;
use std::time::Instant;

use egui::{Color32, ColorImage, Pos2, Rect, Sense, Stroke, TextureHandle, TextureOptions, Vec2};
use wgpu_persistence::ndarray::{Array2, Array3, Axis};
use wgpu_persistence::{Backend, Construction, Context, Diagram, Options};

/// The bundled sample (scikit-image's `camera`, 128x128, CC0; see data/README.md).
const SAMPLE_PNG: &[u8] = include_bytes!("../../data/sample.png");

/// An input: its name and its values (an image, or a volume shown slice by slice).
pub struct Input {
    /// For the title.
    pub name: String,
    /// A 2D image or a 3D volume (`D x H x W`).
    pub values: Values,
}

/// The values of an input.
pub enum Values {
    /// `H x W`.
    Image(Array2<f32>),
    /// `D x H x W`.
    Volume(Array3<f32>),
}

impl Input {
    /// The bundled sample.
    pub fn sample() -> Result<Input, String> {
        Ok(Input {
            name: "bundled sample (camera, 128x128)".into(),
            values: Values::Image(decode_grey(SAMPLE_PNG, image::ImageFormat::Png)?),
        })
    }

    /// A grayscale PNG or TIFF, or a 2D or 3D `.npy` (float32, float64, uint8, uint16).
    pub fn open(path: &Path) -> Result<Input, String> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read '{name}': {e}"))?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let values = match ext.as_deref() {
            Some("png") => Values::Image(decode_grey(&bytes, image::ImageFormat::Png)?),
            Some("tif" | "tiff") => Values::Image(decode_grey(&bytes, image::ImageFormat::Tiff)?),
            Some("npy") => read_npy(&bytes)?,
            _ => return Err(format!("'{name}': expected a .png, .tif, .tiff or .npy")),
        };
        Ok(Input { name, values })
    }
}

fn decode_grey(bytes: &[u8], format: image::ImageFormat) -> Result<Array2<f32>, String> {
    let picture = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| format!("cannot decode the image: {e}"))?
        .into_luma16();
    let (w, h) = picture.dimensions();
    let scale = if picture.iter().all(|v| v % 257 == 0) {
        257.0
    } else {
        1.0
    };
    Array2::from_shape_vec(
        (h as usize, w as usize),
        picture
            .into_raw()
            .into_iter()
            .map(|v| v as f32 / scale)
            .collect(),
    )
    .map_err(|e| e.to_string())
}

fn read_npy(bytes: &[u8]) -> Result<Values, String> {
    use ndarray_npy::ReadNpyExt;
    use wgpu_persistence::ndarray::{ArrayD, Ix2, Ix3};
    let values: ArrayD<f32> = ArrayD::<f32>::read_npy(bytes)
        .or_else(|_| ArrayD::<f64>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)))
        .or_else(|_| ArrayD::<u8>::read_npy(bytes).map(|a| a.mapv(f32::from)))
        .or_else(|_| ArrayD::<u16>::read_npy(bytes).map(|a| a.mapv(f32::from)))
        .map_err(|e| format!("cannot read the .npy (float32, float64, uint8 or uint16): {e}"))?;
    match values.ndim() {
        2 => values
            .into_dimensionality::<Ix2>()
            .map(Values::Image)
            .map_err(|e| e.to_string()),
        3 => values
            .into_dimensionality::<Ix3>()
            .map(Values::Volume)
            .map_err(|e| e.to_string()),
        n => Err(format!("expected a 2D image or a 3D volume, got {n} axes")),
    }
}

/// Colours of H0 and H1 in the diagram and the markers.
const DIM_COLOURS: [Color32; 2] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(214, 39, 40),
];
const HOLE: Color32 = Color32::from_rgb(230, 0, 230);

/// The viewer's state.
pub struct Viewer {
    gpu: Option<Context>,
    cpu: Context,
    use_gpu: bool,
    adapter: String,
    name: String,
    input: Values,
    slice: usize,
    smoothing: usize,
    construction: Construction,
    superlevel: bool,
    threshold: f32,
    picture: Array2<f32>,
    /// The picture's smallest and largest finite values (scanned once per recomputation, not per
    /// frame).
    value_range: (f32, f32),
    diagram: Option<Diagram>,
    error: Option<String>,
    millis: f64,
    recomputations: usize,
    texture: Option<TextureHandle>,
    picture_betti: [usize; 2],
    hovered: Option<(usize, usize)>,
    pinned: Option<(usize, usize)>,
    path: String,
    /// Where the diagram's points were last drawn (inside the panel's margin).
    plot_area: Option<Rect>,
}

impl Viewer {
    /// A viewer on the application's device (eframe's or a test's render state), or on the CPU
    /// backend when there is none.
    pub fn new(render_state: Option<&egui_wgpu::RenderState>, input: Input) -> Viewer {
        // the library's kernels run on Vulkan, Metal and DX12; a window drawn with OpenGL (no such
        // adapter here) leaves the computing to the CPU backend
        let usable = render_state.filter(|rs| rs.adapter.get_info().backend != wgpu::Backend::Gl);
        let gpu = usable.map(|rs| {
            Context::from_device(rs.device.clone(), rs.queue.clone(), rs.adapter.get_info())
        });
        let adapter = render_state.map_or("none".into(), |rs| {
            let info = rs.adapter.get_info();
            format!("{} ({:?})", info.name, info.backend)
        });
        let mut viewer = Viewer {
            use_gpu: gpu.is_some(),
            gpu,
            cpu: Context::cpu(),
            adapter,
            name: String::new(),
            input: Values::Image(Array2::zeros((1, 1))),
            slice: 0,
            smoothing: 0,
            construction: Construction::V,
            superlevel: false,
            threshold: 0.0,
            picture: Array2::zeros((1, 1)),
            value_range: (0.0, 1.0),
            diagram: None,
            error: None,
            millis: 0.0,
            recomputations: 0,
            texture: None,
            picture_betti: [0, 0],
            hovered: None,
            pinned: None,
            path: String::new(),
            plot_area: None,
        };
        viewer.set_input(input);
        viewer
    }

    /// Shows another input.
    pub fn set_input(&mut self, input: Input) {
        self.name = input.name;
        self.input = input.values;
        self.slice = match &self.input {
            Values::Volume(v) => v.shape()[0] / 2,
            Values::Image(_) => 0,
        };
        let (lo, hi) = range(self.item().iter().copied());
        self.threshold = 0.5 * (lo + hi);
        self.pinned = None;
        self.recompute();
    }

    /// The 2D item shown: the image, or the volume's slice.
    fn item(&self) -> Array2<f32> {
        match &self.input {
            Values::Image(image) => image.clone(),
            Values::Volume(volume) => volume
                .index_axis(Axis(0), self.slice.min(volume.shape()[0].saturating_sub(1)))
                .to_owned(),
        }
    }

    /// Smooths the item and computes its diagram (timed), on the chosen backend.
    pub fn recompute(&mut self) {
        self.picture = box_blur(&self.item(), self.smoothing);
        self.value_range = range(self.picture.iter().copied());
        let mut options = Options::new(self.construction);
        if self.superlevel {
            options = options.superlevel();
        }
        let ctx = match (&self.gpu, self.use_gpu) {
            (Some(gpu), true) => gpu,
            _ => &self.cpu,
        };
        let start = Instant::now();
        match ctx.compute(self.picture.view(), &options) {
            Ok(d) => {
                self.millis = start.elapsed().as_secs_f64() * 1e3;
                self.diagram = Some(d);
                self.error = None;
            }
            Err(e) => {
                self.diagram = None;
                self.error = Some(e.to_string());
            }
        }
        self.recomputations += 1;
        self.hovered = None;
        self.texture = None;
    }

    /// The diagram shown (for tests and embedding).
    pub fn diagram(&self) -> Option<&Diagram> {
        self.diagram.as_ref()
    }

    /// The picture the diagram is of (the smoothed item).
    pub fn picture(&self) -> &Array2<f32> {
        &self.picture
    }

    /// The threshold, and sets it.
    pub fn set_threshold(&mut self, t: f32) {
        self.threshold = t;
        self.texture = None;
    }

    /// Sets the smoothing radius and recomputes.
    pub fn set_smoothing(&mut self, radius: usize) {
        self.smoothing = radius;
        self.recompute();
    }

    /// Sets the construction and the direction, and recomputes.
    pub fn set_filtration(&mut self, construction: Construction, superlevel: bool) {
        self.construction = construction;
        self.superlevel = superlevel;
        self.recompute();
    }

    /// Components and holes of the threshold set, counted on the picture (by flood fill).
    pub fn picture_betti(&mut self) -> [usize; 2] {
        self.overlay();
        self.picture_betti
    }

    /// How many times the diagram was computed, and the last one's milliseconds.
    pub fn recomputations(&self) -> (usize, f64) {
        (self.recomputations, self.millis)
    }

    /// Where the window is drawn and where the library computes, in words.
    pub fn describe(&self) -> String {
        match &self.gpu {
            Some(_) => format!(
                "the window is drawn by {}; the library computes on the same device",
                self.adapter
            ),
            None => format!(
                "the window is drawn by {}; the library computes on the CPU backend",
                self.adapter
            ),
        }
    }

    /// Where pair `i` of dimension `k` was drawn in the diagram (after a frame).
    pub fn point_on_screen(&self, k: usize, i: usize) -> Option<Pos2> {
        let p = self.diagram.as_ref()?.pairs.get(k)?.get(i)?;
        let (lo, hi) = self.value_range;
        Some(on_screen(self.plot_area?, lo, hi, p.birth, p.death))
    }

    /// The pair under the pointer, and the pair a click kept: `(dimension, index)`.
    pub fn marked(&self) -> [Option<(usize, usize)>; 2] {
        [self.hovered, self.pinned]
    }

    /// Which backend answered the last computation.
    pub fn backend(&self) -> Option<Backend> {
        self.diagram.as_ref().map(|d| d.backend)
    }

    /// The picture in grey, its threshold set coloured by component, holes in magenta; counts the
    /// components and holes.
    fn overlay(&mut self) -> ColorImage {
        let (h, w) = self.picture.dim();
        let (lo, hi) = self.value_range;
        let inside: Vec<bool> = self
            .picture
            .iter()
            .map(|&v| match self.superlevel {
                true => v >= self.threshold,
                false => v <= self.threshold,
            })
            .collect();
        // connectivity of the set and of its complement, as the construction joins pixels
        let (set, complement) = neighbourhoods(self.construction);
        let components = label(&inside, h, w, true, set);
        let outside = label(&inside, h, w, false, complement);
        let touches: Vec<bool> = {
            let mut t = vec![false; outside.count + 1];
            for y in 0..h {
                for x in 0..w {
                    if y == 0 || x == 0 || y + 1 == h || x + 1 == w {
                        t[outside.labels[y * w + x]] = true;
                    }
                }
            }
            t
        };
        let holes = (1..=outside.count).filter(|&l| !touches[l]).count();
        self.picture_betti = [components.count, holes];
        let mut pixels = Vec::with_capacity(h * w);
        for i in 0..h * w {
            let v = self.picture.as_slice().map_or(0.0, |s| s[i]);
            let g = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            let g = (40.0 + 190.0 * g) as u8;
            let grey = Color32::from_gray(g);
            let c = if inside[i] {
                let hue = palette(components.labels[i]);
                blend(grey, hue, 0.55)
            } else if !touches[outside.labels[i]] {
                blend(grey, HOLE, 0.6)
            } else {
                grey
            };
            pixels.push(c);
        }
        ColorImage::new([w, h], pixels)
    }

    /// The whole user interface, in one `Ui` (eframe's central panel, or a test harness's).
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let mut recompute = false;
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("open:");
            ui.add(
                egui::TextEdit::singleline(&mut self.path)
                    .hint_text("a .png, .tif or .npy")
                    .desired_width(220.0),
            )
            .labelled_by(label.id);
            if ui.button("open").clicked() {
                match Input::open(Path::new(self.path.trim())) {
                    Ok(input) => self.set_input(input),
                    Err(e) => self.error = Some(e),
                }
            }
            if ui.button("sample").clicked() {
                if let Ok(input) = Input::sample() {
                    self.set_input(input);
                }
            }
            ui.separator();
            for (c, name) in [
                (Construction::V, "V"),
                (Construction::T, "T"),
                (Construction::Freudenthal, "Freudenthal"),
            ] {
                recompute |= ui.radio_value(&mut self.construction, c, name).changed();
            }
            recompute |= ui.checkbox(&mut self.superlevel, "superlevel").changed();
            if self.gpu.is_some() {
                recompute |= ui
                    .checkbox(&mut self.use_gpu, "on the app's GPU device")
                    .changed();
            }
        });
        ui.horizontal_wrapped(|ui| {
            recompute |= ui
                .add(egui::Slider::new(&mut self.smoothing, 0..=12).text("smoothing (box radius)"))
                .changed();
            if let Values::Volume(v) = &self.input {
                let depth = v.shape()[0];
                recompute |= ui
                    .add(
                        egui::Slider::new(&mut self.slice, 0..=depth.saturating_sub(1))
                            .text("slice"),
                    )
                    .changed();
            }
            let (lo, hi) = self.value_range;
            if ui
                .add(egui::Slider::new(&mut self.threshold, lo..=hi).text("threshold"))
                .changed()
            {
                self.texture = None;
            }
        });
        if recompute {
            self.recompute();
        }
        let image = match &self.texture {
            Some(t) => t.clone(),
            None => {
                let overlay = self.overlay();
                let t = ui
                    .ctx()
                    .load_texture("picture", overlay, TextureOptions::NEAREST);
                self.texture = Some(t.clone());
                t
            }
        };
        let diagram_betti = self
            .diagram
            .as_ref()
            .map(|d| d.betti_at(self.threshold, self.superlevel));
        let backend = match self.backend() {
            Some(Backend::Gpu) => format!("the app's GPU device, {}", self.adapter),
            Some(Backend::Cpu) if self.gpu.is_none() => {
                format!("the CPU backend (the window is drawn by {})", self.adapter)
            }
            Some(Backend::Cpu) => "the CPU backend".to_string(),
            None => "-".to_string(),
        };
        ui.label(format!(
            "{}: {} pairs in {:.2} ms on {backend} (recomputation {}); at {:.3}: picture {} \
             components, {} holes; diagram {:?}",
            self.name,
            self.diagram
                .as_ref()
                .map_or(0, |d| d.pairs.iter().map(Vec::len).sum::<usize>()),
            self.millis,
            self.recomputations,
            self.threshold,
            self.picture_betti[0],
            self.picture_betti[1],
            diagram_betti.unwrap_or_default(),
        ));
        if let Some(e) = &self.error {
            ui.colored_label(Color32::RED, e);
        }
        let available = ui.available_size();
        let side = (available.x / 2.0 - 12.0).min(available.y - 8.0).max(64.0);
        ui.horizontal(|ui| {
            let (h, w) = self.picture.dim();
            let aspect = w as f32 / h.max(1) as f32;
            let size = if aspect >= 1.0 {
                Vec2::new(side, side / aspect)
            } else {
                Vec2::new(side * aspect, side)
            };
            let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
            ui.painter().image(
                image.id(),
                rect,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
            self.draw_markers(ui, rect);
            let (rect, response) = ui.allocate_exact_size(Vec2::splat(side), Sense::click());
            self.draw_diagram(ui, rect, &response);
        });
    }

    /// Circles at the birth pixel and crosses at the death pixel of the hovered and pinned pairs.
    fn draw_markers(&self, ui: &egui::Ui, rect: Rect) {
        let Some(d) = &self.diagram else { return };
        let (h, w) = self.picture.dim();
        let at = |i: usize| {
            let (y, x) = (i / w, i % w);
            Pos2::new(
                rect.left() + (x as f32 + 0.5) / w as f32 * rect.width(),
                rect.top() + (y as f32 + 0.5) / h as f32 * rect.height(),
            )
        };
        for (k, i) in [self.hovered, self.pinned].into_iter().flatten() {
            let Some(p) = d.pairs.get(k).and_then(|ps| ps.get(i)) else {
                continue;
            };
            let colour = DIM_COLOURS[k % 2];
            let stroke = Stroke::new(2.5, colour);
            ui.painter().circle_stroke(at(p.birth_index), 6.0, stroke);
            if let Some(death) = p.death_index {
                let c = at(death);
                let r = 6.0;
                ui.painter()
                    .line_segment([c - Vec2::splat(r), c + Vec2::splat(r)], stroke);
                ui.painter()
                    .line_segment([c + Vec2::new(-r, r), c + Vec2::new(r, -r)], stroke);
            }
        }
    }

    /// Birth against death, H0 blue and H1 red, the diagonal, essential classes on the top (or
    /// bottom) line; the nearest point under the pointer is hovered, a click keeps it.
    fn draw_diagram(&mut self, ui: &egui::Ui, rect: Rect, response: &egui::Response) {
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_gray(250));
        let Some(d) = &self.diagram else { return };
        let (lo, hi) = self.value_range;
        let inner = rect.shrink(18.0);
        self.plot_area = Some(inner);
        let x = |v: f32| on_screen(inner, lo, hi, v, lo).x;
        let y = |v: f32| on_screen(inner, lo, hi, lo, v).y;
        painter.line_segment(
            [Pos2::new(x(lo), y(lo)), Pos2::new(x(hi), y(hi))],
            Stroke::new(1.0, Color32::GRAY),
        );
        let threshold = Stroke::new(1.0, Color32::from_rgb(120, 120, 120));
        painter.line_segment(
            [
                Pos2::new(x(self.threshold), rect.top()),
                Pos2::new(x(self.threshold), rect.bottom()),
            ],
            threshold,
        );
        let pointer = response.hover_pos();
        let mut nearest: Option<((usize, usize), f32)> = None;
        for (k, ps) in d.pairs.iter().enumerate().take(2) {
            for (i, p) in ps.iter().enumerate() {
                let at = Pos2::new(x(p.birth), y(p.death));
                painter.circle_filled(at, 2.5, DIM_COLOURS[k].gamma_multiply(0.8));
                if let Some(q) = pointer {
                    let dist = at.distance(q);
                    if dist < 8.0 && nearest.is_none_or(|(_, best)| dist < best) {
                        nearest = Some(((k, i), dist));
                    }
                }
            }
        }
        self.hovered = nearest.map(|(ki, _)| ki);
        if response.clicked() {
            self.pinned = self.hovered;
        }
        for (k, i) in [self.hovered, self.pinned].into_iter().flatten() {
            if let Some(p) = d.pairs.get(k).and_then(|ps| ps.get(i)) {
                painter.circle_stroke(
                    Pos2::new(x(p.birth), y(p.death)),
                    6.0,
                    Stroke::new(2.0, Color32::BLACK),
                );
            }
        }
        painter.text(
            rect.left_top() + Vec2::new(4.0, 2.0),
            egui::Align2::LEFT_TOP,
            "death (essential on the edge)",
            egui::FontId::proportional(11.0),
            Color32::DARK_GRAY,
        );
        painter.text(
            rect.right_bottom() - Vec2::new(4.0, 2.0),
            egui::Align2::RIGHT_BOTTOM,
            "birth",
            egui::FontId::proportional(11.0),
            Color32::DARK_GRAY,
        );
    }
}

/// Where a point `(birth, death)` of the diagram is drawn in `inner`, for values in `lo..hi`
/// (essential classes beyond the top, or bottom, edge).
fn on_screen(inner: Rect, lo: f32, hi: f32, birth: f32, death: f32) -> Pos2 {
    let span = (hi - lo).max(f32::MIN_POSITIVE);
    let x = inner.left() + (birth - lo) / span * inner.width();
    let y = match death {
        v if v == f32::INFINITY => inner.top() - 10.0,
        v if v == f32::NEG_INFINITY => inner.bottom() + 10.0,
        v => inner.bottom() - (v - lo) / span * inner.height(),
    };
    Pos2::new(x, y)
}

/// Smallest and largest finite values (0..1 for none, a unit span around a single value).
fn range(values: impl Iterator<Item = f32>) -> (f32, f32) {
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

/// Two passes of a box blur of `radius` (edges clamped); the image itself for radius 0.
pub fn box_blur(image: &Array2<f32>, radius: usize) -> Array2<f32> {
    if radius == 0 {
        return image.clone();
    }
    let (h, w) = image.dim();
    let mut a = image.clone();
    for _ in 0..2 {
        for axis in [0, 1] {
            let b = a.clone();
            let n = if axis == 0 { h } else { w };
            for y in 0..h {
                for x in 0..w {
                    let pos = if axis == 0 { y } else { x };
                    let (from, to) = (pos.saturating_sub(radius), (pos + radius).min(n - 1));
                    let sum: f32 = (from..=to)
                        .map(|p| if axis == 0 { b[[p, x]] } else { b[[y, p]] })
                        .sum();
                    a[[y, x]] = sum / (to - from + 1) as f32;
                }
            }
        }
    }
    a
}

/// Offsets `(dy, dx)` to the neighbours of a pixel.
type Steps = &'static [(isize, isize)];

/// Offsets `(dy, dx)` of the neighbours that join pixels of the threshold set, and those that join
/// pixels of its complement, for each construction (V: 4 and 8; T: 8 and 4; Freudenthal: the 6
/// neighbours of its triangulation, for both).
fn neighbourhoods(c: Construction) -> (Steps, Steps) {
    const FOUR: &[(isize, isize)] = &[(-1, 0), (1, 0), (0, -1), (0, 1)];
    const EIGHT: &[(isize, isize)] = &[
        (-1, 0),
        (1, 0),
        (0, -1),
        (0, 1),
        (-1, -1),
        (-1, 1),
        (1, -1),
        (1, 1),
    ];
    const SIX: &[(isize, isize)] = &[(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1)];
    match c {
        Construction::V => (FOUR, EIGHT),
        Construction::T => (EIGHT, FOUR),
        Construction::Freudenthal => (SIX, SIX),
    }
}

/// Components of the pixels whose `inside` equals `which`: labels from 1 (0 for the others).
struct Labels {
    labels: Vec<usize>,
    count: usize,
}

fn label(inside: &[bool], h: usize, w: usize, which: bool, steps: &[(isize, isize)]) -> Labels {
    let mut labels = vec![0usize; h * w];
    let mut count = 0;
    let mut stack = Vec::new();
    for start in 0..h * w {
        if inside[start] != which || labels[start] != 0 {
            continue;
        }
        count += 1;
        labels[start] = count;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (y, x) = ((i / w) as isize, (i % w) as isize);
            for &(dy, dx) in steps {
                let (ny, nx) = (y + dy, x + dx);
                if ny < 0 || nx < 0 || ny >= h as isize || nx >= w as isize {
                    continue;
                }
                let j = ny as usize * w + nx as usize;
                if inside[j] == which && labels[j] == 0 {
                    labels[j] = count;
                    stack.push(j);
                }
            }
        }
    }
    Labels { labels, count }
}

/// A colour per component label.
fn palette(label: usize) -> Color32 {
    const COLOURS: [Color32; 6] = [
        Color32::from_rgb(255, 190, 0),
        Color32::from_rgb(0, 200, 120),
        Color32::from_rgb(0, 160, 255),
        Color32::from_rgb(255, 110, 60),
        Color32::from_rgb(150, 220, 0),
        Color32::from_rgb(120, 120, 255),
    ];
    COLOURS[label % COLOURS.len()]
}

fn blend(a: Color32, b: Color32, t: f32) -> Color32 {
    let mix = |x: u8, y: u8| (x as f32 * (1.0 - t) + y as f32 * t) as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}
