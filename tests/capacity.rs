//! The paths that inputs past one storage binding take, run on small inputs by capping the capacities
//! (`internals::set_capacity_override`): live-edge lists too short for the live edges (the rounds then
//! see every edge, implicitly) and pairs compacted on the host from the pairing state instead of by
//! `compact_pairs` on the GPU. Every diagram must equal the CPU backend's.

mod common;

use common::{compute_items, Items};
use rand::{Rng, SeedableRng};
use wgpu_persistence::internals::{set_capacity_override, CapacityOverride};
use wgpu_persistence::{Construction, Context, Options};

fn random(n: usize, levels: u32, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            if levels == 0 {
                rng.gen::<f32>()
            } else {
                rng.gen_range(0..levels) as f32
            }
        })
        .collect()
}

/// Every construction (V and T for volumes), sub- and superlevel, with and without zero persistence.
fn settings(volume: bool) -> Vec<Options> {
    let constructions: &[Construction] = if volume {
        &[Construction::V, Construction::T]
    } else {
        &[Construction::V, Construction::T, Construction::Freudenthal]
    };
    let mut out = vec![];
    for &c in constructions {
        for superlevel in [false, true] {
            for keep in [false, true] {
                let mut o = Options::new(c);
                if superlevel {
                    o = o.superlevel();
                }
                out.push(o.keep_zero_persistence(keep));
            }
        }
    }
    out
}

fn check(gpu: &Context, stack: &Items, capacity: CapacityOverride, label: &str) {
    assert!(
        wgpu_persistence::internals::gpu_device(gpu).is_some(),
        "gpu context"
    );
    set_capacity_override(gpu, capacity);
    for options in settings(stack.volume()) {
        let (g, _) = compute_items(gpu, stack, &options).unwrap();
        let (c, _) = compute_items(&Context::cpu(), stack, &options).unwrap();
        assert_eq!(g.len(), stack.count);
        assert_eq!(c.len(), stack.count);
        for (i, (g, c)) in g.iter().zip(&c).enumerate() {
            assert_eq!(
                g.pairs, c.pairs,
                "{label} item {i} {capacity:?} {options:?}"
            );
        }
    }
    set_capacity_override(gpu, CapacityOverride::default());
}

#[test]
fn short_edge_lists_give_the_same_diagrams() {
    let Some(gpu) = common::gpu() else { return };
    // capacities far below the live edges of the first rounds (thousands): several rounds overflow
    for (i, &(shape, levels)) in [
        (&[1usize, 1][..], 0),
        (&[1, 40], 3),
        (&[33, 29], 4),
        (&[3, 20, 17], 2),
        (&[48, 40], 0),
    ]
    .iter()
    .enumerate()
    {
        let n: usize = shape.iter().product();
        let values = random(n, levels, 40 + i as u64);
        let stack = Items::images(&values, shape);
        for edge_list in [1, 7, 300] {
            let capacity = CapacityOverride {
                edge_list: Some(edge_list),
                host_compaction: false,
            };
            check(&gpu, &stack, capacity, &format!("{shape:?}"));
        }
    }
}

#[test]
fn short_edge_lists_give_the_same_volume_diagrams() {
    let Some(gpu) = common::gpu() else { return };
    for (i, &(shape, levels)) in [([1, 1, 6], 2), ([7, 6, 5], 3), ([12, 9, 10], 0)]
        .iter()
        .enumerate()
    {
        let n: usize = shape.iter().product();
        let values = random(n, levels, 80 + i as u64);
        let stack = Items::volumes(&values, &shape);
        for edge_list in [5, 200] {
            let capacity = CapacityOverride {
                edge_list: Some(edge_list),
                host_compaction: false,
            };
            check(&gpu, &stack, capacity, &format!("{shape:?}"));
        }
    }
}

#[test]
fn pairs_compacted_on_the_host_equal_the_gpu_compaction() {
    let Some(gpu) = common::gpu() else { return };
    for (i, &(shape, levels)) in [
        (&[1usize, 1][..], 0),
        (&[7, 1], 2),
        (&[31, 37], 3),
        (&[4, 16, 9], 5),
    ]
    .iter()
    .enumerate()
    {
        let n: usize = shape.iter().product();
        let values = random(n, levels, 120 + i as u64);
        let stack = Items::images(&values, shape);
        let capacity = CapacityOverride {
            edge_list: None,
            host_compaction: true,
        };
        check(&gpu, &stack, capacity, &format!("{shape:?}"));
    }
}
