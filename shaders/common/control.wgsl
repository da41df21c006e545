// Layout of the control words and of the indirect dispatch slots (see boruvka_control.wgsl).
const C_HOOKS: u32 = 0u;        // hooks so far
const C_TARGET: u32 = 1u;       // hooks needed (all vertices but one root per image)
const C_CAPACITY: u32 = 2u;     // live edges the edge lists hold (more: the next pass sees every edge)
const C_ROUNDS: u32 = 3u;       // rounds run
const C_EDGES: u32 = 4u;        // edges of the batch
const C_VERTICES: u32 = 5u;     // vertices of the batch
const C_EDGES_IN: u32 = 6u;     // live edges entering the round (NONE: all, implicitly)
const C_EDGES_OUT: u32 = 7u;    // live edges found in this round
const C_PAIRS: u32 = 8u;        // pair records written
const C_ROOTS_IN: u32 = 9u;     // roots entering the round (NONE: all vertices, implicitly)
const C_ROOTS_OUT: u32 = 10u;   // roots that waited (still roots, still with an outgoing edge)
const C_HOOKED: u32 = 11u;      // roots that hooked in this round
const CONTROL_WORDS: u32 = 16u; // words of the control buffer (the rest is spare)

// Indirect dispatch slots, 3 words each.
const SLOT_SELECT_FIRST: u32 = 0u;
const SLOT_SELECT_REST: u32 = 3u;
const SLOT_HOOK: u32 = 6u;
const SLOT_JUMP: u32 = 9u;
const ARG_WORDS: u32 = 12u;     // words of the indirect argument buffer (4 slots)
