//! `wgpu-persistence`: the command-line front end of the library.
//!
//! `wgpu-persistence diagram [INPUT]` writes the persistence diagram of a 2D image or a volume (or of
//! a stack of them) as CSV or JSON; `time [INPUT]` times the computation for benchmark scripts;
//! `loss INPUT --betti B0,B1` prints the topological loss of a probability map (and writes its
//! gradient); `repair INPUT --betti B0,B1 -o OUT.npy` repairs the map's topology.
//! Data go to stdout (or `-o FILE`); the backend line and errors go to stderr.
//!
//! `args` defines the command line, `input` reads files, `output` writes them, `time` is the
//! benchmark subcommand; this file runs the others on the library's public API.

mod args;
mod decimal;
mod input;
mod npy;
mod output;
mod plot;
mod time;

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use wgpu_persistence::{
    Backend, Context, Diagram, Error, Options, RepairOptions, RunStats, TopologicalLoss,
};

use args::{
    BackendArg, Cli, Command, ComputeArgs, DiagramArgs, Format, LossArgs, PriorArgs, RepairArgs,
};
use input::{load_input, load_map, Input};
use output::{write_array_csv, write_csv, write_json, write_npy, write_output};

/// A user-facing error: printed as one line `error: ...`.
#[derive(Debug)]
pub(crate) struct CliError(String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError(e.to_string())
    }
}

pub(crate) fn fail(message: impl Into<String>) -> CliError {
    CliError(message.into())
}

pub(crate) type CliResult<T> = Result<T, CliError>;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("error")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Diagram(args) => run_diagram(&args),
        Command::Time(args) => time::run_time(&args),
        Command::Loss(args) => run_loss(&args),
        Command::Repair(args) => run_repair(&args),
        Command::Plot(args) => plot::run_plot(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Nothing sensible is left to do if stderr itself is gone.
            let _ = writeln!(io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_diagram(args: &DiagramArgs) -> CliResult<()> {
    let input = load_input(args.compute.input.as_deref(), args.compute.batch)?;
    let ctx = open_context(args.compute.backend)?;
    let options = options(&args.compute, args.keep_zero);
    let start = Instant::now();
    let (diagrams, stats) = compute(&ctx, &input, &options)?;
    if args.timings {
        print_timings(
            &ctx,
            &diagrams,
            start.elapsed().as_secs_f64(),
            stats.stage_seconds,
        );
    }
    write_output(args.output.as_deref(), |w| match args.format {
        Format::Csv => write_csv(w, &diagrams, input.batch, input.exact.as_ref()),
        Format::Json => write_json(w, &diagrams, input.batch, input.exact.as_ref()),
    })
}

/// Parse `--betti`: one to three comma-separated non-negative integers.
pub(crate) fn parse_betti(text: &str) -> CliResult<Vec<usize>> {
    let bad = |why: &str| {
        fail(format!(
            "invalid --betti '{text}': {why} (expected comma-separated non-negative integers \
             B0,B1[,B2], e.g. 1,1)"
        ))
    };
    if text.trim().is_empty() {
        return Err(bad("empty"));
    }
    let betti = text
        .split(',')
        .map(|part| {
            let part = part.trim();
            part.parse::<usize>()
                .map_err(|_| bad(&format!("'{part}' is not a non-negative integer")))
        })
        .collect::<CliResult<Vec<usize>>>()?;
    if betti.len() > 3 {
        return Err(bad("more than three numbers"));
    }
    Ok(betti)
}

/// The loss described by the arguments, and the map.
fn prepare(args: &PriorArgs) -> CliResult<(TopologicalLoss, Input)> {
    let mut loss = TopologicalLoss::new(&parse_betti(&args.betti)?);
    loss.kind = args.kind.into();
    loss.construction = args.construction.into();
    Ok((loss, load_map(Some(&args.input), args.batch)?))
}

fn run_loss(args: &LossArgs) -> CliResult<()> {
    let (loss, input) = prepare(&args.prior)?;
    if let Some(path) = &args.gradient {
        gradient_format(path)?;
    }
    let ctx = open_context(args.prior.backend)?;
    let (losses, gradient) = match input.batch {
        false => ctx
            .topological_loss(input.values.view(), &loss)
            .map(|r| (vec![r.loss], r.gradient)),
        true => ctx
            .topological_loss_batch(input.values.view(), std::slice::from_ref(&loss))
            .map(|r| (r.losses, r.gradient)),
    }
    .map_err(|e| input.describe(e))?;
    if let Some(path) = &args.gradient {
        match gradient_format(path)? {
            GradientFormat::Npy => write_npy(path, &gradient)?,
            GradientFormat::Csv => write_output(Some(path), |w| write_array_csv(w, &gradient))?,
        }
    }
    write_output(None, |w| {
        losses.iter().try_for_each(|value| writeln!(w, "{value}"))
    })
}

/// What `--gradient` writes.
enum GradientFormat {
    Npy,
    Csv,
}

/// The format a `--gradient` path's extension names, or an error before anything is computed.
fn gradient_format(path: &std::path::Path) -> CliResult<GradientFormat> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("npy") => Ok(GradientFormat::Npy),
        Some("csv") => Ok(GradientFormat::Csv),
        _ => Err(fail(format!(
            "--gradient '{}': the extension names the format: .npy or .csv",
            path.display()
        ))),
    }
}

fn run_repair(args: &RepairArgs) -> CliResult<()> {
    let (loss, input) = prepare(&args.prior)?;
    if !args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        return Err(fail(format!(
            "-o '{}': repair writes a .npy file",
            args.output.display()
        )));
    }
    let ctx = open_context(args.prior.backend)?;
    let options = RepairOptions {
        steps: args.steps,
        lr: args.lr,
        fidelity: args.fidelity,
        ..RepairOptions::default()
    };
    // one map, or each map of a batch in turn
    let maps: Vec<ndarray::ArrayViewD<'_, f32>> = match input.batch {
        false => vec![input.values.view()],
        true => input.values.outer_iter().collect(),
    };
    let results = maps
        .into_iter()
        .map(|map| wgpu_persistence::repair(&ctx, map, &loss, &options))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| input.describe(e))?;
    let repaired: Vec<ndarray::ArrayViewD<'_, f32>> =
        results.iter().map(|r| r.map.view()).collect();
    let stacked = match input.batch {
        false => repaired[0].to_owned(),
        true => ndarray::stack(ndarray::Axis(0), &repaired).map_err(|e| fail(e.to_string()))?,
    };
    write_npy(&args.output, &stacked)?;
    let join = |b: &[usize]| b.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    for (i, result) in results.iter().enumerate() {
        let prior: Vec<usize> = (0..result.betti_after.len())
            .map(|k| loss.betti.get(k).copied().unwrap_or(0))
            .collect();
        if result.betti_after != prior {
            let which = match input.batch {
                true => format!("map {i}: "),
                false => String::new(),
            };
            // stopped before its last step: the gradient vanished (nothing the loss can move),
            // which more steps or a larger rate do not change
            let advice = match result.steps_taken < args.steps {
                true => "the gradient vanished (no feature the loss can move)",
                false => "try more --steps or a larger --lr",
            };
            let _ = writeln!(
                io::stderr(),
                "wgpu-persistence: warning: {which}the prior {} was not reached after {} steps \
                 (Betti numbers at 0.5: {}); {advice}",
                join(&prior),
                result.steps_taken,
                join(&result.betti_after)
            );
        }
    }
    let line = |f: &dyn Fn(&wgpu_persistence::RepairResult<ndarray::IxDyn>) -> String| {
        results.iter().map(f).collect::<Vec<_>>().join(" ")
    };
    write_output(None, |w| {
        writeln!(w, "loss_before: {}", line(&|r| r.loss_before.to_string()))?;
        writeln!(w, "loss_after: {}", line(&|r| r.loss_after.to_string()))?;
        writeln!(w, "betti_before: {}", line(&|r| join(&r.betti_before)))?;
        writeln!(w, "betti_after: {}", line(&|r| join(&r.betti_after)))?;
        writeln!(w, "steps: {}", line(&|r| r.steps_taken.to_string()))
    })
}

/// The options the arguments ask for.
pub(crate) fn options(args: &ComputeArgs, keep_zero: bool) -> Options {
    let options = Options::new(args.construction.into()).keep_zero_persistence(keep_zero);
    if args.superlevel {
        options.superlevel()
    } else {
        options
    }
}

/// Create the context and say on stderr which backend answers.
pub(crate) fn open_context(backend: BackendArg) -> CliResult<Context> {
    let ctx = Context::with_backend(backend.into())?;
    let line = match (ctx.adapter_info(), ctx.fallback_reason()) {
        (Some(info), _) => format!("backend gpu (adapter: {}, {})", info.name, info.backend),
        (None, Some(reason)) => format!("backend cpu (auto fell back to the CPU: {reason})"),
        (None, None) => "backend cpu (native CPU backend)".to_string(),
    };
    let _ = writeln!(io::stderr(), "wgpu-persistence: {line}");
    Ok(ctx)
}

/// The diagrams of the input, with the run statistics.
pub(crate) fn compute(
    ctx: &Context,
    input: &Input,
    options: &Options,
) -> CliResult<(Vec<Diagram>, RunStats)> {
    let diagrams = match (&input.exact, input.batch) {
        (Some(exact), true) => ctx.compute_batch(exact.view(), options),
        (Some(exact), false) => ctx.compute(exact.view(), options).map(|d| vec![d]),
        (None, true) => ctx.compute_batch(input.values.view(), options),
        (None, false) => ctx.compute(input.values.view(), options).map(|d| vec![d]),
    }
    .map_err(|e| input.describe(e))?;
    Ok((diagrams, ctx.last_run_stats()))
}

/// `--timings`: wall time, and the GPU stages when the adapter could time them.
pub(crate) fn print_timings(
    ctx: &Context,
    diagrams: &[Diagram],
    wall_s: f64,
    stages: Option<[f64; 3]>,
) {
    let ms = |s: f64| format!("{:.3} ms", s * 1e3);
    let backend = answered_by(ctx, diagrams);
    let mut line = format!("wgpu-persistence: timings: wall {} ({backend})", ms(wall_s));
    // the dual graph gives H1 of an image, H2 of a volume (whose H1 is reduced on the host)
    let volume = diagrams.first().is_some_and(|d| d.shape.len() == 3);
    let (ranking_label, dual) = if volume {
        ("ranking and H1 apparent pairs", "H2")
    } else {
        ("ranking", "H1")
    };
    match stages {
        Some([ranking, h0, h1]) => line.push_str(&format!(
            "; GPU stages (timestamp queries): {ranking_label} {}, H0 pairing {}, {dual} pairing {}, sum {}",
            ms(ranking),
            ms(h0),
            ms(h1),
            ms(ranking + h0 + h1)
        )),
        None if backend == Backend::Gpu => {
            line.push_str("; the adapter offers no timestamp queries: no per-stage GPU times")
        }
        None => {}
    }
    let _ = writeln!(io::stderr(), "{line}");
}

/// Which backend computed the diagrams (as each diagram says).
pub(crate) fn answered_by(ctx: &Context, diagrams: &[Diagram]) -> Backend {
    diagrams.first().map_or(ctx.backend(), |d| d.backend)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
