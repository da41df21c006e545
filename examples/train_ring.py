#!/usr/bin/env python3
"""The ring experiment of examples/train_ring.rs in PyTorch, with wgpu_persistence.torch.TopologicalLoss.

Data: 32x32 images of an annulus (random centre, radius and thickness) with Gaussian noise, dark
blotches that dim or cut the ring, and bright distractor specks; the target is the clean annulus.
Model: a small fully convolutional network (three 3x3 convolutions, 16 channels) giving a
probability map through a sigmoid.

Training: both models start from the same weights and see the same minibatches. Phase 1 (shared):
Dice loss. Phase 2 (fine-tuning, as in the paper): model A goes on with Dice alone, model B with
Dice + lambda * TopologicalLoss(betti=[1, 1]) (one component, one hole).

Evaluation on held-out images: the Betti numbers of each prediction's 0.5-superlevel set (from its
persistence diagram), how many differ from (1, 1), the mean Betti error |b0 - 1| + |b1 - 1|, and the
Dice score. The last line is ``held-out topology errors: dice=N dice+topo=M of K``.

Usage: python examples/train_ring.py [--epochs 20] [--finetune-epochs 10] [--train 512] [--test 256]
       [--lam 0.05] [--batch 16] [--seed 7] [--backend auto]
(needs the package and torch: pip install . torch)
"""

import argparse
import copy
import math
import time

import numpy as np
import torch
from torch import nn

import wgpu_persistence as wp
from wgpu_persistence.torch import TopologicalLoss

SIZE = 32


def ring_sample(rng):
    """One (input, clean mask) pair, as examples/train_ring.rs draws them."""
    cy, cx = rng.uniform(13, 19, size=2)
    r_out = rng.uniform(8, 12)
    r_in = r_out - rng.uniform(2, 3.5)
    y, x = np.mgrid[:SIZE, :SIZE].astype(np.float32)
    d = np.hypot(y - cy, x - cx)
    mask = ((d >= r_in) & (d <= r_out)).astype(np.float32)
    image = 0.8 * mask + 0.1
    for _ in range(rng.integers(1, 3)):  # dark blotches on the ring: they cut or thin it
        angle = rng.uniform(0, 2 * math.pi)
        rm = 0.5 * (r_in + r_out)
        by, bx = cy + rm * math.sin(angle), cx + rm * math.cos(angle)
        br = rng.uniform(1, 2)
        image -= rng.uniform(0.3, 0.75) * mask * ((y - by) ** 2 + (x - bx) ** 2 <= br * br)
    for _ in range(rng.integers(0, 3)):  # bright specks off the ring
        yy, xx = rng.integers(1, SIZE - 2, size=2)
        h, w = rng.integers(1, 3, size=2)
        image[yy : yy + h, xx : xx + w] = np.maximum(image[yy : yy + h, xx : xx + w], 0.8)
    image += 0.2 * rng.standard_normal(image.shape).astype(np.float32)
    return image.astype(np.float32), mask


def dataset(n, rng):
    pairs = [ring_sample(rng) for _ in range(n)]
    images = torch.from_numpy(np.stack([p[0] for p in pairs]))[:, None]
    masks = torch.from_numpy(np.stack([p[1] for p in pairs]))[:, None]
    return images, masks


def model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=2, dilation=2), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=4, dilation=4), nn.ReLU(),
        nn.Conv2d(16, 1, 1),
    )


def dice_loss(p, target):
    inter = (p * target).sum(dim=(1, 2, 3))
    return (1 - (2 * inter + 1) / (p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1)).mean()


def train(net, images, masks, epochs, lr, batch, seed, topo=None, lam=0.0):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    topo_seconds = 0.0
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=g)
        for i in range(0, len(images), batch):
            idx = order[i : i + batch]
            p = torch.sigmoid(net(images[idx]))
            loss = dice_loss(p, masks[idx])
            if topo is not None:
                t = time.perf_counter()
                loss = loss + lam * topo(p)
                topo_seconds += time.perf_counter() - t
            opt.zero_grad()
            loss.backward()
            opt.step()
    return topo_seconds


@torch.no_grad()
def evaluate(net, images, masks, backend):
    p = torch.sigmoid(net(images))
    tables = wp.persistence_batch(p[:, 0].numpy(), superlevel=True, backend=backend)
    wrong, error = 0, 0
    for table in tables:
        alive = (table[:, 1] >= 0.5) & (table[:, 2] < 0.5)  # born above 0.5, dead below
        b0 = int(np.sum(alive & (table[:, 0] == 0)))
        b1 = int(np.sum(alive & (table[:, 0] == 1)))
        wrong += (b0, b1) != (1, 1)
        error += abs(b0 - 1) + abs(b1 - 1)
    hard = (p >= 0.5).float()
    inter = (hard * masks).sum(dim=(1, 2, 3))
    dice = ((2 * inter + 1) / (hard.sum(dim=(1, 2, 3)) + masks.sum(dim=(1, 2, 3)) + 1)).mean()
    return wrong, error / len(tables), float(dice)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--finetune-epochs", type=int, default=10)
    ap.add_argument("--train", type=int, default=512)
    ap.add_argument("--test", type=int, default=256)
    ap.add_argument("--lam", type=float, default=0.05)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--finetune-lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--backend", default="auto")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_x, train_y = dataset(args.train, rng)
    test_x, test_y = dataset(args.test, rng)
    info = wp.backend_info(args.backend)
    print(f"data: {args.train} training / {args.test} held-out {SIZE}x{SIZE} ring images; "
          f"backend {info['backend']} ({info['adapter'] or 'CPU'}); torch {torch.__version__}")

    start = time.perf_counter()
    shared = model()
    train(shared, train_x, train_y, args.epochs, args.lr, args.batch, args.seed)
    print(f"phase 1 (Dice, {args.epochs} epochs): {time.perf_counter() - start:.1f} s")

    dice_only, with_topo = copy.deepcopy(shared), copy.deepcopy(shared)
    train(dice_only, train_x, train_y, args.finetune_epochs, args.finetune_lr, args.batch, args.seed + 1)
    topo = TopologicalLoss(betti=[1, 1], backend=args.backend)
    start = time.perf_counter()
    topo_seconds = train(with_topo, train_x, train_y, args.finetune_epochs, args.finetune_lr, args.batch,
                         args.seed + 1, topo, args.lam)
    print(f"phase 2 (fine-tuning, {args.finetune_epochs} epochs): Dice + {args.lam} x topological loss "
          f"took {time.perf_counter() - start:.1f} s, of which the topological loss "
          f"(forward and its share of the graph) {topo_seconds:.1f} s")

    print(f"held-out results ({args.test} images, 0.5-superlevel set, prior (b0, b1) = (1, 1)):")
    results = {}
    for name, net in (("dice", dice_only), ("dice+topo", with_topo)):
        wrong, error, dice = evaluate(net, test_x, test_y, args.backend)
        results[name] = wrong
        print(f"  {name:10} wrong topology {wrong:4d} / {args.test}, mean Betti error {error:.3f}, "
              f"Dice {dice:.3f}")
    print(f"held-out topology errors: dice={results['dice']} dice+topo={results['dice+topo']} of {args.test}")


if __name__ == "__main__":
    main()
