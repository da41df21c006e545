//! The backend operations behind [`crate::topological_loss`] (one loss per map and the gradient map
//! `dL/dp`) and [`crate::diagrams`], for each burn backend. On burn's wgpu backend, on a device shared with the library, the
//! loss of `N x H x W` maps is computed by a [`wgpu_persistence::ResidentPlan`] from the tensor's own
//! buffer, into buffers burn allocated; everywhere else (ndarray, volumes, a wgpu device burn made
//! on its own) the maps are read to the host and go through
//! [`Context::topological_loss_batch`](wgpu_persistence::Context::topological_loss_batch). The
//! autodiff backend saves the gradient map and multiplies it by the upstream gradient of each map.
//! The diagrams take the same two routes (on a shared device a plan of diagrams alone reads the
//! tensor's buffer, images and volumes alike; its records and the maps' values are then read to the
//! host to assemble them, and a volume's H1 is reduced there) and leave them in the crate's call
//! table: the operation itself returns a one-element placeholder.
#![allow(deprecated)] // burn's NdArray backend is deprecated in 0.22 (in favour of Flex); still supported

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{unary, Backward, Ops, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    backend_extension, Autodiff, AutodiffBackend, Backend, FloatDType, NdArray, TensorMetadata,
};
use burn::tensor::{DType, Shape, TensorData};
use burn_cubecl::cubecl::wgpu::{AutoCompiler, WgpuServer};
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::{CubeBackend, CubeDevice};
use wgpu_persistence::ndarray::{ArrayView3, ArrayView4};
use wgpu_persistence::{BufferAt, Context, Diagram, ResidentPlan, TopologicalLoss};

use crate::registry;
use crate::{Error, Result};

/// The topological loss as a burn backend operation. `call` names the call in the crate's table
/// (its priors; where its error goes).
#[backend_extension(Cube, NdArray, Autodiff, Fusion)]
pub trait TopologyBackend: Backend {
    /// The loss of each map (`[N]`) and `dL_b/dp` in the maps' shape.
    #[fusion(meta = |maps, _call| (
        burn::backend::fusion::custom::TensorSpec::new(Shape::new([maps.shape[0]]), maps.dtype),
        maps.clone(),
    ))]
    fn loss_and_gradient(
        maps: FloatTensor<Self>,
        call: u64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        host_loss::<Self>(maps, call, None)
    }

    /// The loss of each map; with autodiff, the gradient map is kept for the backward pass.
    #[fusion(default)]
    fn topological_loss(maps: FloatTensor<Self>, call: u64) -> FloatTensor<Self> {
        Self::loss_and_gradient(maps, call).0
    }

    /// The diagrams of `N x H x W` images or `N x D x H x W` volumes with the options of `call`,
    /// left in the crate's call table; returns a placeholder `[1]` tensor (zero).
    #[fusion(dtype = DType::F32, shape = Shape::new([1]))]
    fn diagrams(maps: FloatTensor<Self>, call: u64) -> FloatTensor<Self> {
        host_diagrams::<Self>(maps, call, None)
    }
}

impl TopologyBackend for NdArray {}

impl TopologyBackend for CubeBackend {
    fn loss_and_gradient(maps: CubeTensor, call: u64) -> (CubeTensor, CubeTensor) {
        let shared = match &maps.device {
            CubeDevice::Wgpu(device) => registry::shared(device),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        match shared {
            Some(shared) if maps.meta.shape().num_dims() == 3 => resident_loss(&shared, maps, call),
            Some(shared) => host_loss::<Self>(maps, call, Some(&shared.context)),
            None => host_loss::<Self>(maps, call, None),
        }
    }

    fn diagrams(maps: CubeTensor, call: u64) -> CubeTensor {
        let shared = match &maps.device {
            CubeDevice::Wgpu(device) => registry::shared(device),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        match shared {
            Some(shared) if matches!(maps.meta.shape().num_dims(), 3 | 4) => {
                resident_diagrams(&shared, maps, call)
            }
            Some(shared) => host_diagrams::<Self>(maps, call, Some(&shared.context)),
            None => host_diagrams::<Self>(maps, call, None),
        }
    }
}

/// The saved gradient map times the upstream gradient of each map.
#[derive(Debug)]
struct LossBackward;

impl<B: Backend> Backward<B, 1> for LossBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let gradient = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |upstream| {
            let shape = gradient.shape();
            let mut per_map = vec![shape[0]];
            per_map.resize(shape.num_dims(), 1);
            let upstream = B::float_reshape(upstream, Shape::from(per_map));
            B::float_mul(gradient, B::float_expand(upstream, shape))
        });
    }
}

impl<B: TopologyBackend, C: CheckpointStrategy> TopologyBackend for Autodiff<B, C> {
    fn loss_and_gradient(
        maps: FloatTensor<Self>,
        call: u64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (loss, gradient) = B::loss_and_gradient(maps.into_primitive(), call);
        (Self::from_inner(loss), Self::from_inner(gradient))
    }

    fn diagrams(maps: FloatTensor<Self>, call: u64) -> FloatTensor<Self> {
        Self::from_inner(B::diagrams(maps.into_primitive(), call))
    }

    fn topological_loss(maps: FloatTensor<Self>, call: u64) -> FloatTensor<Self> {
        let node = maps.node();
        let (loss, gradient) = B::loss_and_gradient(maps.into_primitive(), call);
        match LossBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(gradient, loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }
}

/// `shared` (a shared device's context) when given, else the context the host path computes on
/// (the best adapter, or the CPU backend).
pub(crate) fn host_context(shared: Option<&Context>) -> Result<&Context> {
    if let Some(context) = shared {
        return Ok(context);
    }
    static HOST: std::sync::OnceLock<std::result::Result<Context, String>> =
        std::sync::OnceLock::new();
    HOST.get_or_init(|| Context::new().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Device(format!("no context for the host path: {e}")))
}

/// The loss of `N x H x W` maps or `N x D x H x W` volumes through the host API, on `context` (a
/// shared device's: a volume's H0 and H2 on its GPU, no second device) or the host path's.
fn host_loss<B: Backend>(
    maps: FloatTensor<B>,
    call: u64,
    context: Option<&Context>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let shape = maps.shape();
    let device = maps.device();
    let outcome = read_f32::<B>(maps).and_then(|values| {
        let priors = call_priors(call)?;
        let dims: Vec<usize> = shape.iter().copied().collect();
        host_batch_loss(host_context(context)?, &dims, &values, &priors)
    });
    match outcome {
        Ok((losses, gradient)) => {
            registry::report(call, Ok(None));
            (
                B::float_from_data(TensorData::new(losses, [shape[0]]), &device),
                B::float_from_data(TensorData::new(gradient, shape), &device),
            )
        }
        Err(e) => {
            registry::report(call, Err(e));
            zeros::<B>(&shape, &device)
        }
    }
}

/// The diagrams of `N x H x W` images or `N x D x H x W` volumes through the host API, on `context`
/// (a shared device's: a volume's H0 and H2 on its GPU) or the host path's.
fn host_diagrams<B: Backend>(
    maps: FloatTensor<B>,
    call: u64,
    context: Option<&Context>,
) -> FloatTensor<B> {
    let shape = maps.shape();
    let device = maps.device();
    let outcome = read_f32::<B>(maps).and_then(|values| {
        let options = call_options(call)?;
        let dims: Vec<usize> = shape.iter().copied().collect();
        host_batch_diagrams(host_context(context)?, &dims, &values, &options)
    });
    match outcome {
        Ok(diagrams) => {
            registry::report(call, Ok(None));
            registry::report_diagrams(call, diagrams);
        }
        Err(e) => registry::report(call, Err(e)),
    }
    B::float_zeros(Shape::new([1]), &device, FloatDType::F32)
}

/// The diagrams of images (rank 3) or volumes (rank 4) given as values.
fn host_batch_diagrams(
    context: &Context,
    dims: &[usize],
    values: &[f32],
    options: &wgpu_persistence::Options,
) -> Result<Vec<Diagram>> {
    let shape_error = |e: wgpu_persistence::ndarray::ShapeError| Error::Tensor(e.to_string());
    Ok(match *dims {
        [n, h, w] => context.compute_batch(
            ArrayView3::from_shape([n, h, w], values).map_err(shape_error)?,
            options,
        )?,
        [n, d, h, w] => context.compute_batch(
            ArrayView4::from_shape([n, d, h, w], values).map_err(shape_error)?,
            options,
        )?,
        _ => {
            return Err(Error::Tensor(format!(
                "a tensor of shape {dims:?}: diagrams takes N x H x W images or N x D x H x W \
                 volumes"
            )))
        }
    })
}

/// The losses and the gradient of maps (rank 3) or volumes (rank 4) given as values.
pub(crate) fn host_batch_loss(
    context: &Context,
    dims: &[usize],
    values: &[f32],
    priors: &[TopologicalLoss],
) -> Result<(Vec<f32>, Vec<f32>)> {
    let result = match *dims {
        [n, h, w] => {
            let view = ArrayView3::from_shape([n, h, w], values)
                .map_err(|e| Error::Tensor(e.to_string()))?;
            let r = context.topological_loss_batch(view, priors)?;
            (r.losses, r.gradient.into_raw_vec_and_offset().0)
        }
        [n, d, h, w] => {
            let view = ArrayView4::from_shape([n, d, h, w], values)
                .map_err(|e| Error::Tensor(e.to_string()))?;
            let r = context.topological_loss_batch(view, priors)?;
            (r.losses, r.gradient.into_raw_vec_and_offset().0)
        }
        _ => {
            return Err(Error::Tensor(format!(
                "a tensor of shape {dims:?}: the loss takes N x H x W maps or N x D x H x W volumes"
            )))
        }
    };
    Ok(result)
}

fn call_priors(call: u64) -> Result<Vec<TopologicalLoss>> {
    registry::priors(call).ok_or_else(|| {
        Error::Tensor(format!(
            "the loss operation ran after its call ({call}) had returned; call \
             wgpu_persistence_burn::topological_loss, not the backend operation"
        ))
    })
}

fn call_options(call: u64) -> Result<wgpu_persistence::Options> {
    registry::options(call).ok_or_else(|| {
        Error::Tensor(format!(
            "the diagrams operation ran after its call ({call}) had returned, or for a loss call; \
             call wgpu_persistence_burn::diagrams, not the backend operation"
        ))
    })
}

fn read_f32<B: Backend>(tensor: FloatTensor<B>) -> Result<Vec<f32>> {
    let tensor = if tensor.dtype() == DType::F32 {
        tensor
    } else {
        B::float_cast(tensor, FloatDType::F32)
    };
    let data = burn::backend::read_sync(B::float_into_data(tensor))
        .map_err(|e| Error::Burn(format!("{e:?}")))?;
    data.as_slice::<f32>()
        .map(<[f32]>::to_vec)
        .map_err(|e| Error::Burn(format!("{e:?}")))
}

fn zeros<B: Backend>(shape: &Shape, device: &B::Device) -> (FloatTensor<B>, FloatTensor<B>) {
    (
        B::float_zeros(Shape::new([shape[0]]), device, FloatDType::F32),
        B::float_zeros(shape.clone(), device, FloatDType::F32),
    )
}

/// The loss of `N x H x W` maps on a shared wgpu device: a resident plan reads the tensor's buffer
/// where burn keeps it and writes the losses and the gradient into two tensors burn allocated.
fn resident_loss(
    shared: &registry::Shared,
    maps: CubeTensor,
    call: u64,
) -> (CubeTensor, CubeTensor) {
    let shape = maps.meta.shape().clone();
    let device = maps.device.clone();
    let client = maps.client.clone();
    let maps = contiguous_f32(maps);
    let n = shape[0];
    let pixels = shape.num_elements();
    // every kernel burn has recorded so far has run: the memory `empty` hands out below may have
    // been freed by a tensor whose last readers were still waiting in an encoder
    if let Err(e) = pollster::block_on(client.sync()) {
        registry::report(call, Err(Error::Burn(format!("{e:?}"))));
    }
    let losses = client.empty(n * 4);
    let gradient = client.empty(pixels * 4);
    let outcome = (|| -> Result<wgpu_persistence::RunStats> {
        let dims: Vec<usize> = shape.iter().copied().collect();
        let priors = call_priors(call)?;
        let plan = shared.plan(&dims, &priors)?;
        let (ib, io, input) = resource(&client, &maps.handle)?;
        let (lb, lo, loss_out) = resource(&client, &losses)?;
        let (gb, go, gradient_out) = resource(&client, &gradient)?;
        let plan = submit(shared, &client, &plan, "loss", |plan, encoder| {
            // this call's priors, uploaded with the recording when they are not the plan's already
            plan.set_priors(&priors)?;
            plan.record_loss(
                encoder,
                BufferAt::new(&ib, io),
                BufferAt::new(&gb, go),
                BufferAt::new(&lb, lo),
            )
        })?;
        let status = plan.finish()?;
        drop((input, loss_out, gradient_out));
        Ok(status.stats)
    })();
    registry::report(call, outcome.map(Some));
    (
        CubeTensor::new_contiguous(
            client.clone(),
            device.clone(),
            Shape::new([n]),
            losses,
            DType::F32,
        ),
        CubeTensor::new_contiguous(client, device, shape, gradient, DType::F32),
    )
}

/// The tensor as contiguous `f32` (the layout a resident plan reads).
fn contiguous_f32(maps: CubeTensor) -> CubeTensor {
    let maps = if maps.dtype != DType::F32 {
        CubeBackend::float_cast(maps, FloatDType::F32)
    } else {
        maps
    };
    if maps.is_contiguous() {
        maps
    } else {
        burn_cubecl::kernel::into_contiguous(maps)
    }
}

/// The wgpu buffer where burn keeps `handle`'s memory, the byte offset in it, and the guard that
/// keeps that memory burn's until it is dropped.
fn resource(
    client: &burn_cubecl::cubecl::client::Client,
    handle: &burn_cubecl::cubecl::server::Handle,
) -> Result<(wgpu::Buffer, u64, impl Sized)> {
    let managed = client
        .get_resource::<WgpuServer<AutoCompiler>>(handle.clone())
        .map_err(|e| Error::Burn(format!("{e:?}")))?;
    let r = managed.resource();
    Ok((r.buffer.clone(), r.offset, managed))
}

/// Flushes burn's queued work (the kernels that made the maps go to the queue before ours), locks
/// `plan`, lets `record` record into a new encoder on the shared device and submits it on the
/// shared queue; returns the locked plan, for its `finish`.
fn submit<'a>(
    shared: &registry::Shared,
    client: &burn_cubecl::cubecl::client::Client,
    plan: &'a std::sync::Mutex<ResidentPlan>,
    what: &str,
    record: impl FnOnce(&ResidentPlan, &mut wgpu::CommandEncoder) -> wgpu_persistence::Result<()>,
) -> Result<std::sync::MutexGuard<'a, ResidentPlan>> {
    client.flush().map_err(|e| Error::Burn(format!("{e:?}")))?;
    let (device, queue) = shared
        .context
        .device_and_queue()
        .ok_or_else(|| Error::Device("the shared context has no device".into()))?;
    let plan = registry::lock(plan);
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some(&format!("wgpu-persistence-burn {what}")),
    });
    record(&plan, &mut encoder)?;
    queue.submit([encoder.finish()]);
    Ok(plan)
}

/// The diagrams of `N x H x W` images or `N x D x H x W` volumes on a shared wgpu device: a plan of
/// diagrams alone reads the tensor's buffer where burn keeps it; its records and the maps' values
/// are read back to assemble the diagrams (and, for volumes, to reduce H1 on the host).
fn resident_diagrams(shared: &registry::Shared, maps: CubeTensor, call: u64) -> CubeTensor {
    let shape = maps.meta.shape().clone();
    let device = maps.device.clone();
    let client = maps.client.clone();
    let maps = contiguous_f32(maps);
    let outcome = (|| -> Result<(Vec<Diagram>, wgpu_persistence::RunStats)> {
        let dims: Vec<usize> = shape.iter().copied().collect();
        let options = call_options(call)?;
        let plan = shared.diagram_plan(&dims, &options)?;
        let (ib, io, input) = resource(&client, &maps.handle)?;
        let plan = submit(shared, &client, &plan, "diagrams", |plan, encoder| {
            plan.record(encoder, &ib, io)
        })?;
        let status = plan.finish()?;
        let diagrams = plan.read_diagrams()?;
        drop(input);
        Ok((diagrams, status.stats))
    })();
    match outcome {
        Ok((diagrams, stats)) => {
            registry::report(call, Ok(Some(stats)));
            registry::report_diagrams(call, diagrams);
        }
        Err(e) => registry::report(call, Err(e)),
    }
    CubeBackend::float_zeros(Shape::new([1]), &device, FloatDType::F32)
}
