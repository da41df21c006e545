//! End-to-end diagrams against golden files made by GUDHI 3.13 (and checked against CubicalRipser)
//! with `scripts/make_golden.py`: V, T and Freudenthal, sub- and superlevel, on both backends.

mod common;

use wgpu_persistence::{Construction, Options};

use common::{expected, ours};

#[test]
fn diagrams_equal_gudhi() {
    let contexts = common::contexts();
    let mut checked = 0;
    for golden in common::golden_cases("tests/golden", 20) {
        let (path, case, shape, values) = (
            &golden.path,
            &golden.json,
            &golden.shape,
            golden.values.as_slice(),
        );
        for (tag, construction) in [
            ("v", Construction::V),
            ("t", Construction::T),
            ("f", Construction::Freudenthal),
        ] {
            for superlevel in [false, true] {
                let name = format!("{tag}_{}", if superlevel { "super" } else { "sub" });
                let mut options = Options::new(construction);
                if superlevel {
                    options = options.superlevel();
                }
                for ctx in &contexts {
                    let d = ctx
                        .compute_slice(values, &[shape[0], shape[1]], &options)
                        .unwrap();
                    common::check_indices(values, &d);
                    for dim in 0..2 {
                        let (want_finite, want_essential) = expected(&case["diagrams"][&name], dim);
                        let (finite, essential) = ours(&d, dim);
                        let label =
                            format!("{} {name} H{dim} on {}", path.display(), ctx.backend());
                        assert_eq!(
                            finite.len(),
                            want_finite.len(),
                            "{label}: finite pair count"
                        );
                        for (g, w) in finite.iter().zip(&want_finite) {
                            assert_eq!(g, w, "{label}");
                        }
                        assert_eq!(essential, want_essential, "{label}: essential");
                    }
                    checked += 1;
                }
            }
        }
    }
    eprintln!("{checked} diagrams checked");
}
