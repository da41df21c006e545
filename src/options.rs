//! What to compute: construction, direction of the filtration, zero-persistence pairs; and the
//! topological prior of a loss (its terms and gradient are computed in `loss.rs`).

use crate::{Error, Result};

/// The cell complex built on the pixel grid (see `docs/conventions.md`, section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Construction {
    /// Pixels are vertices; a cell enters with the max of its vertices (4-connected components;
    /// 6-connected in a volume).
    /// Same diagrams as CubicalRipser's default and GUDHI's `CubicalComplex(vertices=...)`.
    #[default]
    V,
    /// Pixels are top cells; a lower cell enters with the min of the top cells around it
    /// (8-connected components; 26-connected in a volume). Same diagrams as GUDHI's
    /// `CubicalComplex(top_dimensional_cells=...)`.
    T,
    /// Pixels are vertices of the Freudenthal triangulation (each square split by its `(y,x)-(y+1,x+1)`
    /// diagonal), as TopologyLayer's `LevelSetLayer2D`.
    Freudenthal,
}

impl std::str::FromStr for Construction {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "v" => Ok(Self::V),
            "t" => Ok(Self::T),
            "f" | "freudenthal" => Ok(Self::Freudenthal),
            other => Err(crate::Error::InvalidArgument(format!(
                "unknown construction '{other}' (expected v, t or freudenthal)"
            ))),
        }
    }
}

/// Direction of the filtration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Filtration {
    /// A pixel enters at its value (minima create components).
    #[default]
    Sublevel,
    /// The sublevel filtration of `-f`, reported in values of `f` (births are above deaths).
    Superlevel,
}

/// Options of a persistence computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options {
    /// Cell complex on the grid.
    pub construction: Construction,
    /// Sublevel (default) or superlevel.
    pub filtration: Filtration,
    /// Keep pairs whose birth equals their death (dropped by default). These are the pairs of every
    /// cell of the complex (see [`crate::Context::compute`]), except for a T image, whose H0 pairs
    /// are one per pixel, not one per vertex of the T complex (`docs/conventions.md`, section 3).
    pub keep_zero_persistence: bool,
}

impl Options {
    /// Options with the given construction, sublevel, zero-persistence pairs dropped.
    pub fn new(construction: Construction) -> Self {
        Self {
            construction,
            ..Self::default()
        }
    }
    /// The same options with the superlevel filtration.
    pub fn superlevel(mut self) -> Self {
        self.filtration = Filtration::Superlevel;
        self
    }
    /// The same options, keeping zero-persistence pairs.
    pub fn keep_zero_persistence(mut self, keep: bool) -> Self {
        self.keep_zero_persistence = keep;
        self
    }
    /// Whether the filtration is superlevel.
    pub fn is_superlevel(&self) -> bool {
        self.filtration == Filtration::Superlevel
    }
}

/// Which penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossKind {
    /// `1 - pers^2` for the kept features, `pers^2` for the others (the paper's form).
    #[default]
    Squared,
    /// `1 - pers` and `pers`.
    L1,
}

/// A topological prior and how to penalise departures from it.
#[derive(Debug, Clone, PartialEq)]
pub struct TopologicalLoss {
    /// Prior Betti numbers `beta_0, beta_1[, beta_2]`: one to three (`beta_2` is ignored in 2D; a
    /// missing one is 0).
    pub betti: Vec<usize>,
    /// Squared (default) or L1.
    pub kind: LossKind,
    /// Weight per dimension, at most three (1 when absent).
    pub weights: Vec<f32>,
    /// Cell complex (V by default).
    pub construction: Construction,
}

impl TopologicalLoss {
    /// The squared loss with prior `betti`, unit weights, V construction.
    pub fn new(betti: &[usize]) -> Self {
        Self {
            betti: betti.to_vec(),
            kind: LossKind::Squared,
            weights: vec![],
            construction: Construction::V,
        }
    }

    /// The diagram options this loss needs (superlevel, zero-persistence pairs dropped).
    pub fn options(&self) -> Options {
        Options::new(self.construction).superlevel()
    }

    /// Refuses a prior of no Betti number or of more than three (`beta_0` to `beta_2`: the CLI's
    /// `--betti` takes the same), more than three weights, and weights that are NaN, infinite or
    /// negative.
    pub(crate) fn check(&self) -> Result<()> {
        if self.betti.is_empty() || self.betti.len() > 3 {
            return Err(Error::InvalidArgument(format!(
                "a prior has one to three Betti numbers (beta_0, beta_1[, beta_2]), got {:?}",
                self.betti
            )));
        }
        if self.weights.len() > 3 {
            return Err(Error::InvalidArgument(format!(
                "a loss has at most three weights (one per dimension), got {}",
                self.weights.len()
            )));
        }
        match self.weights.iter().position(|w| !w.is_finite() || *w < 0.0) {
            Some(k) => Err(Error::InvalidArgument(format!(
                "the loss weight of dimension {k} is {}: weights must be finite and non-negative",
                self.weights[k]
            ))),
            None => Ok(()),
        }
    }

    /// The weight of dimension `k` (1 when absent).
    pub(crate) fn weight(&self, k: usize) -> f32 {
        self.weights.get(k).copied().unwrap_or(1.0)
    }
}
