// One invocation that steers the data-dependent loops without a readback, by writing the indirect
// dispatch sizes of the next kernels from the counters the kernels keep.
// MODE 0, start of a round: once every hook is done every later dispatch is empty (and the counts
//         MODE 1 and 2 size from are cleared); otherwise the live-edge and root lists of the last
//         round become this round's input (the edge list only when it held every live edge: past
//         C_CAPACITY the round sees every edge, implicitly).
// MODE 1, after the first select pass: size of the other two select passes (live edges, or every
//         edge when they overflowed the list).
// MODE 2, after the hook: size of the pointer jump (roots that hooked).
// MODE 3, start of the first round (boruvka_first_round): counts it; the next round then sees every
//         edge, implicitly.
#import params
#import control

override MODE: u32 = 0u;

@group(0) @binding(0) var<storage, read_write> control: array<u32>;
@group(0) @binding(1) var<storage, read_write> args: array<u32>;

fn set_groups(slot: u32, items: u32) {
    let groups = (items + WG - 1u) / WG;
    var x = groups;
    var y = 1u;
    if groups > MAX_GROUPS_PER_DIM {
        y = (groups + MAX_GROUPS_PER_DIM - 1u) / MAX_GROUPS_PER_DIM;
        x = (groups + y - 1u) / y;
    }
    args[slot] = x;
    args[slot + 1u] = y;
    args[slot + 2u] = 1u;
}

fn count_or_all(count: u32, all: u32) -> u32 {
    return select(count, all, count == NONE);
}

// A count of live edges, or NONE (every edge) when the list could not hold them all.
fn overflowed(count: u32) -> u32 {
    return select(count, NONE, count > control[C_CAPACITY]);
}

@compute @workgroup_size(1)
fn main() {
    if MODE == 0u {
        if control[C_HOOKS] >= control[C_TARGET] {
            for (var s = 0u; s <= SLOT_JUMP; s += 3u) {
                set_groups(s, 0u);
            }
            // MODE 1 and 2 still run: they must size nothing either
            control[C_EDGES_OUT] = 0u;
            control[C_HOOKED] = 0u;
            return;
        }
        control[C_ROUNDS] += 1u;
        control[C_EDGES_IN] = overflowed(control[C_EDGES_OUT]);
        control[C_EDGES_OUT] = 0u;
        control[C_ROOTS_IN] = control[C_ROOTS_OUT];
        control[C_ROOTS_OUT] = 0u;
        control[C_HOOKED] = 0u;
        set_groups(SLOT_SELECT_FIRST, count_or_all(control[C_EDGES_IN], control[C_EDGES]));
        set_groups(SLOT_HOOK, count_or_all(control[C_ROOTS_IN], control[C_VERTICES]));
    } else if MODE == 3u {
        control[C_ROUNDS] += 1u;
        control[C_ROOTS_OUT] = 0u;
        control[C_HOOKED] = 0u;
    } else if MODE == 1u {
        set_groups(SLOT_SELECT_REST, count_or_all(overflowed(control[C_EDGES_OUT]), control[C_EDGES]));
    } else {
        set_groups(SLOT_JUMP, control[C_HOOKED]);
    }
}
