//! CPU port of `shaders/gradient_scatter.wgsl`: the dense gradient from contributions sorted by
//! pixel, each pixel's run added up in order (so the sums have the same bits as on the GPU).

/// `grad[p]` = the sum, in order, of `values[i]` over the `i` with `pixels[i] == p` (0 where there
/// are none). `pixels` must be sorted; a pixel past `len` is ignored.
pub fn gradient_scatter(pixels: &[u32], values: &[f32], len: usize) -> Vec<f32> {
    let mut grad = vec![0.0f32; len];
    let n = pixels.len().min(values.len());
    let mut i = 0;
    while i < n {
        let p = pixels[i];
        let mut sum = 0.0f32;
        while i < n && pixels[i] == p {
            sum += values[i];
            i += 1;
        }
        if let Some(g) = grad.get_mut(p as usize) {
            *g = sum;
        }
    }
    grad
}
