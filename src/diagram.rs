//! Persistence diagrams as plain data.

/// Which backend computed a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Backend {
    /// WGSL compute kernels on a wgpu adapter.
    Gpu,
    /// The native CPU backend.
    Cpu,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Gpu => "gpu",
            Backend::Cpu => "cpu",
        })
    }
}

/// JSON has no infinity: infinite values serialize as the strings `"inf"` / `"-inf"`.
#[cfg(feature = "serde")]
fn serialize_value<S: serde::Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
    if v.is_infinite() {
        s.serialize_str(if *v > 0.0 { "inf" } else { "-inf" })
    } else {
        s.serialize_f32(*v)
    }
}

/// One persistence pair. Serializes with infinities as the strings `"inf"` / `"-inf"`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PersistencePair {
    /// Filtration value (a value of the input) at which the class is born.
    #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_value"))]
    pub birth: f32,
    /// Value at which it dies; `+inf` (superlevel: `-inf`) for an essential class.
    #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_value"))]
    pub death: f32,
    /// Linear (row-major) index of the pixel whose value the creating cell takes: `f[birth_index] == birth`.
    pub birth_index: usize,
    /// Linear index of the pixel whose value the killing cell takes; `None` for an essential class.
    pub death_index: Option<usize>,
}

impl PersistencePair {
    /// `|death - birth|` (infinite for an essential class).
    pub fn persistence(&self) -> f32 {
        (self.death - self.birth).abs()
    }
    /// Whether the class never dies.
    pub fn is_essential(&self) -> bool {
        self.death_index.is_none()
    }
    /// An essential class born at `birth` (pixel `birth_index`): it dies at `+inf`, or `-inf` for a
    /// superlevel filtration.
    pub(crate) fn essential(birth: f32, birth_index: usize, superlevel: bool) -> Self {
        PersistencePair {
            birth,
            death: if superlevel {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            },
            birth_index,
            death_index: None,
        }
    }
}

/// The persistence diagram of one image or one volume.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Diagram {
    /// Shape of the image (`[H, W]`) or the volume (`[D, H, W]`).
    pub shape: Vec<usize>,
    /// Pairs per homology dimension (`pairs[k]` for `H_k`), ordered by the death pixel's place in the
    /// filtration's total order, then the birth pixel's; essential classes last.
    pub pairs: Vec<Vec<PersistencePair>>,
    /// Which backend answered.
    pub backend: Backend,
}

impl Diagram {
    /// The pairs of dimension `k` (empty if `k` is out of range).
    pub fn dim(&self, k: usize) -> &[PersistencePair] {
        self.pairs.get(k).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Betti numbers of the sublevel set `{f <= t}` (or, for a superlevel diagram, of `{f >= t}`):
    /// the classes alive at `t`, per dimension.
    pub fn betti_at(&self, t: f32, superlevel: bool) -> Vec<usize> {
        self.pairs
            .iter()
            .map(|d| {
                d.iter()
                    .filter(|p| {
                        if superlevel {
                            p.birth >= t && t > p.death
                        } else {
                            p.birth <= t && t < p.death
                        }
                    })
                    .count()
            })
            .collect()
    }

    /// Number of essential classes per dimension (the Betti numbers of the whole image).
    pub fn essential_counts(&self) -> Vec<usize> {
        self.pairs
            .iter()
            .map(|d| d.iter().filter(|p| p.is_essential()).count())
            .collect()
    }
}

/// A pair as both backends produce it, before values are attached: indices into one image and its
/// order key, `(rank of the death pixel) << 32 | rank of the birth pixel` (`u64::MAX` when essential).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RawPair {
    /// Homology dimension.
    pub dim: u32,
    /// `death rank << 32 | birth rank` (`u64::MAX` for an essential class).
    pub order: u64,
    /// Pixel whose value the creating cell takes.
    pub birth_index: u32,
    /// Pixel whose value the killing cell takes, or `u32::MAX`.
    pub death_index: u32,
    /// Volume graphs only: the slot (`0..27`, offset from its entry voxel) of the edge or square that
    /// merged, which with that voxel names the cell; 0 otherwise.
    pub cell_slot: u32,
}

/// Attach values to raw pairs of one image and order them as the contract says.
pub fn assemble(
    values: &[f32],
    shape: Vec<usize>,
    mut raw: Vec<RawPair>,
    superlevel: bool,
    keep_zero_persistence: bool,
    backend: Backend,
) -> Diagram {
    raw.sort_unstable();
    let dims = raw
        .iter()
        .map(|p| p.dim as usize + 1)
        .max()
        .unwrap_or(0)
        .max(2);
    let mut pairs = vec![Vec::new(); dims];
    let infinite = if superlevel {
        f32::NEG_INFINITY
    } else {
        f32::INFINITY
    };
    for p in raw {
        let birth = values[p.birth_index as usize];
        let (death, death_index) = if p.death_index == u32::MAX {
            (infinite, None)
        } else {
            (values[p.death_index as usize], Some(p.death_index as usize))
        };
        if !keep_zero_persistence && death_index.is_some() && birth == death {
            continue;
        }
        pairs[p.dim as usize].push(PersistencePair {
            birth,
            death,
            birth_index: p.birth_index as usize,
            death_index,
        });
    }
    Diagram {
        shape,
        pairs,
        backend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "serde")]
    #[test]
    fn infinities_serialize_as_strings() {
        let p = PersistencePair {
            birth: 1.5,
            death: f32::INFINITY,
            birth_index: 3,
            death_index: None,
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"birth":1.5,"death":"inf","birth_index":3,"death_index":null}"#
        );
        assert_eq!(serde_json::to_string(&Backend::Gpu).unwrap(), r#""gpu""#);
    }

    #[test]
    fn betti_numbers_at_a_threshold() {
        // a ring of ones around a zero, superlevel: at 0.5 one component and one hole
        let ring = [1.0f32, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let d = crate::Context::cpu()
            .compute_slice(&ring, &[3, 3], &crate::Options::default().superlevel())
            .unwrap();
        assert_eq!(d.betti_at(0.5, true), vec![1, 1]);
        assert_eq!(d.betti_at(-0.5, true), vec![1, 0]);
    }
}
