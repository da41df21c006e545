//! CPU port of `shaders/boruvka_control.wgsl`: the one invocation that steers the data-dependent
//! loops without a readback, writing the indirect dispatch sizes of the next kernels (`args`, slots
//! of 3 words) from the counters the kernels keep (`control`).

use crate::layout::{
    C_CAPACITY, C_EDGES, C_EDGES_IN, C_EDGES_OUT, C_HOOKED, C_HOOKS, C_ROOTS_IN, C_ROOTS_OUT,
    C_ROUNDS, C_TARGET, C_VERTICES, MAX_GROUPS_PER_DIM, NONE, SLOT_HOOK, SLOT_JUMP,
    SLOT_SELECT_FIRST, SLOT_SELECT_REST, WG,
};

/// When in a round it runs (the shader's `MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `MODE` 0: the start of a round after the first.
    RoundStart,
    /// `MODE` 1: after the first select pass.
    AfterSelect,
    /// `MODE` 2: after the hook.
    AfterHook,
    /// `MODE` 3: the start of the first round.
    FirstRound,
}

fn set_groups(args: &mut [u32], slot: u32, items: u32) {
    let groups = items.div_ceil(WG);
    let (mut x, mut y) = (groups, 1);
    if groups > MAX_GROUPS_PER_DIM {
        y = groups.div_ceil(MAX_GROUPS_PER_DIM);
        x = groups.div_ceil(y);
    }
    let s = slot as usize;
    args[s..s + 3].copy_from_slice(&[x, y, 1]);
}

fn count_or_all(count: u32, all: u32) -> u32 {
    if count == NONE {
        all
    } else {
        count
    }
}

/// `boruvka_control` of `step` on the control words and the indirect arguments.
pub fn boruvka_control(control: &mut [u32], args: &mut [u32], step: Step) {
    let c = |w: u32| w as usize;
    // a count of live edges, or NONE (every edge) when the list could not hold them all
    let overflowed = |control: &[u32], count: u32| {
        if count > control[c(C_CAPACITY)] {
            NONE
        } else {
            count
        }
    };
    match step {
        Step::RoundStart => {
            if control[c(C_HOOKS)] >= control[c(C_TARGET)] {
                for slot in (SLOT_SELECT_FIRST..=SLOT_JUMP).step_by(3) {
                    set_groups(args, slot, 0);
                }
                control[c(C_EDGES_OUT)] = 0;
                control[c(C_HOOKED)] = 0;
                return;
            }
            control[c(C_ROUNDS)] += 1;
            control[c(C_EDGES_IN)] = overflowed(control, control[c(C_EDGES_OUT)]);
            control[c(C_EDGES_OUT)] = 0;
            control[c(C_ROOTS_IN)] = control[c(C_ROOTS_OUT)];
            control[c(C_ROOTS_OUT)] = 0;
            control[c(C_HOOKED)] = 0;
            let edges = count_or_all(control[c(C_EDGES_IN)], control[c(C_EDGES)]);
            set_groups(args, SLOT_SELECT_FIRST, edges);
            let roots = count_or_all(control[c(C_ROOTS_IN)], control[c(C_VERTICES)]);
            set_groups(args, SLOT_HOOK, roots);
        }
        Step::FirstRound => {
            control[c(C_ROUNDS)] += 1;
            control[c(C_ROOTS_OUT)] = 0;
            control[c(C_HOOKED)] = 0;
        }
        Step::AfterSelect => {
            let live = overflowed(control, control[c(C_EDGES_OUT)]);
            set_groups(
                args,
                SLOT_SELECT_REST,
                count_or_all(live, control[c(C_EDGES)]),
            );
        }
        Step::AfterHook => set_groups(args, SLOT_JUMP, control[c(C_HOOKED)]),
    }
}
