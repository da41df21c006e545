//! Resolves `#import name` lines (from `shaders/common/name.wgsl`), then parses and validates every
//! kernel with naga, with no optional capability, so a broken or over-demanding shader fails the build.
//! The resolved sources go to `OUT_DIR/<kernel>.wgsl` for `include_str!`.

use std::{env, fs, path::Path};

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
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let src = fs::read_to_string(&path).unwrap();
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
        fs::write(Path::new(&out_dir).join(format!("{name}.wgsl")), full).unwrap();
    }
}
