//! The first hooking round, vertex by vertex: each vertex takes its minimum incident edge (`shaders/boruvka_first_round.wgsl`;
//! CPU port `cpu::ports::boruvka_first_round`).

super::kernel!(
    /// `boruvka_first_round.wgsl`.
    BoruvkaFirstRound = boruvka_first_round, graphs, per invocation
);
