//! [`Context`], the entry point: owns or borrows a wgpu device and answers on the GPU, or on the
//! native CPU backend when there is no adapter (or when asked to). One method per question: the
//! diagram of one item ([`Context::compute`], an image or a volume by its axes), of a batch
//! ([`Context::compute_batch`]), and the topological loss of one map or of a batch.

use std::sync::Arc;

use ndarray::{ArrayView, Dimension};

use crate::diagram::{Backend, Diagram};
use crate::gpu::{CapacityOverride, GpuEngine, RunStats};
use crate::input::{Pixel, Stack};
use crate::loss::{
    batch_loss, batch_terms, check_exact_probabilities, BatchLossResult, LossResult, LossTerms,
};
use crate::options::{Options, TopologicalLoss};
use crate::pipeline::{first, Pipeline};
use crate::resident::ResidentPlan;
use crate::{Error, Result};

/// Which backend a [`Context`] should use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A hardware GPU when one is found, else the CPU backend (a software adapter is skipped:
    /// the CPU backend is faster); `WGPU_PERSISTENCE_BACKEND` can change what it means.
    #[default]
    Auto,
    /// Any GPU adapter, a software one too, or an error.
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

/// Computes persistence diagrams. Create once, reuse: GPU buffers are kept for the last batch shape.
#[derive(Debug)]
pub struct Context {
    engine: Option<Arc<GpuEngine>>,
    fallback_reason: Option<String>,
}

/// A device on `adapter` that other wgpu libraries can share: every feature the adapter offers
/// (but wgpu's experimental ones, which need an opt-in) and the adapter's limits. Libraries that
/// pick their kernels by the device's features (burn's cubecl: without `SHADER_FLOAT32_ATOMIC` it
/// refuses to run) work on it; [`Context`] makes its own device this way and needs none of them,
/// so [`Context::from_device`] takes a device with fewer.
///
/// ```no_run
/// # fn main() -> wgpu_persistence::Result<()> {
/// let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
/// let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
///     .map_err(|e| wgpu_persistence::Error::NoAdapter(e.to_string()))?;
/// let (device, queue) = wgpu_persistence::request_shared_device(&adapter)?;
/// // hand clones of device and queue to the other library, and to us:
/// let ctx = wgpu_persistence::Context::from_device(device.clone(), queue.clone(), adapter.get_info());
/// # Ok(())
/// # }
/// ```
pub fn request_shared_device(adapter: &wgpu::Adapter) -> Result<(wgpu::Device, wgpu::Queue)> {
    pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("wgpu-persistence"),
        required_features: adapter.features() - wgpu::Features::all_experimental_mask(),
        required_limits: adapter.limits(),
        ..Default::default()
    }))
    .map_err(|e| Error::Device(e.to_string()))
}

/// The environment variable that sets what [`BackendChoice::Auto`] means: `auto` (the default),
/// `gpu` (any adapter, a software one too) or `cpu`.
pub const BACKEND_VARIABLE: &str = "WGPU_PERSISTENCE_BACKEND";

/// How much an adapter is preferred (lower first): a software adapter (device type `Cpu`) last.
fn preference(info: &wgpu::AdapterInfo) -> u8 {
    match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// The preferred adapter of the primary backends (Vulkan, Metal, DX12; `WGPU_BACKEND` narrows them).
/// A software adapter (lavapipe/llvmpipe, WARP) is taken only when `software` allows it: the CPU
/// backend is tens of times faster than one.
fn find_adapter(software: bool) -> Result<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(desc.with_env());
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
    adapters.sort_by_key(|a| preference(&a.get_info()));
    let skipped = adapters
        .iter()
        .map(|a| a.get_info())
        .find(|info| info.device_type == wgpu::DeviceType::Cpu);
    match adapters
        .into_iter()
        .find(|a| software || a.get_info().device_type != wgpu::DeviceType::Cpu)
    {
        Some(adapter) => Ok(adapter),
        None => Err(Error::NoAdapter(match skipped {
            Some(info) => format!(
                "skipped the software adapter '{}' ({:?}): the CPU backend is faster; ask for it \
                 with BackendChoice::Gpu, --backend gpu, backend=\"gpu\" in Python or \
                 {BACKEND_VARIABLE}=gpu",
                info.name, info.backend
            ),
            None => "no Vulkan, Metal or DX12 adapter found".into(),
        })),
    }
}

impl Context {
    /// A context on the best available adapter, or on the CPU backend if there is none.
    pub fn new() -> Result<Self> {
        Self::with_backend(BackendChoice::Auto)
    }

    /// A context with an explicit backend choice. `Auto` takes a hardware adapter when there is one
    /// and the CPU backend otherwise, and says why in [`Self::fallback_reason`]; the environment
    /// variable `WGPU_PERSISTENCE_BACKEND` (`auto`, `gpu`, `cpu`) sets what `Auto` means. `Gpu` takes
    /// any adapter, a software one too (lavapipe: what the GPU tests run on), or fails.
    pub fn with_backend(choice: BackendChoice) -> Result<Self> {
        let choice = match choice {
            BackendChoice::Auto => match std::env::var(BACKEND_VARIABLE) {
                Ok(value) if !value.is_empty() => value.parse().map_err(|e| match e {
                    Error::InvalidArgument(m) => {
                        Error::InvalidArgument(format!("{BACKEND_VARIABLE}={value}: {m}"))
                    }
                    other => other,
                })?,
                _ => BackendChoice::Auto,
            },
            explicit => explicit,
        };
        let on_gpu = |software: bool| -> Result<Self> {
            let adapter = find_adapter(software)?;
            let info = adapter.get_info();
            let (device, queue) = request_shared_device(&adapter)?;
            Ok(Self {
                engine: Some(Arc::new(GpuEngine::new(device, queue, info, true))),
                fallback_reason: None,
            })
        };
        match choice {
            BackendChoice::Cpu => Ok(Self::cpu()),
            BackendChoice::Gpu => on_gpu(true),
            BackendChoice::Auto => match on_gpu(false) {
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
    /// default limits suffice (no kernel binds more than 8 storage buffers, the default
    /// `max_storage_buffers_per_shader_stage`, besides its uniform parameters). Every binding but the
    /// pair records holds at most 4 bytes per vertex of a graph of the batch (per pixel for the
    /// ranking), and the records (24 bytes each) are replaced by a compaction on the host where they
    /// would not fit; so the largest input is `max_storage_buffer_binding_size / 4` vertices per graph
    /// (33.5M under the default 128 MiB: 4096^2 images and 256^3 volumes fit); larger ones are refused
    /// with [`Error::TooLarge`]. The device's lost callback stays the application's: a lost device
    /// shows as an error from the next call.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        Self {
            engine: Some(Arc::new(GpuEngine::new(device, queue, info, false))),
            fallback_reason: None,
        }
    }

    fn pipeline(&self) -> Pipeline<'_> {
        Pipeline {
            engine: self.engine.as_deref(),
        }
    }

    /// Which backend answers.
    pub fn backend(&self) -> Backend {
        self.pipeline().backend()
    }

    /// Why `Auto` answers on the CPU, if it does: no adapter, or only a software one (skipped).
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// The device and queue this context computes on (`None` on the CPU backend): to share them with
    /// another library (a renderer, burn) when the context made them. Work we submit and work they
    /// submit run in queue order.
    pub fn device_and_queue(&self) -> Option<(&wgpu::Device, &wgpu::Queue)> {
        self.engine.as_ref().map(|e| (e.device(), e.queue()))
    }

    /// The adapter in use (`None` on the CPU backend).
    pub fn adapter_info(&self) -> Option<&wgpu::AdapterInfo> {
        self.engine.as_ref().map(|e| e.adapter_info())
    }

    /// Statistics of the last GPU run on this context (from any thread), or zeros on the CPU backend.
    pub fn last_run_stats(&self) -> RunStats {
        self.engine
            .as_ref()
            .map(|e| e.last_stats())
            .unwrap_or_default()
    }

    /// Times every GPU kernel of the next runs (a timestamp after each dispatch, summed per kernel in
    /// [`RunStats::kernel_seconds`]); returns whether this context can (a GPU whose adapter writes
    /// timestamps inside compute passes). Off by default: the timestamps cost time of their own, so
    /// the stage times and the wall time of a timed run are not those of an untimed one.
    pub fn set_kernel_timings(&self, on: bool) -> bool {
        self.engine
            .as_ref()
            .is_some_and(|e| e.set_kernel_timings(on))
    }

    /// The diagram of one item: a 2D view is an image (H0, H1), a 3D view a volume (H0, H1, H2;
    /// the V and T constructions only). Any strides, any supported pixel type.
    ///
    /// A GPU context pairs a volume's H0 and H2 on the GPU and reduces H1 on the host (its diagrams
    /// say `Backend::Gpu`). With `keep_zero_persistence`, every pair of the cell complex is reported:
    /// in V that is one H0 pair per voxel, as for an image, but the T complex of a volume has more
    /// vertices than voxels (`(D+1)(H+1)(W+1)`), each with its H0 pair. A T volume whose complex has
    /// `2^31 / 3` vertices or more (only thin ones, such as `1 x 1 x N` with `N` past about 179M) is
    /// refused with [`Error::TooLarge`].
    ///
    /// ```
    /// use wgpu_persistence::{Context, Options};
    /// // a hollow 3x3x3 cube of ones around a zero: superlevel, one component and one void
    /// let mut volume = ndarray::Array3::<f32>::ones((3, 3, 3));
    /// volume[[1, 1, 1]] = 0.0;
    /// let d = Context::cpu().compute(volume.view(), &Options::default().superlevel()).unwrap();
    /// assert_eq!((d.dim(0).len(), d.dim(1).len(), d.dim(2).len()), (1, 0, 1));
    /// assert_eq!(d.dim(2)[0].death_index, Some(13)); // the void dies when the centre enters
    /// ```
    pub fn compute<T: Pixel, D: Dimension>(
        &self,
        item: ArrayView<'_, T, D>,
        options: &Options,
    ) -> Result<Diagram> {
        if let Some(data) = item.as_slice() {
            // row-major already: as a slice (read in place where it can be)
            return self.compute_slice(data, item.shape(), options);
        }
        first(self.pipeline().diagrams(&Stack::item(item)?, options)?)
    }

    /// The diagram of one item given as a row-major slice and its axes: `[H, W]` for an image,
    /// `[D, H, W]` for a volume.
    pub fn compute_slice<T: Pixel>(
        &self,
        data: &[T],
        dims: &[usize],
        options: &Options,
    ) -> Result<Diagram> {
        if let (Some(values), &[height, width]) = (T::as_f32(data), dims) {
            if Some(values.len()) == height.checked_mul(width) {
                return self
                    .pipeline()
                    .image_in_place(values, [height, width], options);
            }
        }
        first(
            self.pipeline()
                .diagrams(&Stack::slice(data, dims)?, options)?,
        )
    }

    /// The diagrams of a batch: `B x H x W` images or `B x D x H x W` volumes (any strides). In one
    /// submission on the GPU; on the CPU backend the items are spread over all cores (rayon's global
    /// pool, sized by `RAYON_NUM_THREADS` or the available cores).
    pub fn compute_batch<T: Pixel, D: Dimension>(
        &self,
        batch: ArrayView<'_, T, D>,
        options: &Options,
    ) -> Result<Vec<Diagram>> {
        self.pipeline().diagrams(&Stack::batch(batch)?, options)
    }

    /// The topological loss of one probability map (`H x W`) or volume (`D x H x W`, priors
    /// `beta_0, beta_1, beta_2`) and its gradient, in the map's shape (`forward` gives `loss`;
    /// `backward` multiplies `gradient` by the incoming scalar gradient).
    pub fn topological_loss<T: Pixel, D: Dimension>(
        &self,
        map: ArrayView<'_, T, D>,
        prior: &TopologicalLoss,
    ) -> Result<LossResult<D>>
    where
        D::Larger: ndarray::RemoveAxis + Dimension<Smaller = D>,
    {
        // a NaN is named first, as for every input
        let stack = Stack::item(map.view())?;
        check_exact_probabilities(&map)?;
        batch_loss::<D::Larger>(&self.pipeline(), &stack, std::slice::from_ref(prior))?.into_item(0)
    }

    /// The topological loss of each map of a batch (`B x H x W`, or `B x D x H x W` volumes), with one
    /// prior for all (`priors` of length 1) or one per map; the diagrams in one GPU submission, the
    /// gradient in one dispatch.
    pub fn topological_loss_batch<T: Pixel, D: Dimension>(
        &self,
        maps: ArrayView<'_, T, D>,
        priors: &[TopologicalLoss],
    ) -> Result<BatchLossResult<D>> {
        let stack = Stack::batch(maps.view())?;
        check_exact_probabilities(&maps)?;
        batch_loss(&self.pipeline(), &stack, priors)
    }

    /// What the loss of each map of a batch is made of (see [`TopologicalLoss::terms`]), with the
    /// superlevel diagram of each map, after the same checks as [`Self::topological_loss_batch`]: for a
    /// framework that computes the loss from the map's values itself (its own autodiff, on its own
    /// device) with the crate's choice of features.
    pub fn loss_terms_batch<T: Pixel, D: Dimension>(
        &self,
        maps: ArrayView<'_, T, D>,
        priors: &[TopologicalLoss],
    ) -> Result<Vec<(LossTerms, Diagram)>> {
        let stack = Stack::batch(maps.view())?;
        check_exact_probabilities(&maps)?;
        batch_terms(&self.pipeline(), &stack, priors)
    }

    /// A [`ResidentPlan`] for the diagrams of `B x H x W` images or `B x D x H x W` volumes (`dims`)
    /// with `options`, on this context's device: for pixels that are already on the device,
    /// recorded into the caller's encoder (see the plan; H1 of a volume is reduced on the host when
    /// its diagrams are read). A context on the CPU backend has no device: an error.
    pub fn resident_plan(&self, dims: &[usize], options: &Options) -> Result<ResidentPlan> {
        match &self.engine {
            Some(engine) => ResidentPlan::new(engine.clone(), dims, options, None),
            None => Err(Error::InvalidArgument(
                "a resident plan records GPU work: this context computes on the CPU backend \
                 (make it with BackendChoice::Gpu or from_device)"
                    .into(),
            )),
        }
    }

    /// A [`ResidentPlan`] that also computes the topological loss of `B x H x W` probability maps
    /// (`dims`) on the device, with one prior for all maps (`priors` of length 1) or one per map
    /// (same construction and kind): see [`ResidentPlan::record_loss`]. The numbers are those of
    /// [`Self::topological_loss_batch`], bit for bit.
    pub fn resident_loss_plan(
        &self,
        dims: &[usize],
        priors: &[TopologicalLoss],
    ) -> Result<ResidentPlan> {
        let options = priors
            .first()
            .map(|p| p.options())
            .ok_or_else(|| Error::InvalidArgument("no prior given".into()))?;
        match &self.engine {
            Some(engine) => ResidentPlan::new(engine.clone(), dims, &options, Some(priors)),
            None => Err(Error::InvalidArgument(
                "a resident plan records GPU work: this context computes on the CPU backend \
                 (make it with BackendChoice::Gpu or from_device)"
                    .into(),
            )),
        }
    }

    /// The GPU engine, for the crate's test hooks.
    pub(crate) fn engine(&self) -> Option<&GpuEngine> {
        self.engine.as_deref()
    }

    /// Caps capacities below the adapter's (for tests).
    pub(crate) fn set_capacity_override(&self, capacity: CapacityOverride) {
        if let Some(e) = &self.engine {
            e.set_capacity_override(capacity);
        }
    }
}
