//! `wgpu-persistence-viewer [INPUT]`: the viewer in a window (eframe on wgpu). The device eframe
//! draws with is the one the library computes on. INPUT: a grayscale PNG or TIFF, or a 2D or 3D
//! `.npy`; the bundled sample without one. `--screenshot OUT.png` saves the window after a few
//! frames and exits (for the README, under Xvfb).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wgpu_persistence_viewer::{Input, Viewer};

struct App {
    viewer: Viewer,
    screenshot: Option<PathBuf>,
    frames: usize,
    shot: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| self.viewer.draw(ui));
        let Some(path) = &self.screenshot else { return };
        self.frames += 1;
        let ctx = ui.ctx().clone();
        if self.frames == 4 {
            let slot = self.shot.clone();
            let again = ctx.clone();
            ctx.request_screenshot(move |picture| {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(picture);
                }
                again.request_repaint();
            });
        }
        let taken = self.shot.lock().ok().and_then(|mut s| s.take());
        if let Some(picture) = taken {
            let [w, h] = picture.size;
            let saved = image::RgbaImage::from_raw(w as u32, h as u32, picture.as_raw().to_vec())
                .map(|p| p.save(path));
            match saved {
                Some(Ok(())) => eprintln!("wrote {}", path.display()),
                _ => eprintln!("could not write {}", path.display()),
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        ctx.request_repaint();
    }
}

fn main() -> Result<(), String> {
    let mut input_path = None;
    let mut screenshot = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--screenshot" => screenshot = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!(
                    "usage: wgpu-persistence-viewer [INPUT.png|.tif|.npy] [--screenshot OUT.png]"
                );
                return Ok(());
            }
            _ => input_path = Some(PathBuf::from(arg)),
        }
    }
    let input = match &input_path {
        Some(path) => Input::open(path)?,
        None => Input::sample()?,
    };
    let mut setup = egui_wgpu::WgpuSetupCreateNew::without_display_handle();
    // Vulkan, Metal or DX12 (the library's backends) when there is one; else OpenGL, to draw the
    // window while the library computes on the CPU backend (WGPU_BACKEND narrows them)
    setup.instance_descriptor.backends =
        wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY | wgpu::Backends::GL);
    setup.native_adapter_selector = Some(Arc::new(
        |adapters: &[wgpu::Adapter], surface: Option<&wgpu::Surface<'_>>| {
            let usable = |a: &&wgpu::Adapter| surface.is_none_or(|s| a.is_surface_supported(s));
            let rank = |a: &wgpu::Adapter| {
                let info = a.get_info();
                (
                    info.backend == wgpu::Backend::Gl,
                    info.device_type == wgpu::DeviceType::Cpu,
                )
            };
            adapters
                .iter()
                .filter(usable)
                .min_by_key(|a| rank(a))
                .cloned()
                .ok_or_else(|| "no adapter can draw this window".to_string())
        },
    ));
    // a device others can share: the adapter's features and limits (the library needs none)
    setup.device_descriptor = Arc::new(|adapter: &wgpu::Adapter| wgpu::DeviceDescriptor {
        label: Some("wgpu-persistence-viewer"),
        required_features: adapter.features() - wgpu::Features::all_experimental_mask(),
        required_limits: adapter.limits(),
        ..Default::default()
    });
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1100.0, 640.0]),
        renderer: eframe::Renderer::Wgpu,
        wgpu_options: egui_wgpu::WgpuConfiguration {
            wgpu_setup: setup.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let shot = Arc::new(Mutex::new(None));
    eframe::run_native(
        "wgpu-persistence viewer",
        options,
        Box::new(move |cc| {
            let viewer = Viewer::new(cc.wgpu_render_state.as_ref(), input);
            eprintln!("wgpu-persistence-viewer: {}", viewer.describe());
            Ok(Box::new(App {
                viewer,
                screenshot,
                frames: 0,
                shot,
            }))
        }),
    )
    .map_err(|e| format!("the window could not be opened: {e} (the viewer needs a display and a Vulkan, Metal or DX12 adapter; lavapipe does)"))
}
