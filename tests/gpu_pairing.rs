//! The GPU pairing against the CPU backend where the number of hooking rounds is the point: an
//! adversarial staircase that needs more rounds than the engine records at first (so the engine must
//! raise its budget), and a ramp that needs one.

mod common;

use common::{compute_items, Items};
use wgpu_persistence::{Construction, Context, Options};

fn staircase(k: usize) -> Vec<f32> {
    let mut row = vec![];
    for i in 0..k {
        row.push(i as f32);
        row.push((2 * k - i) as f32);
    }
    row.push(k as f32);
    row
}

#[test]
fn staircase_needs_many_rounds_and_still_matches() {
    let Some(gpu) = common::gpu() else { return };
    let cpu = Context::cpu();
    // 40 nested basins need about 41 rounds, more than a first budget for 81 pixels: the engine must
    // raise its budget
    let row = staircase(40);
    for (shape, values) in [([1, row.len()], row.clone()), ([row.len(), 1], row.clone())] {
        let stack = Items::images(&values, &shape);
        for construction in [Construction::V, Construction::T, Construction::Freudenthal] {
            for options in [
                Options::new(construction),
                Options::new(construction).superlevel(),
            ] {
                let (g, stats) = compute_items(&gpu, &stack, &options).unwrap();
                let (c, _) = compute_items(&cpu, &stack, &options).unwrap();
                assert_eq!(g[0].pairs, c[0].pairs, "{shape:?} {options:?}");
                common::check_indices(&values, &g[0]);
                if !options.is_superlevel() {
                    assert!(
                        stats.rounds[0] > 4 * wgpu_persistence::internals::INITIAL_ROUNDS,
                        "staircase should need many rounds: {stats:?}"
                    );
                }
            }
        }
    }
    // 40 nested basins: 40 finite H0 classes born at 1..39 (and the essential one at 0)
    let d = cpu
        .compute_slice(&row, &[1, row.len()], &Options::default())
        .unwrap();
    assert_eq!(d.dim(0).len(), 41);
}

#[test]
fn ramp_needs_one_round() {
    let Some(gpu) = common::gpu() else { return };
    let values: Vec<f32> = (0..64 * 48).map(|i| i as f32).collect();
    let stack = Items::images(&values, &[64, 48]);
    let (d, stats) = compute_items(&gpu, &stack, &Options::default()).unwrap();
    assert_eq!(stats.rounds[0], 1, "{stats:?}");
    assert_eq!(d[0].dim(0).len(), 1);
    assert!(d[0].dim(1).is_empty());
}

#[test]
fn lost_device_is_an_error_not_a_panic() {
    let Some(gpu) = common::gpu() else { return };
    let device = wgpu_persistence::internals::gpu_device(&gpu).unwrap();
    let values = [1.0f32, 0.0, 2.0, 3.0];
    assert!(gpu
        .compute_slice(&values, &[2, 2], &Options::default())
        .is_ok());
    device.destroy();
    match gpu.compute_slice(&values, &[2, 2], &Options::default()) {
        Err(wgpu_persistence::Error::Device(msg)) => assert!(msg.contains("lost"), "{msg}"),
        other => panic!("expected a device error, got {other:?}"),
    }
}
