//! The one Rust mirror of the WGSL contracts, made by `build.rs` from the shaders themselves (naga
//! reflection), so that a change on one side that the other does not follow fails the build:
//!
//! - every named `const` of `shaders/common/`: the control words (`C_*`) and indirect dispatch slots
//!   (`SLOT_*`) of `control.wgsl`, the workgroup, tile and radix sizes, `NONE`, the graph kinds
//!   (`KIND_*`, from which [`crate::grid::GraphKind`] takes its values);
//! - every struct a kernel shares with the host through a binding ([`GraphParams`], [`PairRecord`],
//!   [`SortParams`], ...), `#[repr(C)]` field for field, padded to its WGSL size;
//! - per kernel, a module of the shader's name with its [`Shader`] (source, workgroup size, override
//!   constants, how each binding is used) and a `Bindings` struct with one field per `@binding`,
//!   named as in the shader: a kernel is bound by name, never by position.

#![allow(missing_docs, dead_code)]

/// How a kernel uses one of its bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// What the host needs of one compute shader.
#[derive(Debug, Clone, Copy)]
pub struct Shader {
    /// The file's stem, which names the kernel everywhere.
    pub name: &'static str,
    /// `wgpu-persistence.<name>`: the label of its pipeline, layout and bind groups.
    pub label: &'static str,
    /// WGSL with every `#import` resolved, validated by naga at build time.
    pub source: &'static str,
    /// `@workgroup_size` of its entry point `main`.
    pub workgroup_size: [u32; 3],
    /// Its `override` constants.
    pub overrides: &'static [&'static str],
    /// How each binding is used, in binding order.
    pub access: &'static [Access],
}

include!(concat!(env!("OUT_DIR"), "/layout.rs"));

/// Byte offset of an indirect dispatch slot (`SLOT_*`, in words) in the argument buffer.
pub const fn slot_offset(slot: u32) -> u64 {
    4 * slot as u64
}

/// Words of one [`PairRecord`].
pub const RECORD_WORDS: usize = std::mem::size_of::<PairRecord>() / 4;
