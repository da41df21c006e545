//! The topological loss of [wgpu-persistence](wgpu_persistence) for [burn](burn) 0.22 tensors, with
//! autodiff, and the persistence diagrams of a tensor.
//!
//! ```no_run
//! # fn main() -> wgpu_persistence_burn::Result<()> {
//! use burn::tensor::Tensor;
//! use wgpu_persistence_burn::{init_wgpu, topological_loss, TopologicalLoss};
//!
//! // burn's wgpu device, shared with the library (once per process)
//! let device = init_wgpu()?.autodiff();
//! let maps = Tensor::<3>::ones([4, 28, 28], &device).mul_scalar(0.5).require_grad();
//! // one ring per map: one component (beta_0 = 1) and one hole (beta_1 = 1)
//! let losses = topological_loss(maps.clone(), &[TopologicalLoss::new(&[1, 1])])?; // [4]
//! let grads = losses.sum().backward();
//! let dl_dp = maps.grad(&grads); // nonzero at two pixels per pair
//! # Ok(())
//! # }
//! ```
//!
//! Where the loss is computed:
//! - **On the device, in place** ([`Route::Device`]): `N x H x W` maps on burn's wgpu backend, on a
//!   device shared with the library ([`init_wgpu`]: burn makes the device and hands it to us;
//!   [`share_wgpu`]: the application's device goes to burn and to us). A
//!   [`ResidentPlan`](wgpu_persistence::ResidentPlan) reads the maps from the wgpu buffer where
//!   burn keeps the tensor, and writes the losses and `dL/dp` into two tensors burn allocated;
//!   one 160-byte status is the only read to the host.
//! - **Through the host** ([`Route::Host`]): any other burn backend (ndarray), volumes
//!   (`N x D x H x W`: their H1 needs the host; on a shared device its context pairs their H0 and
//!   H2 on that GPU), and a wgpu device that burn made on its own (its wgpu device is out of
//!   reach). The values are read to the host, go through
//!   [`Context::topological_loss_batch`], and the results are uploaded to the tensor's device. The
//!   numbers are the same, bit for bit.
//!
//! [`diagrams`] takes the same routes, but volumes too are paired on a shared device from the
//! tensor's buffer (the pair records and values are read back to assemble the diagrams; a volume's
//! H1 is then reduced on the host); the rest goes through the host.
//!
//! Either way the call returns once the loss has been computed (an error inside it, such as a
//! value outside `[0, 1]`, is returned here, not later), with burn's fusion on or off.

mod error;
mod extension;
mod registry;

use std::sync::{Arc, OnceLock};

use burn::backend::DispatchDevice;
use burn::tensor::{DType, Device, Tensor};
use burn_cubecl::cubecl::wgpu::WgpuDevice;
use burn_cubecl::CubeDevice;

pub use error::{Error, Result};
pub use extension::TopologyBackend;
pub use wgpu_persistence::{
    Construction, Context, Diagram, LossKind, Options, PersistencePair, RunStats, TopologicalLoss,
};

/// Where a loss was computed (see the crate's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// On the tensor's wgpu device, from the tensor's own buffer.
    Device,
    /// Read to the host, through the library's host API.
    Host,
}

/// burn's wgpu device (its default selector), made by burn and shared with the library: burn
/// requests it with the adapter's features and limits, and the library computes on the same
/// wgpu device and queue. Once per process: later calls return the same device. It must be the
/// first use of burn's default wgpu device (one made earlier by a tensor operation cannot hand out
/// its wgpu device: an error says so). Set `WGPU_BACKEND` or burn's options to choose the adapter.
pub fn init_wgpu() -> Result<Device> {
    static DEVICE: OnceLock<std::result::Result<Device, String>> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let (device, setup) = Device::wgpu_options().init_with_setup().map_err(|e| {
                format!(
                    "{e} (init_wgpu must come before any other use of burn's default wgpu device)"
                )
            })?;
            let key = wgpu_device_of(&device)
                .ok_or_else(|| "burn's wgpu device is not a wgpu device".to_string())?;
            let context = Context::from_device(setup.device, setup.queue, setup.adapter.get_info());
            registry::register(key, Arc::new(context));
            Ok(device)
        })
        .clone()
        .map_err(Error::Wgpu)
}

/// Gives the application's wgpu device to burn and to the library: the burn device to make tensors
/// on (once per device: each call registers a new device with burn). `device` must have been
/// requested with the features and limits of `adapter` that burn's kernels assume
/// ([`wgpu_persistence::request_shared_device`] does that); one made with fewer is refused here,
/// where burn would fail later in a kernel.
pub fn share_wgpu(
    instance: wgpu::Instance,
    adapter: wgpu::Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
) -> Result<Device> {
    check_shareable(&adapter, &device)?;
    let info = adapter.get_info();
    let setup = burn::tensor::wgpu::WgpuSetup {
        instance,
        adapter,
        device: device.clone(),
        queue: queue.clone(),
        backend: info.backend,
    };
    let burn_device = Device::wgpu_options()
        .setup(setup)
        .init()
        .map_err(|e| Error::Wgpu(e.to_string()))?;
    let key = wgpu_device_of(&burn_device)
        .ok_or_else(|| Error::Wgpu("burn returned a device that is not a wgpu device".into()))?;
    registry::register(key, Arc::new(Context::from_device(device, queue, info)));
    Ok(burn_device)
}

/// What burn's cube runtime reads from the adapter and then assumes the device has: the shader
/// types and subgroups it generates code for, and the workgroup limits it sizes kernels by.
fn check_shareable(adapter: &wgpu::Adapter, device: &wgpu::Device) -> Result<()> {
    use wgpu::Features as F;
    let assumed = adapter.features()
        & (F::SHADER_F16
            | F::SHADER_INT64
            | F::SHADER_F64
            | F::SHADER_FLOAT32_ATOMIC
            | F::SUBGROUP);
    let missing = assumed - device.features();
    let (a, d) = (adapter.limits(), device.limits());
    let limits = [
        (
            "max_compute_invocations_per_workgroup",
            a.max_compute_invocations_per_workgroup,
            d.max_compute_invocations_per_workgroup,
        ),
        (
            "max_compute_workgroup_size_x",
            a.max_compute_workgroup_size_x,
            d.max_compute_workgroup_size_x,
        ),
        (
            "max_compute_workgroup_size_y",
            a.max_compute_workgroup_size_y,
            d.max_compute_workgroup_size_y,
        ),
        (
            "max_compute_workgroup_size_z",
            a.max_compute_workgroup_size_z,
            d.max_compute_workgroup_size_z,
        ),
        (
            "max_compute_workgroups_per_dimension",
            a.max_compute_workgroups_per_dimension,
            d.max_compute_workgroups_per_dimension,
        ),
    ];
    let short: Vec<String> = limits
        .iter()
        .filter(|(_, want, have)| have < want)
        .map(|(name, want, have)| format!("{name} {have} (the adapter's: {want})"))
        .collect();
    if missing.is_empty() && short.is_empty() {
        return Ok(());
    }
    Err(Error::Device(format!(
        "this wgpu device cannot be shared with burn: burn's kernels assume the adapter's {} \
         (request the device with wgpu_persistence::request_shared_device)",
        [
            (!missing.is_empty()).then(|| format!("features {missing:?}")),
            (!short.is_empty()).then(|| format!("limits, and the device has {}", short.join(", "))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
    )))
}

/// The wgpu device behind a burn device (autodiff or not), if it is one.
fn wgpu_device_of(device: &Device) -> Option<WgpuDevice> {
    match device.clone().inner().as_dispatch() {
        DispatchDevice::Cube(CubeDevice::Wgpu(d)) => Some(d.clone()),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The library's context on the same wgpu device as `device`, if it is one shared by
/// [`init_wgpu`] or [`share_wgpu`].
pub fn context(device: &Device) -> Option<Arc<Context>> {
    wgpu_device_of(device)
        .and_then(|d| registry::shared(&d))
        .map(|s| s.context.clone())
}

/// Where [`topological_loss`] computes for a tensor of `dims` on `device`.
pub fn route(device: &Device, dims: &[usize]) -> Route {
    if dims.len() == 3 && context(device).is_some() {
        Route::Device
    } else {
        Route::Host
    }
}

/// The topological loss of each map of `probabilities`: `N x H x W` maps (`Tensor<3>`) or
/// `N x D x H x W` volumes (`Tensor<4>`), values in `[0, 1]`, with one prior for all maps (`priors`
/// of length 1) or one per map. Returns `[N]`, one loss per map, the numbers of
/// [`Context::topological_loss_batch`]. On an autodiff device the backward pass gives each map
/// `upstream[b] * dL_b/dp`: nonzero at the birth and death pixels of its pairs only.
pub fn topological_loss<const D: usize>(
    probabilities: Tensor<D>,
    priors: &[TopologicalLoss],
) -> Result<Tensor<1>> {
    topological_loss_with_report(probabilities, priors).map(|(loss, _)| loss)
}

/// How a call of [`topological_loss`] or [`diagrams`] went.
#[derive(Debug, Clone)]
pub struct LossReport {
    /// Where the loss (or the diagrams) was computed.
    pub route: Route,
    /// On [`Route::Device`], what the resident plan counted: hooking rounds, reruns, and the bytes
    /// that crossed the bus (`bytes_mapped`: the 160-byte status; `bytes_written`: a 16-byte
    /// stamp). `None` on [`Route::Host`].
    pub stats: Option<RunStats>,
}

/// [`topological_loss`], and how it went.
pub fn topological_loss_with_report<const D: usize>(
    probabilities: Tensor<D>,
    priors: &[TopologicalLoss],
) -> Result<(Tensor<1>, LossReport)> {
    let dims = probabilities.dims().to_vec();
    if D != 3 && D != 4 {
        return Err(Error::Tensor(format!(
            "a tensor of rank {D} (shape {dims:?}): the loss takes N x H x W maps (rank 3) or \
             N x D x H x W volumes (rank 4)"
        )));
    }
    check_values_tensor(&dims, probabilities.dtype())?;
    if priors.len() != 1 && priors.len() != dims[0] {
        return Err(Error::Tensor(format!(
            "{} priors for {} maps: give one for all or one per map",
            priors.len(),
            dims[0]
        )));
    }
    let device = probabilities.device();
    let call = registry::open_call(priors);
    let out = <burn::backend::Dispatch as TopologyBackend>::topological_loss(
        probabilities.into_dispatch(),
        call,
    );
    // with fusion on, the operation runs when the stream drains: here, so that its error (if any)
    // is this call's
    let (_, report) = close(call, device.sync())?;
    Ok((Tensor::from_dispatch(out), report))
}

/// Closes call `id` once the device has drained (`synced`): its error, or what its operation left
/// and the route it took.
fn close<E: std::fmt::Debug>(
    id: u64,
    synced: std::result::Result<(), E>,
) -> Result<(registry::Call, LossReport)> {
    let call = registry::close_call(id);
    synced.map_err(|e| Error::Burn(format!("{e:?}")))?;
    let mut call = call.ok_or_else(|| Error::Burn(format!("the record of call {id} vanished")))?;
    if let Some(e) = call.error.take() {
        return Err(e);
    }
    let report = LossReport {
        route: if call.resident.is_some() {
            Route::Device
        } else {
            Route::Host
        },
        stats: call.resident.clone(),
    };
    Ok((call, report))
}

fn check_values_tensor(dims: &[usize], dtype: DType) -> Result<()> {
    if dims.contains(&0) {
        return Err(Error::Tensor(format!(
            "an empty tensor (shape {dims:?}): every dimension needs at least one element"
        )));
    }
    match dtype {
        DType::F32 | DType::F16 | DType::BF16 => Ok(()),
        other => Err(Error::Tensor(format!(
            "{other:?} values: the library computes on f32 (f16 and bf16 convert exactly; cast \
             other types to f32 first)"
        ))),
    }
}

/// The persistence diagrams of a tensor's values, with `options`: one `H x W` image (`Tensor<2>`,
/// one diagram), `N x H x W` images (`Tensor<3>`) or `N x D x H x W` volumes (`Tensor<4>`), one
/// diagram each, the pairs of [`Context::compute_batch`]. Images and volumes on a shared wgpu device
/// ([`Route::Device`]) are paired on the device from the tensor's own buffer (a volume's H0 and
/// H2; its H1 is reduced on the host from their merges); the pair records and the values are then
/// read back to assemble the diagrams. Anything else goes through the host, on the best adapter or
/// the CPU backend.
pub fn diagrams<const D: usize>(tensor: Tensor<D>, options: &Options) -> Result<Vec<Diagram>> {
    diagrams_with_report(tensor, options).map(|(d, _)| d)
}

/// [`diagrams`], and how it went (on [`Route::Device`], `stats` are the resident plan's status
/// read: the records and values read afterwards to assemble the diagrams are not in them).
pub fn diagrams_with_report<const D: usize>(
    tensor: Tensor<D>,
    options: &Options,
) -> Result<(Vec<Diagram>, LossReport)> {
    let dims = tensor.dims().to_vec();
    check_values_tensor(&dims, tensor.dtype())?;
    let device = tensor.device();
    let primitive = match *dims.as_slice() {
        [h, w] => tensor.reshape([1, h, w]).into_dispatch(),
        [_, _, _] | [_, _, _, _] => tensor.into_dispatch(),
        _ => {
            return Err(Error::Tensor(format!(
                "a tensor of shape {dims:?}: diagrams takes an H x W image, N x H x W images or \
                 N x D x H x W volumes"
            )))
        }
    };
    let call = registry::open_diagram_call(options);
    let placeholder = Tensor::<1>::from_dispatch(
        <burn::backend::Dispatch as TopologyBackend>::diagrams(primitive, call),
    );
    // with fusion on, the operation runs when the stream drains (its placeholder still alive)
    let synced = device.sync();
    drop(placeholder);
    let (call, report) = close(call, synced)?;
    let diagrams = call
        .diagrams
        .ok_or_else(|| Error::Burn("the diagrams operation did not run".into()))?;
    Ok((diagrams, report))
}

/// For the crate's tests: runs `f` with a call number whose priors are `priors`, as
/// [`topological_loss`] does around the backend operation, and returns the operation's error.
#[doc(hidden)]
pub mod testing {
    use crate::{registry, Diagram, Error, Options, Result, Route, TopologicalLoss};

    /// As [`with_call`], for the diagrams operation: the diagrams it left and its route.
    pub fn with_diagram_call<R>(
        options: &Options,
        f: impl FnOnce(u64) -> R,
    ) -> Result<(R, Vec<Diagram>, Route)> {
        let id = registry::open_diagram_call(options);
        let out = f(id);
        let (call, report) = crate::close(id, Ok::<(), ()>(()))?;
        let diagrams = call
            .diagrams
            .ok_or_else(|| Error::Burn("the diagrams operation did not run".into()))?;
        Ok((out, diagrams, report.route))
    }

    pub fn with_call<R>(priors: &[TopologicalLoss], f: impl FnOnce(u64) -> R) -> Result<R> {
        let id = registry::open_call(priors);
        let out = f(id);
        match registry::close_call(id).and_then(|c| c.error) {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// `docs/burn.md`, whose example runs as a doc test of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../docs/burn.md")]
pub struct BurnGuide;
