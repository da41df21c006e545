//! Shared test helpers: the GPU context (required, never skipped) and diagram comparisons.
#![allow(dead_code)]

use wgpu_persistence::{BackendChoice, Context, Diagram};

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
