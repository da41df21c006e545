//! The viewer, headless (egui_kittest renders it on a wgpu adapter: lavapipe in CI, no window):
//! it loads the bundled sample, computes on the application's device, and its picture is drawn;
//! the Betti numbers it counts on the picture equal those read off the diagram at every threshold,
//! for every construction and direction; the smoothing slider recomputes; the CPU backend answers
//! the same diagram. `WGPU_PERSISTENCE_VIEWER_SCREENSHOT=PATH` saves the rendered frame there.

use egui_kittest::wgpu::{create_render_state, default_wgpu_setup, WgpuTestRenderer};
use egui_kittest::Harness;
use wgpu_persistence::{Backend, Construction, Context, Options};
use wgpu_persistence_viewer::{Input, Viewer};

fn render_state() -> egui_wgpu::RenderState {
    if std::env::var("WGPU_PERSISTENCE_NO_GPU").is_ok_and(|v| v == "1") {
        panic!(
            "the viewer's test renders on a wgpu adapter; WGPU_PERSISTENCE_NO_GPU=1 leaves none"
        );
    }
    create_render_state(
        default_wgpu_setup(),
        egui_wgpu::RendererOptions::PREDICTABLE,
    )
}

#[test]
fn the_viewer_shows_the_sample_computed_on_the_apps_device() {
    let rs = render_state();
    eprintln!("viewer test on adapter '{}'", rs.adapter.get_info().name);
    let viewer = Viewer::new(Some(&rs), Input::sample().unwrap());
    assert_eq!(viewer.backend(), Some(Backend::Gpu));
    // the diagram the app's device computed is the CPU backend's
    let want = Context::cpu()
        .compute(viewer.picture().view(), &Options::default())
        .unwrap();
    assert_eq!(viewer.diagram().unwrap().pairs, want.pairs);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 640.0))
        .renderer(WgpuTestRenderer::from_render_state(rs))
        .build_ui_state(
            |ui, viewer: &mut Viewer| {
                egui::CentralPanel::default().show(ui, |ui| viewer.draw(ui));
            },
            viewer,
        );
    harness.run_steps(3);
    let frame = harness.render().expect("render the viewer");
    assert_eq!(frame.dimensions(), (1100, 640));
    let mut colours: Vec<[u8; 4]> = frame.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 200,
        "a blank frame: {} colours",
        colours.len()
    );
    if let Ok(path) = std::env::var("WGPU_PERSISTENCE_VIEWER_SCREENSHOT") {
        frame.save(&path).expect("save the screenshot");
        eprintln!("wrote {path}");
    }
    // pointing at the most persistent finite H1 pair marks it; a click keeps it
    let (target, pos) = {
        let viewer = harness.state();
        let d = viewer.diagram().unwrap();
        let (i, _) = d.pairs[1]
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_essential())
            .max_by(|a, b| a.1.persistence().total_cmp(&b.1.persistence()))
            .unwrap();
        ((1, i), viewer.point_on_screen(1, i).expect("drawn"))
    };
    harness.hover_at(pos);
    harness.run_steps(2);
    let viewer = harness.state();
    let [hovered, pinned] = viewer.marked();
    let (k, i) = hovered.expect("a pair under the pointer");
    assert!(
        viewer.point_on_screen(k, i).unwrap().distance(pos) < 0.5,
        "{target:?}"
    );
    assert_eq!(pinned, None);
    harness.drag_at(pos);
    harness.drop_at(pos);
    harness.run_steps(2);
    assert_eq!(harness.state().marked()[1], Some((k, i)));
    // the smoothing slider's effect: a recomputation, fewer pairs
    let viewer = harness.state_mut();
    let (before, _) = viewer.recomputations();
    let pairs = |v: &Viewer| {
        v.diagram()
            .unwrap()
            .pairs
            .iter()
            .map(Vec::len)
            .sum::<usize>()
    };
    let rough = pairs(viewer);
    viewer.set_smoothing(3);
    assert_eq!(viewer.recomputations().0, before + 1);
    assert!(pairs(viewer) < rough);
}

#[test]
fn the_threshold_sets_betti_numbers_match_the_diagram() {
    // on the CPU backend (no render state): the counts on the picture are independent of it
    let mut viewer = Viewer::new(None, Input::sample().unwrap());
    assert_eq!(viewer.backend(), Some(Backend::Cpu));
    for construction in [Construction::V, Construction::T, Construction::Freudenthal] {
        for superlevel in [false, true] {
            viewer.set_filtration(construction, superlevel);
            let d = viewer.diagram().unwrap().clone();
            for t in [20.0, 60.5, 100.0, 140.5, 180.0, 230.5] {
                viewer.set_threshold(t);
                let counted = viewer.picture_betti();
                let read = d.betti_at(t, superlevel);
                assert_eq!(
                    counted.to_vec(),
                    read,
                    "{construction:?} superlevel={superlevel} at {t}"
                );
            }
        }
    }
}
