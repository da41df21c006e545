//! What to compute: construction, direction of the filtration, zero-persistence pairs.

/// The cell complex built on the pixel grid (see `docs/conventions.md`, section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Construction {
    /// Pixels are vertices; a cell enters with the max of its vertices (4-connected components).
    /// Same diagrams as CubicalRipser's default and GUDHI's `CubicalComplex(vertices=...)`.
    #[default]
    V,
    /// Pixels are top cells; a lower cell enters with the min of the top cells around it
    /// (8-connected components). Same diagrams as GUDHI's `CubicalComplex(top_dimensional_cells=...)`.
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
    /// Keep pairs whose birth equals their death (dropped by default). For volumes these are the
    /// pairs of every cell (see [`crate::Context::compute`]).
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
