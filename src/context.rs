//! `Context`: the entry point. Owns or borrows a wgpu device and answers on the GPU, or on the native
//! CPU backend when there is no adapter (or when asked to).

use ndarray::{
    Array, ArrayView2, ArrayView3, ArrayView4, Dimension, Ix2, Ix3, Ix4, IxDyn, RemoveAxis,
};

use crate::diagram::{assemble, Backend, Diagram, RawPair};
use crate::engine::{GpuEngine, GpuPairs, RunStats};
use crate::image::{self, ImageStack, Pixel};
use crate::loss::{loss_contributions, TopologicalLoss};
use crate::options::Options;
use crate::{cpu, Error, Result};
use rayon::prelude::*;

/// Which backend a [`Context`] should use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// The GPU when an adapter is found, else the CPU (logged once).
    #[default]
    Auto,
    /// The GPU or an error.
    Gpu,
    /// The CPU backend.
    Cpu,
}

impl std::str::FromStr for BackendChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "gpu" => Ok(Self::Gpu),
            "cpu" => Ok(Self::Cpu),
            other => Err(Error::InvalidArgument(format!(
                "unknown backend '{other}' (expected auto, gpu or cpu)"
            ))),
        }
    }
}

/// The topological loss of one map: value, dense gradient (the map's shape) and the diagram it
/// came from. `LossResult` is a 2D map's; `LossResult<Ix3>` a volume's.
#[derive(Debug, Clone)]
pub struct LossResult<D: Dimension = Ix2> {
    /// The loss.
    pub loss: f32,
    /// `dL/dp` for every pixel.
    pub gradient: Array<f32, D>,
    /// The superlevel diagram the loss was computed on.
    pub diagram: Diagram,
}

impl<D: Dimension> LossResult<D> {
    /// The framework contract's backward step: `dL_total/dp = upstream * dL/dp`, where `upstream` is
    /// the gradient of the training objective with respect to this loss (for example its weight).
    pub fn backward(&self, upstream: f32) -> Array<f32, D> {
        self.gradient.mapv(|g| g * upstream)
    }
}

/// The topological loss of a batch of maps. `BatchLossResult` is for 2D maps (gradient
/// `B x H x W`); `BatchLossResult<Ix4>` for volumes (`B x D x H x W`).
#[derive(Debug, Clone)]
pub struct BatchLossResult<D: Dimension = Ix3> {
    /// One loss per map.
    pub losses: Vec<f32>,
    /// `dL_b/dp` for every map `b` and pixel.
    pub gradient: Array<f32, D>,
    /// One diagram per map.
    pub diagrams: Vec<Diagram>,
}

impl<D: Dimension + RemoveAxis> BatchLossResult<D> {
    /// The backward step for the batch objective `sum_b upstream[b] * L_b` (`upstream` of length 1
    /// applies to every map): `upstream[b] * dL_b/dp` per map.
    pub fn backward(&self, upstream: &[f32]) -> Array<f32, D> {
        let mut out = self.gradient.clone();
        for (b, mut map) in out.outer_iter_mut().enumerate() {
            let u = upstream.get(b).or(upstream.first()).copied().unwrap_or(0.0);
            map.mapv_inplace(|g| g * u);
        }
        out
    }
}

/// Computes persistence diagrams. Create once, reuse: GPU buffers are kept for the last batch shape.
#[derive(Debug)]
pub struct Context {
    engine: Option<GpuEngine>,
    fallback_reason: Option<String>,
}

fn request_device(adapter: &wgpu::Adapter) -> Result<(wgpu::Device, wgpu::Queue)> {
    let limits = adapter.limits();
    let required = wgpu::Limits {
        max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
        max_buffer_size: limits.max_buffer_size,
        ..Default::default()
    };
    pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("wgpu-persistence"),
        // timing only: requested when offered, never required
        required_features: adapter.features()
            & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES),
        required_limits: required,
        ..Default::default()
    }))
    .map_err(|e| Error::Device(e.to_string()))
}

fn find_adapter() -> Result<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(desc.with_env());
    pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
        ..Default::default()
    }))
    .map_err(|e| Error::NoAdapter(e.to_string()))
}

impl Context {
    /// A context on the best available adapter, or on the CPU backend if there is none.
    pub fn new() -> Result<Self> {
        Self::with_backend(BackendChoice::Auto)
    }

    /// A context with an explicit backend choice.
    pub fn with_backend(choice: BackendChoice) -> Result<Self> {
        match choice {
            BackendChoice::Cpu => Ok(Self::cpu()),
            BackendChoice::Gpu => {
                let adapter = find_adapter()?;
                let info = adapter.get_info();
                let (device, queue) = request_device(&adapter)?;
                Ok(Self::from_device(device, queue, info))
            }
            BackendChoice::Auto => match Self::with_backend(BackendChoice::Gpu) {
                Ok(ctx) => Ok(ctx),
                Err(e) => {
                    log::warn!("wgpu-persistence: no usable GPU ({e}); using the CPU backend");
                    Ok(Self {
                        engine: None,
                        fallback_reason: Some(e.to_string()),
                    })
                }
            },
        }
    }

    /// A context on the CPU backend.
    pub fn cpu() -> Self {
        Self {
            engine: None,
            fallback_reason: None,
        }
    }

    /// A context on a device the caller already has (a training stack's or a renderer's). WebGPU's
    /// default limits suffice (no kernel binds more than 8 storage buffers). Every binding but the
    /// pair records holds at most 4 bytes per vertex of a graph of the batch (per pixel for the
    /// ranking), and the records (24 bytes each) are replaced by a compaction on the host where they
    /// would not fit; so the largest input is `max_storage_buffer_binding_size / 4` vertices per graph
    /// (33.5M under the default 128 MiB: 4096^2 images and 256^3 volumes fit); larger ones are refused
    /// with `Error::TooLarge`.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        Self {
            engine: Some(GpuEngine::new(device, queue, info)),
            fallback_reason: None,
        }
    }

    /// The GPU engine, if this context has one (for kernel-level tests and benches).
    pub fn engine(&self) -> Option<&GpuEngine> {
        self.engine.as_ref()
    }

    /// Which backend answers.
    pub fn backend(&self) -> Backend {
        if self.engine.is_some() {
            Backend::Gpu
        } else {
            Backend::Cpu
        }
    }

    /// Why `Auto` fell back to the CPU, if it did.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// The adapter in use (`None` on the CPU backend).
    pub fn adapter_info(&self) -> Option<&wgpu::AdapterInfo> {
        self.engine.as_ref().map(|e| e.adapter_info())
    }

    /// The diagram of one 2D image (any strides, any supported pixel type).
    pub fn compute<T: Pixel>(
        &self,
        image: ArrayView2<'_, T>,
        options: &Options,
    ) -> Result<Diagram> {
        let (height, width) = image.dim();
        if let Some(data) = image.as_slice() {
            // row-major already: as a slice (read in place where it can be)
            return self.compute_slice(data, [height, width], options);
        }
        let stack = image::from_view2(image)?;
        Ok(self.compute_stack(&stack, options)?.0.remove(0))
    }

    /// The diagram of one image given as a row-major slice and its `[H, W]` shape.
    pub fn compute_slice<T: Pixel>(
        &self,
        data: &[T],
        shape: [usize; 2],
        options: &Options,
    ) -> Result<Diagram> {
        if let Some(values) =
            T::as_f32(data).filter(|v| Some(v.len()) == shape[0].checked_mul(shape[1]))
        {
            return self.compute_f32(values, shape, options);
        }
        let stack = image::from_slice(data, &shape)?;
        Ok(self.compute_stack(&stack, options)?.0.remove(0))
    }

    /// [`Self::compute`] of a row-major `f32` image: on the CPU backend its diagram is made from the
    /// values where they are, without the copy that a stack takes.
    fn compute_f32(&self, values: &[f32], shape: [usize; 2], options: &Options) -> Result<Diagram> {
        let [height, width] = shape;
        if self.engine.is_none() && !options.keep_zero_persistence {
            image::check_f32_image(values, height, width)?;
            return Ok(cpu::image_diagram(values, height, width, options));
        }
        let stack = image::from_slice(values, &shape)?;
        Ok(self.compute_stack(&stack, options)?.0.remove(0))
    }

    /// The diagrams of a `B x H x W` batch: in one submission on the GPU; on the CPU backend the
    /// images are spread over all cores (rayon's global pool, sized by `RAYON_NUM_THREADS` or the
    /// available cores).
    pub fn compute_batch<T: Pixel>(
        &self,
        batch: ArrayView3<'_, T>,
        options: &Options,
    ) -> Result<Vec<Diagram>> {
        let stack = image::from_view3(batch)?;
        Ok(self.compute_stack(&stack, options)?.0)
    }

    /// The diagram (H0, H1, H2) of one `D x H x W` volume (any strides). The V and T constructions
    /// only. A GPU context pairs H0 and H2 on the GPU and reduces H1 on the host (its diagrams say
    /// `Backend::Gpu`); the CPU backend computes all three on the CPU.
    ///
    /// With `keep_zero_persistence`, every pair of the cell complex is reported: in V that is one H0
    /// pair per voxel, as for an image, but the T complex of a volume has more vertices than voxels
    /// (`(D+1)(H+1)(W+1)`), each with its H0 pair. A T volume whose complex has `2^31 / 3` vertices
    /// or more (only thin ones, such as `1 x 1 x N` with `N` past about 179M) is refused with
    /// [`Error::TooLarge`].
    ///
    /// ```
    /// use wgpu_persistence::{Context, Options};
    /// // a hollow 3x3x3 cube of ones around a zero: superlevel, one component and one void
    /// let mut volume = ndarray::Array3::<f32>::ones((3, 3, 3));
    /// volume[[1, 1, 1]] = 0.0;
    /// let d = Context::cpu().compute_volume(volume.view(), &Options::default().superlevel()).unwrap();
    /// assert_eq!((d.dim(0).len(), d.dim(1).len(), d.dim(2).len()), (1, 0, 1));
    /// assert_eq!(d.dim(2)[0].death_index, Some(13)); // the void dies when the centre enters
    /// ```
    pub fn compute_volume<T: Pixel>(
        &self,
        volume: ArrayView3<'_, T>,
        options: &Options,
    ) -> Result<Diagram> {
        let stack = image::from_volume_view(volume)?;
        Ok(self.compute_stack(&stack, options)?.0.remove(0))
    }

    /// The diagram of one volume given as a row-major slice and its `[D, H, W]` shape.
    pub fn compute_volume_slice<T: Pixel>(
        &self,
        data: &[T],
        shape: [usize; 3],
        options: &Options,
    ) -> Result<Diagram> {
        let stack = image::from_volume_slice(data, &shape)?;
        Ok(self.compute_stack(&stack, options)?.0.remove(0))
    }

    /// The diagrams of a `B x D x H x W` batch of volumes, spread over all cores.
    pub fn compute_volume_batch<T: Pixel>(
        &self,
        batch: ArrayView4<'_, T>,
        options: &Options,
    ) -> Result<Vec<Diagram>> {
        let stack = image::from_volume_batch_view(batch)?;
        Ok(self.compute_stack(&stack, options)?.0)
    }

    /// Diagrams of a validated stack, with GPU run statistics (zero on the CPU backend).
    pub fn compute_stack(
        &self,
        stack: &ImageStack,
        options: &Options,
    ) -> Result<(Vec<Diagram>, RunStats)> {
        // the fields are public: a stack built by hand must still be consistent
        let expected = stack.count.checked_mul(stack.pixels());
        if expected != Some(stack.values.len()) || (!stack.volume && stack.depth != 1) {
            return Err(Error::ShapeMismatch {
                len: stack.values.len(),
                shape: [vec![stack.count], stack.item_shape()].concat(),
                expected: expected.unwrap_or(usize::MAX),
            });
        }
        let Some(engine) = &self.engine else {
            return Ok((cpu::diagrams(stack, options)?, RunStats::default()));
        };
        let GpuPairs {
            pairs: raw,
            apparent,
            stats,
        } = engine.raw_pairs(stack, options)?;
        if stack.volume {
            // H0 and H2 (and which cells merged) and H1's apparent pairs come from the GPU, the rest
            // of H1 is reduced on the host
            let shape = [stack.depth, stack.height, stack.width];
            let diagrams = raw
                .into_par_iter()
                .enumerate()
                .map(|(b, merges)| {
                    let (primal, dual): (Vec<RawPair>, Vec<RawPair>) =
                        merges.into_iter().partition(|m| m.dim == 0);
                    let merges = cpu::cubical3d::Merges {
                        primal: &primal,
                        dual: &dual,
                        apparent: apparent.get(b).map(|a| a.as_slice()),
                    };
                    Ok(Diagram {
                        pairs: cpu::cubical3d::persistence_pairs_from_merges(
                            stack.image(b),
                            shape,
                            options,
                            merges,
                        )?,
                        shape: stack.item_shape(),
                        backend: Backend::Gpu,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok((diagrams, stats));
        }
        let diagrams = raw
            .into_iter()
            .enumerate()
            .map(|(b, pairs)| {
                assemble(
                    stack.image(b),
                    stack.item_shape(),
                    pairs,
                    options.is_superlevel(),
                    options.keep_zero_persistence,
                    self.backend(),
                )
            })
            .collect();
        Ok((diagrams, stats))
    }

    /// The topological loss of one probability map and its gradient (`forward` gives `loss`;
    /// `backward` multiplies `gradient` by the incoming scalar gradient).
    pub fn topological_loss<T: Pixel>(
        &self,
        map: ArrayView2<'_, T>,
        loss: &TopologicalLoss,
    ) -> Result<LossResult> {
        let stack = image::from_view2(map)?;
        self.loss_one::<Ix3>(&stack, loss)
    }

    /// The topological loss of one `D x H x W` probability volume (priors `beta_0, beta_1, beta_2`)
    /// and its gradient.
    pub fn topological_loss_volume<T: Pixel>(
        &self,
        map: ArrayView3<'_, T>,
        loss: &TopologicalLoss,
    ) -> Result<LossResult<Ix3>> {
        let stack = image::from_volume_view(map)?;
        self.loss_one::<Ix4>(&stack, loss)
    }

    /// The topological loss of each map of a `B x H x W` batch, with one prior for all (`losses` of
    /// length 1) or one per map; diagrams in one GPU submission, the gradient in one dispatch.
    pub fn topological_loss_batch<T: Pixel>(
        &self,
        maps: ArrayView3<'_, T>,
        losses: &[TopologicalLoss],
    ) -> Result<BatchLossResult> {
        let stack = image::from_view3(maps)?;
        self.loss_stack(&stack, losses)
    }

    /// The topological loss of each volume of a `B x D x H x W` batch (priors as for
    /// [`Context::topological_loss_batch`]).
    pub fn topological_loss_volume_batch<T: Pixel>(
        &self,
        maps: ArrayView4<'_, T>,
        losses: &[TopologicalLoss],
    ) -> Result<BatchLossResult<Ix4>> {
        let stack = image::from_volume_batch_view(maps)?;
        self.loss_stack(&stack, losses)
    }

    fn loss_one<D: Dimension + RemoveAxis>(
        &self,
        stack: &ImageStack,
        loss: &TopologicalLoss,
    ) -> Result<LossResult<D::Smaller>>
    where
        D::Smaller: Dimension,
    {
        let mut batch = self.loss_stack::<D>(stack, std::slice::from_ref(loss))?;
        let gradient = batch.gradient.index_axis_move(ndarray::Axis(0), 0);
        Ok(LossResult {
            loss: batch.losses[0],
            gradient,
            diagram: batch.diagrams.remove(0),
        })
    }

    fn loss_stack<D: Dimension>(
        &self,
        stack: &ImageStack,
        losses: &[TopologicalLoss],
    ) -> Result<BatchLossResult<D>> {
        if losses.len() != 1 && losses.len() != stack.count {
            return Err(Error::InvalidArgument(format!(
                "{} priors for {} maps (give one, or one per map)",
                losses.len(),
                stack.count
            )));
        }
        let options: Vec<Options> = losses.iter().map(|l| l.options()).collect();
        if options.iter().any(|o| *o != options[0]) {
            return Err(Error::InvalidArgument(
                "all priors of a batch must use the same construction".into(),
            ));
        }
        let (diagrams, _) = self.compute_stack(stack, &options[0])?;
        let n = stack.pixels();
        let mut values = Vec::with_capacity(stack.count);
        let mut contributions = Vec::new();
        for (b, d) in diagrams.iter().enumerate() {
            let loss = &losses[if losses.len() == 1 { 0 } else { b }];
            let (value, c) = loss_contributions(d, stack.image(b), loss);
            values.push(value);
            contributions.extend(c.into_iter().map(|(p, g)| (p + (b * n) as u32, g)));
        }
        let sorted = cpu::gradient_scatter::sort_contributions(&contributions);
        let gradient = match &self.engine {
            Some(engine) => engine.gradient_scatter(&sorted, stack.values.len())?,
            _ => cpu::gradient_scatter::gradient_scatter(&sorted, stack.values.len()),
        };
        let mut shape = vec![stack.count];
        shape.extend(stack.item_shape());
        let gradient = Array::from_shape_vec(IxDyn(&shape), gradient)
            .and_then(|g| g.into_dimensionality::<D>())
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        Ok(BatchLossResult {
            losses: values,
            gradient,
            diagrams,
        })
    }
}
