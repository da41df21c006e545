//! The MNIST experiment of Clough et al. (IEEE TPAMI 2022) in burn, semi-supervised: a small
//! convolutional network maps degraded digits (broken strokes, salt-and-pepper noise, spurious
//! blobs) to probability maps of the clean digit. Two models get the same budget of steps from the
//! same Dice-pretrained weights:
//! - `dice`: Dice on a small labelled set (degraded digit -> clean digit mask) alone;
//! - `dice+topo`: the same Dice steps, each followed by a step of `lambda` times the topological
//!   loss (through the same Adam, so the two gradients share its moment estimates) on many more
//!   degraded digits that have their class but no clean target (docs/burn.md says why the two are
//!   not summed into one objective): the loss needs no pixel labels, only the topology of the
//!   class (0, 6, 9: one component and one hole; 8: one component and two holes; the others: one
//!   component, no hole), in the superlevel filtration of the predicted map.
//!
//! On held-out degraded digits it reports, for both, how many predictions thresholded at 0.5 have
//! the wrong Betti numbers, the mean Betti error and the Dice score against the clean digit.
//! The last line of standard output is `held-out topology errors: dice=N dice+topo=M of K`.
//!
//! `cargo run -p wgpu-persistence-burn --example mnist_topology` (burn's wgpu device, shared with
//! the library: the loss reads the network's output where burn keeps it); `--backend ndarray` for
//! burn's CPU backend (the loss goes through the host); `--help` for the sizes.
//! Data: `data/mnist_5k.csv.gz` (5,000 MNIST digits; see `data/README.md`).
#![allow(deprecated)] // burn's NdArray backend

use std::io::{BufRead, BufReader};
use std::time::Instant;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use wgpu_persistence_burn::{diagrams, topological_loss, Options, TopologicalLoss};

#[derive(Parser, Debug)]
#[command(about = "The topological loss on MNIST, semi-supervised, in burn")]
struct Args {
    /// Digits with a clean target (the labelled set).
    #[arg(long, default_value_t = 48)]
    labelled: usize,
    /// Degraded digits with only their class (the topological loss's set).
    #[arg(long, default_value_t = 1024)]
    unlabelled: usize,
    /// Held-out degraded digits for the report.
    #[arg(long, default_value_t = 300)]
    held_out: usize,
    /// Dice steps both models share before they part.
    #[arg(long, default_value_t = 150)]
    pretrain: usize,
    /// Steps of each model after that.
    #[arg(long, default_value_t = 150)]
    steps: usize,
    /// Maps per batch (labelled, and unlabelled for the topological loss).
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Weight of the topological loss (mean over the batch's maps) in its steps.
    #[arg(long, default_value_t = 0.1)]
    lambda: f32,
    /// Adam's learning rate while pretraining.
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Adam's learning rate after (both models).
    #[arg(long, default_value_t = 3e-3)]
    tune_lr: f64,
    /// Channels of the hidden layers.
    #[arg(long, default_value_t = 16)]
    channels: usize,
    /// `wgpu` (burn's wgpu device, shared with the library) or `ndarray`.
    #[arg(long, default_value = "wgpu")]
    backend: String,
    /// Fraction of pixels set to 0 or 1 at random (salt-and-pepper).
    #[arg(long, default_value_t = 0.03)]
    salt: f64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Print the losses every this many steps (0: never).
    #[arg(long, default_value_t = 0)]
    every: usize,
    /// The digits (gzip CSV: 784 pixels then the label per line).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist_5k.csv.gz"))]
    data: String,
}

const SIDE: usize = 28;
const PIXELS: usize = SIDE * SIDE;

struct Digit {
    clean: Vec<f32>,
    label: usize,
}

fn load(path: &str) -> Result<Vec<Digit>, Box<dyn std::error::Error>> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut digits = Vec::new();
    for line in BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        let line = line?;
        let v: Vec<u32> = line.split(',').map(str::parse).collect::<Result<_, _>>()?;
        if v.len() != PIXELS + 1 {
            return Err(format!("{path}: a line of {} values, not 785", v.len()).into());
        }
        digits.push(Digit {
            clean: v[..PIXELS].iter().map(|&p| p as f32 / 255.0).collect(),
            label: v[PIXELS] as usize,
        });
    }
    Ok(digits)
}

/// The class's topology (superlevel set of the ink): `[beta_0, beta_1]`.
fn prior(label: usize) -> [usize; 2] {
    match label {
        0 | 6 | 9 => [1, 1],
        8 => [1, 2],
        _ => [1, 0],
    }
}

/// The clean digit's mask (the labelled set's target, and the held-out Dice's reference).
fn mask(clean: &[f32]) -> Vec<f32> {
    clean
        .iter()
        .map(|&v| if v > 0.5 { 1.0 } else { 0.0 })
        .collect()
}

/// Broken strokes (ink erased in a few short bands across the digit), salt-and-pepper noise and a
/// spurious blob of ink.
fn degrade(clean: &[f32], salt: f64, rng: &mut StdRng) -> Vec<f32> {
    let mut x = clean.to_vec();
    let ink: Vec<usize> = (0..PIXELS).filter(|&i| clean[i] > 0.5).collect();
    for _ in 0..rng.gen_range(1..=2) {
        if let Some(&c) = ink.choose(rng) {
            let (r, c) = ((c / SIDE) as i32, (c % SIDE) as i32);
            let horizontal = rng.gen_bool(0.5);
            for a in -1..=1 {
                for b in -2..=2 {
                    let (dr, dc) = if horizontal { (b, a) } else { (a, b) };
                    let (rr, cc) = (r + dr, c + dc);
                    if (0..SIDE as i32).contains(&rr) && (0..SIDE as i32).contains(&cc) {
                        x[rr as usize * SIDE + cc as usize] = 0.0;
                    }
                }
            }
        }
    }
    let (r0, c0) = (rng.gen_range(3..25) as f32, rng.gen_range(3..25) as f32);
    let radius: f32 = rng.gen_range(1.0..2.2);
    for (i, v) in x.iter_mut().enumerate() {
        let (r, c) = ((i / SIDE) as f32, (i % SIDE) as f32);
        if (r - r0).powi(2) + (c - c0).powi(2) <= radius * radius {
            *v = 1.0;
        }
        if rng.gen_bool(salt) {
            *v = if rng.gen_bool(0.5) { 1.0 } else { 0.0 };
        }
    }
    x
}

#[derive(Module, Debug)]
struct Net {
    c1: Conv2d,
    c2: Conv2d,
    c3: Conv2d,
    c4: Conv2d,
}

impl Net {
    fn new(channels: usize, device: &Device) -> Self {
        let conv = |i, o, d| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_dilation([d, d])
                .with_padding(PaddingConfig2d::Explicit(d, d, d, d))
                .init(device)
        };
        Self {
            c1: conv(1, channels, 1),
            c2: conv(channels, channels, 2),
            c3: conv(channels, channels, 4),
            c4: conv(channels, 1, 1),
        }
    }

    /// `[N, 28, 28]` degraded digits to `[N, 28, 28]` probabilities.
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [n, h, w] = x.dims();
        let x = relu(self.c1.forward(x.reshape([n, 1, h, w])));
        let x = relu(self.c2.forward(x));
        let x = relu(self.c3.forward(x));
        sigmoid(self.c4.forward(x)).reshape([n, h, w])
    }
}

/// `1 - Dice` per map, averaged.
fn dice_loss(p: Tensor<3>, y: Tensor<3>) -> Tensor<1> {
    let inter = (p.clone() * y.clone()).sum_dim(2).sum_dim(1);
    let total = (p.sum_dim(2).sum_dim(1) + y.sum_dim(2).sum_dim(1)).add_scalar(1.0);
    (inter.mul_scalar(2.0).add_scalar(1.0) / total)
        .neg()
        .add_scalar(1.0)
        .mean()
        .reshape([1])
}

struct Set {
    inputs: Vec<Vec<f32>>,
    targets: Vec<Vec<f32>>,
    labels: Vec<usize>,
}

fn batch(values: &[&Vec<f32>], device: &Device) -> Tensor<3> {
    let flat: Vec<f32> = values.iter().flat_map(|v| v.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [values.len(), SIDE, SIDE]), device)
}

fn pick<'a>(set: &'a [Vec<f32>], idx: &[usize]) -> Vec<&'a Vec<f32>> {
    idx.iter().map(|&i| &set[i]).collect()
}

fn floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
    Ok(t.into_data()
        .as_slice::<f32>()
        .map_err(|e| format!("{e:?}"))?
        .to_vec())
}

#[derive(Default)]
struct Report {
    wrong: usize,
    betti_error: f64,
    dice: f64,
    ink: f64,
    /// Maps with too many components, too few, too many holes, too few.
    kinds: [usize; 4],
}

fn evaluate(net: &Net, set: &Set, device: &Device) -> Result<Report, Box<dyn std::error::Error>> {
    let mut r = Report::default();
    let options = Options::default().superlevel();
    for start in (0..set.inputs.len()).step_by(64) {
        let idx: Vec<usize> = (start..(start + 64).min(set.inputs.len())).collect();
        let p = net
            .forward(batch(&pick(&set.inputs, &idx), device))
            .detach();
        let values = floats(p.clone())?;
        for (k, d) in diagrams(p, &options)?.iter().enumerate() {
            let b = d.betti_at(0.5, true);
            let want = prior(set.labels[idx[k]]);
            let err = b[0].abs_diff(want[0]) + b[1].abs_diff(want[1]);
            r.wrong += usize::from(err > 0);
            for (k, wrong) in [
                b[0] > want[0],
                b[0] < want[0],
                b[1] > want[1],
                b[1] < want[1],
            ]
            .into_iter()
            .enumerate()
            {
                r.kinds[k] += usize::from(wrong);
            }
            r.betti_error += err as f64;
            let (p, y) = (&values[k * PIXELS..(k + 1) * PIXELS], &set.targets[idx[k]]);
            let pb: Vec<f32> = p
                .iter()
                .map(|&v| if v >= 0.5 { 1.0 } else { 0.0 })
                .collect();
            let inter: f32 = pb.iter().zip(y).map(|(a, b)| a * b).sum();
            let total: f32 = pb.iter().sum::<f32>() + y.iter().sum::<f32>();
            r.ink += pb.iter().sum::<f32>() as f64 / PIXELS as f64;
            r.dice += if total > 0.0 {
                (2.0 * inter / total) as f64
            } else {
                1.0
            };
        }
    }
    let n = set.inputs.len() as f64;
    r.betti_error /= n;
    r.dice /= n;
    r.ink /= n;
    Ok(r)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let device = match args.backend.as_str() {
        "wgpu" => wgpu_persistence_burn::init_wgpu()?,
        "ndarray" => Device::ndarray(),
        other => return Err(format!("--backend {other}: wgpu or ndarray").into()),
    };
    let ad = device.clone().autodiff();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut digits = load(&args.data)?;
    let wanted = args.labelled + args.unlabelled + args.held_out;
    if digits.len() < wanted || args.labelled == 0 || args.held_out == 0 || args.batch == 0 {
        return Err(format!("{wanted} digits asked of {}, or an empty set", digits.len()).into());
    }
    digits.shuffle(&mut rng);
    let mut make = |ds: &[Digit]| Set {
        inputs: ds
            .iter()
            .map(|d| degrade(&d.clean, args.salt, &mut rng))
            .collect(),
        targets: ds.iter().map(|d| mask(&d.clean)).collect(),
        labels: ds.iter().map(|d| d.label).collect(),
    };
    let labelled = make(&digits[..args.labelled]);
    let unlabelled = make(&digits[args.labelled..args.labelled + args.unlabelled]);
    let held_out = make(&digits[args.labelled + args.unlabelled..wanted]);
    let held_broken = held_out
        .labels
        .iter()
        .zip(&held_out.targets)
        .filter(|(l, y)| {
            let d = wgpu_persistence::Context::cpu()
                .compute(
                    wgpu_persistence::ndarray::ArrayView2::from_shape([SIDE, SIDE], &y[..])
                        .expect("28 x 28"),
                    &Options::default().superlevel(),
                )
                .expect("a diagram");
            d.betti_at(0.5, true)[..2] != prior(**l)
        })
        .count();
    println!(
        "backend {}; {} labelled, {} unlabelled, {} held-out digits ({} of the held-out clean \
         digits themselves break their class prior); {} + {} steps of {} maps",
        args.backend,
        args.labelled,
        args.unlabelled,
        args.held_out,
        held_broken,
        args.pretrain,
        args.steps,
        args.batch
    );

    let lab_batch = |rng: &mut StdRng| -> (Tensor<3>, Tensor<3>) {
        let idx: Vec<usize> = (0..args.batch)
            .map(|_| rng.gen_range(0..labelled.inputs.len()))
            .collect();
        (
            batch(&pick(&labelled.inputs, &idx), &ad),
            batch(&pick(&labelled.targets, &idx), &ad),
        )
    };
    let mut optim = AdamConfig::new().init();
    let mut net = Net::new(args.channels, &ad);
    let t0 = Instant::now();
    for _ in 0..args.pretrain {
        let (x, y) = lab_batch(&mut rng);
        let loss = dice_loss(net.forward(x), y);
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(args.lr, net, grads);
    }
    println!(
        "pretrained with Dice in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let mut results = Vec::new();
    for topo in [false, true] {
        let name = if topo { "dice+topo" } else { "dice" };
        let mut model = net.clone();
        let mut optim = AdamConfig::new().init();
        let mut rng = StdRng::seed_from_u64(args.seed + 1);
        let t = Instant::now();
        let mut topo_sum = 0.0f64;
        for step in 0..args.steps {
            let (x, y) = lab_batch(&mut rng);
            let unlabelled_batch = topo.then(|| {
                let idx: Vec<usize> = (0..args.batch)
                    .map(|_| rng.gen_range(0..unlabelled.inputs.len()))
                    .collect();
                let priors: Vec<TopologicalLoss> = idx
                    .iter()
                    .map(|&i| TopologicalLoss::new(&prior(unlabelled.labels[i])))
                    .collect();
                (idx, priors)
            });
            let loss = dice_loss(model.forward(x), y);
            if args.every > 0 && step % args.every == 0 {
                eprintln!(
                    "{name} step {step}: Dice loss {:.4}",
                    floats(loss.clone())?[0]
                );
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(args.tune_lr, model, grads);
            if let Some((idx, priors)) = unlabelled_batch {
                // the topological loss takes a backward pass of its own (burn 0.22.1 on wgpu with
                // fusion derails training when a second branch, even zero-weighted, joins the
                // Dice graph: see docs/burn.md) and a step of the same Adam: with shared moment
                // estimates, lambda weighs it against Dice as it would in one summed objective
                let p = model.forward(batch(&pick(&unlabelled.inputs, &idx), &ad));
                let t = topological_loss(p, &priors)?.mean();
                let tv = floats(t.clone())?[0] as f64;
                if args.every > 0 && step % args.every == 0 {
                    eprintln!("{name} step {step}: topological loss {tv:.4}");
                }
                topo_sum += tv;
                let grads =
                    GradientsParams::from_grads(t.mul_scalar(args.lambda).backward(), &model);
                model = optim.step(args.tune_lr, model, grads);
            }
        }
        let r = evaluate(&model, &held_out, &ad)?;
        println!(
            "{name:>9}: {:.1} s; held-out: {} of {} with the wrong Betti numbers at 0.5, mean \
             Betti error {:.3}, Dice {:.3}, ink {:.3}; components too many {} too few {}, holes \
             too many {} too few {}{}",
            t.elapsed().as_secs_f64(),
            r.wrong,
            args.held_out,
            r.betti_error,
            r.dice,
            r.ink,
            r.kinds[0],
            r.kinds[1],
            r.kinds[2],
            r.kinds[3],
            if topo {
                format!(
                    "; mean topological loss per map {:.3}",
                    topo_sum / args.steps as f64
                )
            } else {
                String::new()
            }
        );
        results.push(r.wrong);
    }
    println!(
        "held-out topology errors: dice={} dice+topo={} of {}",
        results[0], results[1], args.held_out
    );
    Ok(())
}
