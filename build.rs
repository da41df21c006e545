//! Resolves `#import name` lines (from `shaders/common/name.wgsl`), then parses and validates every
//! kernel with naga, with no optional capability, so a broken or over-demanding shader fails the build.
//! The resolved sources go to `OUT_DIR/<kernel>.wgsl`.
//!
//! From the same naga modules it writes `OUT_DIR/layout.rs`, the one Rust mirror of the WGSL
//! contracts (included by `src/layout.rs`): every named `const` of `shaders/common/` (control words,
//! indirect slots, workgroup and tile sizes, graph kinds), every struct the kernels share with the
//! host (`#[repr(C)]`, field for field, padded to the WGSL size), and per kernel its source, its
//! workgroup size, its override constants and a `Bindings` struct with one field per
//! `@binding`, named as in the shader. Rust cannot drift from the shaders: it is made from them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::{env, fs, path::Path};

use naga::{AddressSpace, ArraySize, Expression, Literal, Module, ScalarKind, TypeInner};

fn resolve(src: &str, common: &Path) -> Result<String, String> {
    let mut out = String::new();
    for line in src.lines() {
        if let Some(name) = line.trim().strip_prefix("#import ") {
            let path = common.join(format!("{}.wgsl", name.trim()));
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            out.push_str(&resolve(&text, common)?);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    Ok(out)
}

/// The names of the `const` declarations of the shared WGSL files: they go to the top of the
/// generated module (a kernel's own constants go to its module).
fn shared_constant_names(common: &Path) -> Vec<String> {
    let mut names = vec![];
    let mut files: Vec<_> = fs::read_dir(common)
        .expect("shaders/common/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for path in files {
        let text = fs::read_to_string(&path).expect("a common shader is readable");
        for line in text.lines() {
            if let Some(rest) = line.trim_start().strip_prefix("const ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
    }
    names
}

/// The Rust type of a scalar (or atomic scalar) WGSL type, if it is one the host mirrors.
fn scalar_type(module: &Module, ty: naga::Handle<naga::Type>) -> Option<&'static str> {
    let scalar = match module.types[ty].inner {
        TypeInner::Scalar(s) | TypeInner::Atomic(s) => s,
        _ => return None,
    };
    Some(match (scalar.kind, scalar.width) {
        (ScalarKind::Uint, 4) => "u32",
        (ScalarKind::Sint, 4) => "i32",
        (ScalarKind::Float, 4) => "f32",
        _ => return None,
    })
}

/// The Rust type of a struct member.
fn member_type(module: &Module, ty: naga::Handle<naga::Type>, what: &str) -> String {
    if let Some(t) = scalar_type(module, ty) {
        return t.to_string();
    }
    match module.types[ty].inner {
        TypeInner::Array {
            base,
            size: ArraySize::Constant(n),
            ..
        } => format!("[{}; {n}]", member_type(module, base, what)),
        ref other => panic!("{what}: no Rust mirror for a member of type {other:?}"),
    }
}

/// A `const`'s value as Rust source, or `None` for a type the host does not mirror.
fn constant_value(module: &Module, constant: &naga::Constant) -> Option<(&'static str, String)> {
    let ty = scalar_type(module, constant.ty).or(match module.types[constant.ty].inner {
        TypeInner::Scalar(s) if s.kind == ScalarKind::Bool => Some("bool"),
        _ => None,
    })?;
    let value = match module.global_expressions[constant.init] {
        Expression::Literal(Literal::U32(v)) => v.to_string(),
        Expression::Literal(Literal::I32(v)) => v.to_string(),
        Expression::Literal(Literal::F32(v)) => format!("{v:?}"),
        Expression::Literal(Literal::Bool(v)) => v.to_string(),
        _ => return None,
    };
    Some((ty, value))
}

/// A struct the host mirrors, as Rust source, with its WGSL member list (to compare the copies of
/// the same struct in several kernels).
fn struct_source(module: &Module, name: &str, ty: naga::Handle<naga::Type>) -> (String, String) {
    let TypeInner::Struct { members, span } = &module.types[ty].inner else {
        unreachable!("only structs are passed")
    };
    let mut fields = String::new();
    let mut signature = String::new();
    let mut offset = 0u32;
    let mut gaps = 0;
    for m in members {
        let member = m.name.clone().unwrap_or_default();
        if m.offset > offset {
            let _ = writeln!(
                fields,
                "    pub _gap{gaps}: [u32; {}],",
                (m.offset - offset) / 4
            );
            gaps += 1;
        }
        let rust = member_type(module, m.ty, &format!("{name}.{member}"));
        let _ = writeln!(
            fields,
            "    /// `{name}.{member}` in WGSL.\n    pub {member}: {rust},"
        );
        let _ = write!(signature, "{member}:{rust}@{};", m.offset);
        offset = m.offset + module.types[m.ty].inner.size(module.to_ctx());
    }
    if *span > offset {
        let _ = writeln!(
            fields,
            "    pub _gap{gaps}: [u32; {}],",
            (span - offset) / 4
        );
    }
    let source = format!(
        "/// WGSL's `struct {name}` ({span} bytes), field for field.\n\
         #[repr(C)]\n\
         #[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]\n\
         pub struct {name} {{\n{fields}}}\n\n"
    );
    (source, signature)
}

/// Per kernel: its source, workgroup size, override constants, own constants and bindings.
fn kernel_source(name: &str, module: &Module, shared: &[String]) -> String {
    let entry = module
        .entry_points
        .iter()
        .find(|e| e.name == "main" && e.stage == naga::ShaderStage::Compute)
        .unwrap_or_else(|| panic!("{name}: no compute entry point `main`"));
    let mut bindings: Vec<(u32, String, &'static str)> = vec![];
    for (_, global) in module.global_variables.iter() {
        let Some(binding) = &global.binding else {
            continue;
        };
        assert_eq!(binding.group, 0, "{name}: bindings live in group 0");
        let access = match global.space {
            AddressSpace::Uniform => "Uniform",
            AddressSpace::Storage { access } if access.contains(naga::StorageAccess::STORE) => {
                "ReadWrite"
            }
            AddressSpace::Storage { .. } => "Read",
            other => panic!("{name}: binding in address space {other:?}"),
        };
        let var = global.name.clone().unwrap_or_default();
        bindings.push((binding.binding, var, access));
    }
    bindings.sort();
    for (i, b) in bindings.iter().enumerate() {
        assert_eq!(
            b.0, i as u32,
            "{name}: bindings must be numbered 0, 1, 2, ..."
        );
    }
    let overrides: Vec<String> = module
        .overrides
        .iter()
        .filter_map(|(_, o)| o.name.clone())
        .collect();
    let mut out = String::new();
    let n = bindings.len();
    let _ = writeln!(out, "/// `shaders/{name}.wgsl`.\npub mod {name} {{");
    let _ = writeln!(
        out,
        "    /// The kernel's source (`#import`s resolved) and interface.\n    \
         pub const SHADER: super::Shader = super::Shader {{\n        \
         name: \"{name}\",\n        \
         label: \"wgpu-persistence.{name}\",\n        \
         source: include_str!(concat!(env!(\"OUT_DIR\"), \"/{name}.wgsl\")),\n        \
         workgroup_size: {:?},\n        \
         overrides: &{overrides:?},\n        \
         access: &[{}],\n    }};",
        entry.workgroup_size,
        bindings
            .iter()
            .map(|b| format!("super::Access::{}", b.2))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (_, constant) in module.constants.iter() {
        let Some(cname) = &constant.name else {
            continue;
        };
        if shared.contains(cname) {
            continue;
        }
        if let Some((ty, value)) = constant_value(module, constant) {
            let _ = writeln!(
                out,
                "    /// `const {cname}` of the kernel.\n    pub const {cname}: {ty} = {value};"
            );
        }
    }
    let _ = writeln!(
        out,
        "    /// The buffers bound to the kernel, by the names the shader gives its bindings.\n    \
         #[derive(Debug, Clone)]\n    pub struct Bindings<'a> {{"
    );
    for (i, var, access) in &bindings {
        let _ = writeln!(
            out,
            "        /// `@binding({i})` `{var}` ({access}).\n        pub {var}: wgpu::BufferBinding<'a>,"
        );
    }
    let _ = writeln!(
        out,
        "    }}\n\n    impl<'a> Bindings<'a> {{\n        \
         /// The bind-group entries, in binding order.\n        \
         pub fn entries(self) -> [wgpu::BindGroupEntry<'a>; {n}] {{\n            ["
    );
    for (i, var, _) in &bindings {
        let _ = writeln!(
            out,
            "                wgpu::BindGroupEntry {{ binding: {i}, resource: wgpu::BindingResource::Buffer(self.{var}) }},"
        );
    }
    let _ = writeln!(out, "            ]\n        }}\n    }}\n}}\n");
    out
}

fn main() {
    let shaders = Path::new("shaders");
    let common = shaders.join("common");
    let out_dir = env::var("OUT_DIR").expect("OUT_DIR is set by cargo");
    println!("cargo:rerun-if-changed=shaders");
    let mut entries: Vec<_> = fs::read_dir(shaders)
        .expect("shaders/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wgsl"))
        .collect();
    entries.sort();
    let shared = shared_constant_names(&common);
    // name -> (type, value), struct name -> (source, signature); checked equal across kernels
    let mut constants: BTreeMap<String, (&str, String)> = BTreeMap::new();
    let mut structs: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut kernels = String::new();
    let mut names = vec![];
    for path in entries {
        let name = path
            .file_stem()
            .expect("a shader file has a name")
            .to_string_lossy()
            .to_string();
        let src = fs::read_to_string(&path).expect("a shader is readable");
        let full = resolve(&src, &common).unwrap_or_else(|e| panic!("{name}: {e}"));
        let module = naga::front::wgsl::parse_str(&full).unwrap_or_else(|e| {
            panic!(
                "{}",
                e.emit_to_string_with_path(&full, &path.display().to_string())
            )
        });
        let mut validator = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        );
        if let Err(e) = validator.validate(&module) {
            panic!(
                "{}",
                e.emit_to_string_with_path(&full, &path.display().to_string())
            );
        }
        for (_, constant) in module.constants.iter() {
            let Some(cname) = &constant.name else {
                continue;
            };
            if !shared.contains(cname) {
                continue;
            }
            let Some(value) = constant_value(&module, constant) else {
                continue;
            };
            if let Some(seen) = constants.insert(cname.clone(), value.clone()) {
                assert_eq!(seen, value, "const {cname} differs between shaders");
            }
        }
        for (handle, ty) in module.types.iter() {
            let (Some(sname), TypeInner::Struct { .. }) = (&ty.name, &ty.inner) else {
                continue;
            };
            // structs of the host interface: those of uniform and storage bindings
            let mirrored = module.global_variables.iter().any(|(_, g)| {
                g.binding.is_some()
                    && (g.ty == handle
                        || matches!(module.types[g.ty].inner, TypeInner::Array { base, .. } if base == handle))
            });
            if !mirrored {
                continue;
            }
            let made = struct_source(&module, sname, handle);
            if let Some(seen) = structs.insert(sname.clone(), made.clone()) {
                assert_eq!(seen.1, made.1, "struct {sname} differs between shaders");
            }
        }
        kernels.push_str(&kernel_source(&name, &module, &shared));
        names.push(name.clone());
        fs::write(Path::new(&out_dir).join(format!("{name}.wgsl")), full)
            .expect("OUT_DIR is writable");
    }
    let mut layout = String::from("// Generated by build.rs from shaders/: do not edit.\n\n");
    for (cname, (ty, value)) in &constants {
        let _ = writeln!(
            layout,
            "/// `const {cname}` of `shaders/common/`.\npub const {cname}: {ty} = {value};"
        );
    }
    layout.push('\n');
    for (source, _) in structs.values() {
        layout.push_str(source);
    }
    layout.push_str(&kernels);
    let _ = writeln!(
        layout,
        "/// Every kernel's [`Shader`], by name.\npub const SHADERS: &[Shader] = &[{}];",
        names
            .iter()
            .map(|n| format!("{n}::SHADER"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    fs::write(Path::new(&out_dir).join("layout.rs"), layout).expect("OUT_DIR is writable");
}
