// One invocation that steers the data-dependent loops without a readback: it writes the indirect
// dispatch arguments of the next kernels. MODE 0 (start of a round): if every hook is done, all later
// dispatches become empty; otherwise they get their full size and a round is counted. MODE 1 (after a
// pointer-jump step): once a step moved nothing, the remaining steps of the round become empty.
//
// control: [0] hooks so far, [1] hooks needed, [2] jump moved something, [3] rounds run,
//          [4], [5] edge dispatch size (x, y), [6], [7] vertex dispatch size (x, y), [8] pairs written.
// args:    [0..3] edge kernels, [3..6] vertex kernels (hook), [6..9] pointer jump.
override MODE: u32 = 0u;

@group(0) @binding(0) var<storage, read_write> control: array<u32>;
@group(0) @binding(1) var<storage, read_write> args: array<u32>;

fn set_args(slot: u32, x: u32, y: u32) {
    args[slot] = x;
    args[slot + 1u] = y;
    args[slot + 2u] = 1u;
}

@compute @workgroup_size(1)
fn main() {
    if MODE == 0u {
        if control[0] >= control[1] {
            set_args(0u, 0u, 1u);
            set_args(3u, 0u, 1u);
            set_args(6u, 0u, 1u);
        } else {
            set_args(0u, control[4], control[5]);
            set_args(3u, control[6], control[7]);
            set_args(6u, control[6], control[7]);
            control[3] = control[3] + 1u;
        }
        control[2] = 0u;
    } else {
        if control[2] == 0u {
            set_args(6u, 0u, 1u);
        }
        control[2] = 0u;
    }
}
