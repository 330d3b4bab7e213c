#!/usr/bin/env python3
"""The PyTorch peer of `facefx train` (not a test): the same network (FaceClassifierNet: three 3x3 stride-2
convolutions 1-8-16-32 with TFLite SAME padding and ReLU, global average pool, dense, softmax), the same
loss (mean cross-entropy), Adam with the same settings, eager mode, fp32.

  bench/train_pytorch.py --bench 8,32 [--iters 50] [--device cpu|cuda] [--input grey64|rgb128]
      training steps on random crops: ms per step and crops per second per batch size
      (the rows of `facefx bench train`).
  bench/train_pytorch.py --data CROPS [--epochs 12 --batch 16 --lr 0.01 --seed 1] [--device ...]
      trains on the crops `facefx train --save-crops CROPS` wrote (the very same crops, augmented
      variants included, same held-out frames): per epoch the loss, training and validation accuracy
      and the training seconds so far, the lines `facefx train` prints, for time-to-accuracy.
Threads: PyTorch's default (all cores). CUDA timings synchronise before reading the clock.
"""
import argparse, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

class FaceClassifierNet(torch.nn.Module):
    def __init__(self, classes, channels=1):
        super().__init__()
        c = [channels, 8, 16, 32]
        self.convs = torch.nn.ModuleList(torch.nn.Conv2d(c[s], c[s + 1], 3, stride=2) for s in range(3))
        for conv in self.convs:   # He initialisation, zero biases, as FaceClassifierNet(seed:)
            torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu"); torch.nn.init.zeros_(conv.bias)
        self.dense = torch.nn.Linear(c[3], classes)
        torch.nn.init.normal_(self.dense.weight, std=(1 / c[3]) ** 0.5); torch.nn.init.zeros_(self.dense.bias)

    def forward(self, x):   # x: [N, C, S, S] (grey64: 1 x 64 x 64, rgb128: 3 x 128 x 128)
        for conv in self.convs:
            x = F.relu(conv(F.pad(x, (0, 1, 0, 1))))   # SAME for even sizes, stride 2: one after, none before
        return self.dense(x.mean(dim=(2, 3)))          # logits; softmax is in the loss

def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()

def bench(args, device):
    print(f"PyTorch {torch.__version__}, {device}, {torch.get_num_threads()} threads, {args.input}; {args.iters} timed steps per row (+5 warm-up), median")
    print("| batch | ms / step | crops / s |\n|---:|---:|---:|")
    for batch in [int(b) for b in args.bench.split(",")]:
        channels, side = (1, 64) if args.input == "grey64" else (3, 128)
        net = FaceClassifierNet(3, channels).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=0.001)
        x = torch.rand(batch, channels, side, side, device=device) * 2 - 1
        y = torch.arange(batch, device=device) % 3
        times = []
        for i in range(args.iters + 5):
            sync(device); t = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            logits = net(x)
            F.cross_entropy(logits, y).backward()
            opt.step()
            logits.softmax(1).cpu()   # the probabilities read back, as facefx's step does
            sync(device)
            if i >= 5: times.append((time.perf_counter() - t) * 1000)
        ms = float(np.median(times))
        print(f"| {batch} | {ms:.3f} | {batch * 1000 / ms:.0f} |")

def train(args, device):
    load = lambda name: np.load(os.path.join(args.data, name))
    tx, ty, vx, vy = (torch.from_numpy(load(n)) for n in ("train_x.npy", "train_y.npy", "val_x.npy", "val_y.npy"))
    labels = open(os.path.join(args.data, "labels.txt")).read().split()
    # grey64 crops are [N, 64, 64], rgb128 [N, 128, 128, 3] (NHWC): to NCHW.
    nchw = lambda t: t[:, None] if t.ndim == 3 else t.permute(0, 3, 1, 2).contiguous()
    tx, vx = nchw(tx).to(device), nchw(vx).to(device)
    ty, vy = ty.long().to(device), vy.long().to(device)
    torch.manual_seed(args.seed)
    net = FaceClassifierNet(len(labels), tx.shape[1]).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    g = torch.Generator().manual_seed(args.seed)
    print(f"PyTorch {torch.__version__}, {device}, {torch.get_num_threads()} threads: {len(tx)} training crops, {len(vx)} validation, {len(labels)} classes")
    sync(device); start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(tx), generator=g)
        loss_sum, correct = 0.0, 0
        for b in range(0, len(order), args.batch):
            # A short last batch is filled from the start of the order, as facefx train does.
            idx = order[(torch.arange(args.batch) + b) % len(order)].to(device)
            real = min(args.batch, len(order) - b)
            opt.zero_grad(set_to_none=True)
            logits = net(tx[idx])
            F.cross_entropy(logits, ty[idx]).backward()
            opt.step()
            with torch.no_grad():
                lp = logits[:real].log_softmax(1)
                loss_sum -= lp.gather(1, ty[idx][:real, None]).sum().item()
                correct += (lp.argmax(1) == ty[idx][:real]).sum().item()
        with torch.no_grad():
            val = (net(vx).argmax(1) == vy).float().mean().item() if len(vx) else float("nan")
        sync(device)
        print(f"epoch {epoch}/{args.epochs}: loss {loss_sum / len(tx):.4f}, train {100 * correct / len(tx):.1f} %, "
              f"validation {100 * val:.1f} % ({time.perf_counter() - start:.1f} s)", flush=True)

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--bench"); p.add_argument("--iters", type=int, default=50)
p.add_argument("--input", default="grey64", choices=["grey64", "rgb128"])
p.add_argument("--data"); p.add_argument("--epochs", type=int, default=12); p.add_argument("--batch", type=int, default=16)
p.add_argument("--lr", type=float, default=0.01); p.add_argument("--seed", type=int, default=1)
p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
args = p.parse_args()
if not (args.bench or args.data): p.error("--bench or --data")
device = torch.device(args.device)
if args.bench: bench(args, device)
if args.data: train(args, device)
