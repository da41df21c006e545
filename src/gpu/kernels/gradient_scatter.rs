//! The dense gradient from contributions sorted by pixel, summed per pixel in order (`shaders/gradient_scatter.wgsl`;
//! CPU port `cpu::ports::gradient_scatter`).

super::kernel!(
    /// `gradient_scatter.wgsl`.
    GradientScatter = gradient_scatter, per invocation
);
