//! CPU port of `shaders/loss_select.wgsl`, the parts of the loss's selection that the host's
//! definition shares with it ([`crate::TopologicalLoss::terms`] sorts the features to select them,
//! which keeps the same `beta_k`: persistence, largest first, then the diagram's order).

/// The pixel an essential class dies at in the loss's superlevel order: the map's minimum, the
/// largest index among ties (0 for an empty map).
pub fn last_pixel(map: &[f32]) -> usize {
    map.iter()
        .enumerate()
        .fold(0, |best, (i, &v)| if v <= map[best] { i } else { best })
}

/// The cost of the features the prior asks for and the map lacks: `weight * max(0, beta - features)`
/// (each a bar of length zero: `1 - 0^2` or `1 - 0`).
pub fn missing(weight: f32, beta: usize, features: usize) -> f32 {
    weight * beta.saturating_sub(features) as f32
}
