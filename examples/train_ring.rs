//! Trains a small segmentation model on synthetic ring images without any ML framework, with and
//! without the topological loss of Clough et al. (IEEE TPAMI 2022), and compares the topology of
//! its predictions on held-out images.
//!
//! Data: 32x32 images of an annulus (random centre, radius and thickness) with Gaussian noise, dark
//! blotches that dim or cut the ring, and bright distractor specks; the target is the clean annulus mask.
//! Model: a one-hidden-layer MLP on the 9x9 input patch around each pixel (written here with
//! `ndarray`: forward, backward, Adam), giving a probability map through a sigmoid.
//!
//! Training: both models share the initialisation, the data and the order of the minibatches.
//! Phase 1 (shared): Dice loss only. Phase 2 (fine-tuning, as in the paper): model A goes on with
//! Dice alone, model B with Dice + lambda * topological loss with prior (b0, b1) = (1, 1), whose
//! gradient `dL/dp` comes from `Context::topological_loss_batch` and is chained through the sigmoid.
//!
//! Evaluation on held-out images: the 0.5-superlevel Betti numbers of each prediction (from the
//! persistence diagram), the fraction that differ from (1, 1), the mean Betti error
//! `|b0 - 1| + |b1 - 1|`, and the Dice score of the thresholded prediction.
//!
//! `cargo run --release --example train_ring -- [--cpu] [--epochs N] [--finetune-epochs N]
//!  [--train N] [--test N] [--lambda X] [--hidden N] [--batch N] [--seed N] [--lr X] [--finetune-lr X]`

use std::time::Instant;

use ndarray::{s, Array1, Array2, Array3, ArrayView2, Axis};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use wgpu_persistence::{BackendChoice, Construction, Context, Options, TopologicalLoss};

const SIZE: usize = 32;
const PIXELS: usize = SIZE * SIZE;
const RADIUS: usize = 4; // 9x9 patches
const PATCH: usize = (2 * RADIUS + 1) * (2 * RADIUS + 1);

struct Config {
    cpu: bool,
    epochs: usize,
    finetune_epochs: usize,
    train: usize,
    test: usize,
    lambda: f32,
    hidden: usize,
    batch: usize,
    seed: u64,
    lr: f32,
    finetune_lr: f32,
}

fn parse_args() -> Result<Config, String> {
    let mut c = Config {
        cpu: false,
        epochs: 12,
        finetune_epochs: 8,
        train: 256,
        test: 256,
        lambda: 0.1,
        hidden: 16,
        batch: 16,
        seed: 7,
        lr: 0.01,
        finetune_lr: 0.003,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--cpu" {
            c.cpu = true;
            continue;
        }
        if a == "--help" || a == "-h" {
            return Err(
                "usage: train_ring [--cpu] [--epochs N] [--finetune-epochs N] [--train N] \
                 [--test N] [--lambda X] [--hidden N] [--batch N] [--seed N] [--lr X] \
                 [--finetune-lr X]"
                    .into(),
            );
        }
        let v = args.next().ok_or(format!("{a} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{a} {v}: {e}");
        match a.as_str() {
            "--epochs" => c.epochs = v.parse().map_err(|e| bad(&e))?,
            "--finetune-epochs" => c.finetune_epochs = v.parse().map_err(|e| bad(&e))?,
            "--train" => c.train = v.parse().map_err(|e| bad(&e))?,
            "--test" => c.test = v.parse().map_err(|e| bad(&e))?,
            "--lambda" => c.lambda = v.parse().map_err(|e| bad(&e))?,
            "--hidden" => c.hidden = v.parse().map_err(|e| bad(&e))?,
            "--batch" => c.batch = v.parse().map_err(|e| bad(&e))?,
            "--seed" => c.seed = v.parse().map_err(|e| bad(&e))?,
            "--lr" => c.lr = v.parse().map_err(|e| bad(&e))?,
            "--finetune-lr" => c.finetune_lr = v.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown argument {a} (try --help)")),
        }
    }
    if c.batch == 0 || c.train == 0 || c.test == 0 || c.hidden == 0 {
        return Err("--batch, --train, --test and --hidden must be positive".into());
    }
    Ok(c)
}

// ---------------------------------------------------------------------------------------------
// data

fn gaussian(rng: &mut StdRng) -> f32 {
    // Box-Muller
    let u1: f32 = rng.gen_range(f32::EPSILON..1.0);
    let u2: f32 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}

/// One (input, clean mask) pair.
fn ring_sample(rng: &mut StdRng) -> (Array2<f32>, Array2<f32>) {
    let cy = rng.gen_range(13.0..19.0f32);
    let cx = rng.gen_range(13.0..19.0f32);
    let r_out = rng.gen_range(8.0..12.0f32);
    let thick = rng.gen_range(2.0..3.5f32);
    let r_in = r_out - thick;
    let mut mask = Array2::<f32>::zeros((SIZE, SIZE));
    for ((y, x), m) in mask.indexed_iter_mut() {
        let d = ((y as f32 - cy).powi(2) + (x as f32 - cx).powi(2)).sqrt();
        if d >= r_in && d <= r_out {
            *m = 1.0;
        }
    }
    let mut input = mask.mapv(|m| 0.8 * m + 0.1);
    // dark blotches centred on the ring: they cut it (or thin it) in the input
    let blotches = rng.gen_range(1..=2);
    for _ in 0..blotches {
        let angle = rng.gen_range(0.0..std::f32::consts::TAU);
        let rm = 0.5 * (r_in + r_out);
        let (by, bx) = (cy + rm * angle.sin(), cx + rm * angle.cos());
        let br = rng.gen_range(1.0..2.0f32);
        let depth = rng.gen_range(0.3..0.75f32);
        for ((y, x), v) in input.indexed_iter_mut() {
            let d2 = (y as f32 - by).powi(2) + (x as f32 - bx).powi(2);
            if d2 <= br * br {
                *v -= depth * mask[(y, x)];
            }
        }
    }
    // bright specks off the ring
    let specks = rng.gen_range(0..=2);
    for _ in 0..specks {
        let y = rng.gen_range(1..SIZE - 2);
        let x = rng.gen_range(1..SIZE - 2);
        let h = rng.gen_range(1..=2);
        let w = rng.gen_range(1..=2);
        input
            .slice_mut(s![y..y + h, x..x + w])
            .mapv_inplace(|v| v.max(0.8));
    }
    input.mapv_inplace(|v| v + 0.2 * gaussian(rng));
    (input, mask)
}

/// im2col: one row of 9x9 (zero-padded) input values per pixel.
fn patches(input: ArrayView2<f32>, out: &mut ndarray::ArrayViewMut2<f32>) {
    let r = RADIUS as isize;
    for y in 0..SIZE {
        for x in 0..SIZE {
            let mut row = out.row_mut(y * SIZE + x);
            let mut k = 0;
            for dy in -r..=r {
                for dx in -r..=r {
                    let (yy, xx) = (y as isize + dy, x as isize + dx);
                    row[k] = if yy >= 0 && xx >= 0 && (yy as usize) < SIZE && (xx as usize) < SIZE {
                        input[(yy as usize, xx as usize)]
                    } else {
                        0.0
                    };
                    k += 1;
                }
            }
        }
    }
}

struct Dataset {
    /// `n * PIXELS x PATCH`
    x: Array2<f32>,
    /// `n x SIZE x SIZE`
    masks: Array3<f32>,
    n: usize,
}

fn dataset(n: usize, rng: &mut StdRng) -> Dataset {
    let mut x = Array2::<f32>::zeros((n * PIXELS, PATCH));
    let mut masks = Array3::<f32>::zeros((n, SIZE, SIZE));
    for i in 0..n {
        let (input, mask) = ring_sample(rng);
        patches(
            input.view(),
            &mut x.slice_mut(s![i * PIXELS..(i + 1) * PIXELS, ..]),
        );
        masks.index_axis_mut(Axis(0), i).assign(&mask);
    }
    Dataset { x, masks, n }
}

// ---------------------------------------------------------------------------------------------
// model

#[derive(Clone)]
struct Mlp {
    w1: Array2<f32>,
    b1: Array1<f32>,
    w2: Array1<f32>,
    b2: f32,
}

struct Grads {
    w1: Array2<f32>,
    b1: Array1<f32>,
    w2: Array1<f32>,
    b2: f32,
}

struct Cache {
    hidden: Array2<f32>,
    probs: Array1<f32>,
}

impl Mlp {
    fn new(hidden: usize, rng: &mut StdRng) -> Self {
        let s1 = (2.0 / PATCH as f32).sqrt();
        let s2 = (1.0 / hidden as f32).sqrt();
        Self {
            w1: Array2::from_shape_fn((PATCH, hidden), |_| s1 * gaussian(rng)),
            b1: Array1::zeros(hidden),
            w2: Array1::from_shape_fn(hidden, |_| s2 * gaussian(rng)),
            b2: 0.0,
        }
    }

    fn forward(&self, x: ArrayView2<f32>) -> Cache {
        let mut hidden = x.dot(&self.w1);
        hidden += &self.b1;
        hidden.mapv_inplace(|v| v.max(0.0));
        let probs = hidden
            .dot(&self.w2)
            .mapv(|z| 1.0 / (1.0 + (-(z + self.b2)).exp()));
        Cache { hidden, probs }
    }

    /// Gradients from `dL/dz` (the pre-sigmoid logits).
    fn backward(&self, x: ArrayView2<f32>, cache: &Cache, dz: &Array1<f32>) -> Grads {
        let w2 = cache.hidden.t().dot(dz);
        let b2 = dz.sum();
        let mut dh = Array2::<f32>::zeros(cache.hidden.raw_dim());
        for ((mut row, h), &g) in dh
            .rows_mut()
            .into_iter()
            .zip(cache.hidden.rows())
            .zip(dz.iter())
        {
            for ((d, &hv), &w) in row.iter_mut().zip(h.iter()).zip(self.w2.iter()) {
                *d = if hv > 0.0 { g * w } else { 0.0 };
            }
        }
        Grads {
            w1: x.t().dot(&dh),
            b1: dh.sum_axis(Axis(0)),
            w2,
            b2,
        }
    }

    fn predict(&self, data: &Dataset) -> Array3<f32> {
        let p = self.forward(data.x.view()).probs;
        p.into_shape_with_order((data.n, SIZE, SIZE)).unwrap()
    }
}

struct Adam {
    m: Grads,
    v: Grads,
    t: i32,
}

impl Adam {
    fn new(model: &Mlp) -> Self {
        let zeros = || Grads {
            w1: Array2::zeros(model.w1.raw_dim()),
            b1: Array1::zeros(model.b1.raw_dim()),
            w2: Array1::zeros(model.w2.raw_dim()),
            b2: 0.0,
        };
        Self {
            m: zeros(),
            v: zeros(),
            t: 0,
        }
    }

    fn step(&mut self, model: &mut Mlp, g: &Grads, lr: f32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        const EPS: f32 = 1e-8;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        let update = |p: &mut f32, m: &mut f32, v: &mut f32, g: f32| {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
        };
        ndarray::Zip::from(&mut model.w1)
            .and(&mut self.m.w1)
            .and(&mut self.v.w1)
            .and(&g.w1)
            .for_each(|p, m, v, &g| update(p, m, v, g));
        ndarray::Zip::from(&mut model.b1)
            .and(&mut self.m.b1)
            .and(&mut self.v.b1)
            .and(&g.b1)
            .for_each(|p, m, v, &g| update(p, m, v, g));
        ndarray::Zip::from(&mut model.w2)
            .and(&mut self.m.w2)
            .and(&mut self.v.w2)
            .and(&g.w2)
            .for_each(|p, m, v, &g| update(p, m, v, g));
        update(&mut model.b2, &mut self.m.b2, &mut self.v.b2, g.b2);
    }
}

// ---------------------------------------------------------------------------------------------
// losses

/// Soft Dice loss `1 - (2 sum pg + 1) / (sum p + sum g + 1)` of one map, and `dL/dp`.
fn dice_loss(p: &[f32], g: &[f32], grad: &mut [f32]) -> f32 {
    let (mut inter, mut sp, mut sg) = (0.0f32, 0.0f32, 0.0f32);
    for (&a, &b) in p.iter().zip(g) {
        inter += a * b;
        sp += a;
        sg += b;
    }
    let num = 2.0 * inter + 1.0;
    let den = sp + sg + 1.0;
    for ((d, &gv), _) in grad.iter_mut().zip(g).zip(p) {
        *d = -(2.0 * gv * den - num) / (den * den);
    }
    1.0 - num / den
}

// ---------------------------------------------------------------------------------------------
// training and evaluation

struct Epoch {
    dice: f32,
    topo: f32,
}

#[allow(clippy::too_many_arguments)]
fn train_epoch(
    model: &mut Mlp,
    adam: &mut Adam,
    data: &Dataset,
    order: &[usize],
    batch: usize,
    lr: f32,
    lambda: f32,
    ctx: &Context,
    prior: &TopologicalLoss,
) -> Result<Epoch, Box<dyn std::error::Error>> {
    let (mut dice_sum, mut topo_sum) = (0.0f32, 0.0f32);
    for chunk in order.chunks(batch) {
        let b = chunk.len();
        let mut x = Array2::<f32>::zeros((b * PIXELS, PATCH));
        let mut g = Array3::<f32>::zeros((b, SIZE, SIZE));
        for (j, &i) in chunk.iter().enumerate() {
            x.slice_mut(s![j * PIXELS..(j + 1) * PIXELS, ..])
                .assign(&data.x.slice(s![i * PIXELS..(i + 1) * PIXELS, ..]));
            g.index_axis_mut(Axis(0), j)
                .assign(&data.masks.index_axis(Axis(0), i));
        }
        let cache = model.forward(x.view());
        let probs = cache.probs.view().into_shape_with_order((b, SIZE, SIZE))?;
        // dL/dp, averaged over the batch
        let mut dp = Array3::<f32>::zeros((b, SIZE, SIZE));
        for j in 0..b {
            let pj = probs.index_axis(Axis(0), j);
            let gj = g.index_axis(Axis(0), j);
            let mut dj = dp.index_axis_mut(Axis(0), j);
            dice_sum += dice_loss(
                pj.as_slice().unwrap(),
                gj.as_slice().unwrap(),
                dj.as_slice_mut().unwrap(),
            );
        }
        if lambda > 0.0 {
            let topo = ctx.topological_loss_batch(probs, std::slice::from_ref(prior))?;
            topo_sum += topo.losses.iter().sum::<f32>();
            dp.scaled_add(lambda, &topo.gradient);
        }
        dp /= b as f32;
        // through the sigmoid: dz = dp * p (1 - p)
        let dz: Array1<f32> = ndarray::Zip::from(dp.view().into_shape_with_order(b * PIXELS)?)
            .and(&cache.probs)
            .map_collect(|&d, &p| d * p * (1.0 - p));
        let grads = model.backward(x.view(), &cache, &dz);
        adam.step(model, &grads, lr);
    }
    let n = order.len() as f32;
    Ok(Epoch {
        dice: dice_sum / n,
        topo: topo_sum / n,
    })
}

struct Eval {
    wrong: usize,
    betti_error: f32,
    b0: f32,
    b1: f32,
    dice: f32,
    topo_loss: f32,
    n: usize,
}

fn evaluate(
    model: &Mlp,
    data: &Dataset,
    ctx: &Context,
    prior: &TopologicalLoss,
) -> Result<Eval, Box<dyn std::error::Error>> {
    let probs = model.predict(data);
    let options = Options::new(Construction::V).superlevel();
    let diagrams = ctx.compute_batch(probs.view(), &options)?;
    let topo = ctx.topological_loss_batch(probs.view(), std::slice::from_ref(prior))?;
    let (mut wrong, mut err, mut dice) = (0usize, 0usize, 0.0f32);
    let (mut b0, mut b1) = (0usize, 0usize);
    for (i, d) in diagrams.iter().enumerate() {
        let b = d.betti_at(0.5, true);
        let e = b[0].abs_diff(1) + b.get(1).copied().unwrap_or(0).abs_diff(1);
        err += e;
        b0 += b[0];
        b1 += b.get(1).copied().unwrap_or(0);
        wrong += (e > 0) as usize;
        let p = probs.index_axis(Axis(0), i);
        let g = data.masks.index_axis(Axis(0), i);
        let (mut inter, mut sp, mut sg) = (0.0f32, 0.0f32, 0.0f32);
        for (&a, &t) in p.iter().zip(g.iter()) {
            let a = if a >= 0.5 { 1.0 } else { 0.0 };
            inter += a * t;
            sp += a;
            sg += t;
        }
        dice += 2.0 * inter / (sp + sg).max(1.0);
    }
    let n = data.n;
    Ok(Eval {
        wrong,
        betti_error: err as f32 / n as f32,
        b0: b0 as f32 / n as f32,
        b1: b1 as f32 / n as f32,
        dice: dice / n as f32,
        topo_loss: topo.losses.iter().sum::<f32>() / n as f32,
        n,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let ctx = if cfg.cpu {
        Context::with_backend(BackendChoice::Cpu)?
    } else {
        Context::new()?
    };
    match ctx.adapter_info() {
        Some(info) => println!("backend: gpu ({}, {:?})", info.name, info.backend),
        None => println!(
            "backend: cpu{}",
            ctx.fallback_reason()
                .map(|r| format!(" (no usable GPU: {r})"))
                .unwrap_or_default()
        ),
    }
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let train = dataset(cfg.train, &mut rng);
    let mut test_rng = StdRng::seed_from_u64(cfg.seed ^ 0x7e57_7e57);
    let test = dataset(cfg.test, &mut test_rng);
    println!(
        "data: {} training / {} held-out {SIZE}x{SIZE} ring images; model: MLP on 9x9 patches, {} hidden units",
        cfg.train, cfg.test, cfg.hidden
    );
    let prior = TopologicalLoss::new(&[1, 1]);

    // Phase 1: Dice only (shared)
    let mut model = Mlp::new(cfg.hidden, &mut rng);
    let mut adam = Adam::new(&model);
    let mut order: Vec<usize> = (0..train.n).collect();
    for epoch in 0..cfg.epochs {
        order.shuffle(&mut rng);
        let e = train_epoch(
            &mut model, &mut adam, &train, &order, cfg.batch, cfg.lr, 0.0, &ctx, &prior,
        )?;
        println!(
            "phase 1 (Dice)   epoch {:2}: train Dice loss {:.4}",
            epoch + 1,
            e.dice
        );
    }
    let base = evaluate(&model, &test, &ctx, &prior)?;

    // Phase 2: fine-tune two copies on the same minibatches
    let (mut a, mut b) = (model.clone(), model);
    let (mut adam_a, mut adam_b) = (Adam::new(&a), Adam::new(&b));
    for epoch in 0..cfg.finetune_epochs {
        order.shuffle(&mut rng);
        let ea = train_epoch(
            &mut a,
            &mut adam_a,
            &train,
            &order,
            cfg.batch,
            cfg.finetune_lr,
            0.0,
            &ctx,
            &prior,
        )?;
        let eb = train_epoch(
            &mut b,
            &mut adam_b,
            &train,
            &order,
            cfg.batch,
            cfg.finetune_lr,
            cfg.lambda,
            &ctx,
            &prior,
        )?;
        println!(
            "phase 2 epoch {:2}: A (Dice) Dice loss {:.4} | B (Dice + {} topo) Dice loss {:.4}, topo loss {:.4}",
            epoch + 1,
            ea.dice,
            cfg.lambda,
            eb.dice,
            eb.topo
        );
    }
    let ra = evaluate(&a, &test, &ctx, &prior)?;
    let rb = evaluate(&b, &test, &ctx, &prior)?;

    println!();
    println!(
        "held-out results ({} images, 0.5-superlevel set, prior (b0, b1) = (1, 1)):",
        ra.n
    );
    println!(
        "{:<34} {:>17} {:>17} {:>17}",
        "", "after phase 1", "A: Dice", "B: Dice+topo"
    );
    let row = |name: &str, f: &dyn Fn(&Eval) -> String| {
        println!(
            "{:<34} {:>17} {:>17} {:>17}",
            name,
            f(&base),
            f(&ra),
            f(&rb)
        );
    };
    row("wrong topology (Betti != (1,1))", &|e| {
        format!(
            "{}/{} ({:.1}%)",
            e.wrong,
            e.n,
            100.0 * e.wrong as f32 / e.n as f32
        )
    });
    row("mean Betti error |b0-1|+|b1-1|", &|e| {
        format!("{:.3}", e.betti_error)
    });
    row("mean b0 / mean b1", &|e| {
        format!("{:.2} / {:.2}", e.b0, e.b1)
    });
    row("mean Dice (thresholded at 0.5)", &|e| {
        format!("{:.4}", e.dice)
    });
    row("mean topological loss", &|e| format!("{:.4}", e.topo_loss));
    println!("total time: {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}
