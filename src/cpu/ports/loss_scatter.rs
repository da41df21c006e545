//! CPU port of `shaders/loss_scatter.wgsl`: a feature's two entries, one in the list of its birth
//! pixel and one in that of its death pixel, with the key by which `loss_gather` orders a list.

/// One entry of a pixel's list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// The pixel (of the batch) whose list holds it.
    pub pixel: u32,
    /// `(2 * dim + role, 2 * other + not kept)`: role 0 at the birth pixel, 1 at the death pixel;
    /// `other` the pair's other pixel (within its item).
    pub key: (u32, u32),
    /// Its share of the gradient at `pixel`.
    pub gradient: f32,
    /// The feature's term of the loss at its death pixel; 0 at its birth pixel.
    pub loss: f32,
}

/// The entries of a feature of dimension `dim` with pixels `birth` and `death` (within the item
/// starting at pixel `base`) and its numbers `[gradient at birth, gradient at death, loss term]`.
pub fn loss_scatter(
    base: usize,
    dim: usize,
    birth: usize,
    death: usize,
    kept: bool,
    numbers: [f32; 3],
) -> [Entry; 2] {
    let not_kept = u32::from(!kept);
    let dim = dim as u32;
    [
        Entry {
            pixel: (base + birth) as u32,
            key: (2 * dim, 2 * death as u32 + not_kept),
            gradient: numbers[0],
            loss: 0.0,
        },
        Entry {
            pixel: (base + death) as u32,
            key: (2 * dim + 1, 2 * birth as u32 + not_kept),
            gradient: numbers[1],
            loss: numbers[2],
        },
    ]
}
