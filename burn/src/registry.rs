//! Two process-wide tables: the wgpu devices burn shares with a [`Context`] (filled by
//! [`crate::init_wgpu`] and [`crate::share_wgpu`]), and the calls in flight (their priors or
//! options going in, their diagrams or error coming out: the backend operation may run later, on
//! burn's fusion thread, and can return only tensors).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use burn_cubecl::cubecl::wgpu::WgpuDevice;
use wgpu_persistence::{Context, Diagram, LossKind, Options, ResidentPlan, TopologicalLoss};

/// Plans kept per shared device (the most recently used ones).
const PLANS_KEPT: usize = 8;

/// A wgpu device burn and the library share: the library's context on it, and the resident plans
/// made for the shapes seen so far.
pub(crate) struct Shared {
    pub(crate) context: Arc<Context>,
    plans: Mutex<Vec<(PlanKey, Arc<Mutex<ResidentPlan>>)>>,
}

/// What fixes a plan: the maps' shape, the construction and the kind of loss, `None` for a plan
/// of diagrams alone (a loss plan's priors change from call to call:
/// [`ResidentPlan::set_priors`]).
#[derive(PartialEq)]
struct PlanKey {
    dims: Vec<usize>,
    options: Options,
    kind: Option<LossKind>,
}

impl Shared {
    /// The loss plan for `dims` and the construction and kind of `priors` (none is an error).
    pub(crate) fn plan(
        &self,
        dims: &[usize],
        priors: &[TopologicalLoss],
    ) -> wgpu_persistence::Result<Arc<Mutex<ResidentPlan>>> {
        let first = priors
            .first()
            .ok_or_else(|| wgpu_persistence::Error::InvalidArgument("no prior given".into()))?;
        let key = PlanKey {
            dims: dims.to_vec(),
            options: first.options(),
            kind: Some(first.kind),
        };
        self.kept(key, || self.context.resident_loss_plan(dims, priors))
    }

    /// The plan of diagrams alone for `dims` and `options`.
    pub(crate) fn diagram_plan(
        &self,
        dims: &[usize],
        options: &Options,
    ) -> wgpu_persistence::Result<Arc<Mutex<ResidentPlan>>> {
        let key = PlanKey {
            dims: dims.to_vec(),
            options: *options,
            kind: None,
        };
        self.kept(key, || self.context.resident_plan(dims, options))
    }

    /// The plan under `key`, made by `make` on first use; the least recently used one goes when
    /// more than [`PLANS_KEPT`] are kept.
    fn kept(
        &self,
        key: PlanKey,
        make: impl FnOnce() -> wgpu_persistence::Result<ResidentPlan>,
    ) -> wgpu_persistence::Result<Arc<Mutex<ResidentPlan>>> {
        let mut plans = lock(&self.plans);
        if let Some(i) = plans.iter().position(|(k, _)| *k == key) {
            let entry = plans.remove(i);
            let plan = entry.1.clone();
            plans.push(entry);
            return Ok(plan);
        }
        let plan = Arc::new(Mutex::new(make()?));
        if plans.len() == PLANS_KEPT {
            plans.remove(0);
        }
        plans.push((key, plan.clone()));
        Ok(plan)
    }
}

fn devices() -> &'static Mutex<HashMap<WgpuDevice, Arc<Shared>>> {
    static DEVICES: OnceLock<Mutex<HashMap<WgpuDevice, Arc<Shared>>>> = OnceLock::new();
    DEVICES.get_or_init(Default::default)
}

/// Locks, also a mutex a panicking thread left poisoned (the tables stay consistent: every
/// update is one insert or remove).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn register(device: WgpuDevice, context: Arc<Context>) {
    lock(devices()).insert(
        device,
        Arc::new(Shared {
            context,
            plans: Mutex::new(Vec::new()),
        }),
    );
}

pub(crate) fn shared(device: &WgpuDevice) -> Option<Arc<Shared>> {
    lock(devices()).get(device).cloned()
}

/// One call of [`crate::topological_loss`] (its priors) or of [`crate::diagrams`] (its options):
/// what its backend operation computed, and the error it met.
#[derive(Default)]
pub(crate) struct Call {
    pub(crate) priors: Vec<TopologicalLoss>,
    pub(crate) options: Option<Options>,
    pub(crate) diagrams: Option<Vec<Diagram>>,
    pub(crate) error: Option<crate::Error>,
    /// What the resident plan's `finish` counted, when the loss was computed on the device from
    /// the tensor's own buffer (`None`: through the host).
    pub(crate) resident: Option<wgpu_persistence::RunStats>,
}

fn calls() -> &'static Mutex<HashMap<u64, Call>> {
    static CALLS: OnceLock<Mutex<HashMap<u64, Call>>> = OnceLock::new();
    CALLS.get_or_init(Default::default)
}

/// Opens a call with its priors: its number, which the backend operation carries.
pub(crate) fn open_call(priors: &[TopologicalLoss]) -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    lock(calls()).insert(
        id,
        Call {
            priors: priors.to_vec(),
            ..Call::default()
        },
    );
    id
}

/// Opens a call of [`crate::diagrams`] with its options.
pub(crate) fn open_diagram_call(options: &Options) -> u64 {
    let id = open_call(&[]);
    if let Some(call) = lock(calls()).get_mut(&id) {
        call.options = Some(*options);
    }
    id
}

/// The options of diagram call `id` (none: a call that was closed, or a loss call).
pub(crate) fn options(id: u64) -> Option<Options> {
    lock(calls()).get(&id).and_then(|c| c.options)
}

/// Leaves the diagrams call `id` computed.
pub(crate) fn report_diagrams(id: u64, diagrams: Vec<Diagram>) {
    if let Some(call) = lock(calls()).get_mut(&id) {
        call.diagrams = Some(diagrams);
    }
}

/// The priors of call `id` (none: a call that was closed, which the operation reports).
pub(crate) fn priors(id: u64) -> Option<Vec<TopologicalLoss>> {
    lock(calls()).get(&id).map(|c| c.priors.clone())
}

/// Notes how call `id` ended inside the backend operation.
pub(crate) fn report(
    id: u64,
    outcome: std::result::Result<Option<wgpu_persistence::RunStats>, crate::Error>,
) {
    if let Some(call) = lock(calls()).get_mut(&id) {
        match outcome {
            Ok(resident) => call.resident = resident,
            Err(e) => call.error = Some(e),
        }
    }
}

pub(crate) fn close_call(id: u64) -> Option<Call> {
    lock(calls()).remove(&id)
}
