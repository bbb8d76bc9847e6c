#!/usr/bin/python3
"""PyTorch twin of `likeness-cli bench nn` (issue 3): the same reference
multi-scale net on 64x64 RGB, timed the same way, and a cross-check of the
engine's loss and gradients on the engine's own weights and inputs.

Run with Debian's /usr/bin/python3 (python3-torch 1.13). Benchmark only:
nothing in Likeness imports this.

  bench-nn-torch.py --bench [--threads 1,2] [--seconds 3]
  bench-nn-torch.py --check PREFIX    (files from likeness-cli bench nn --export PREFIX)
"""
import argparse
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GAP = 1.0

# Conv name -> (mask, pool indices) taken from the engine's activations;
# empty for the ordinary net.
DECISIONS = {}


def relu_pool(name, pre):
    """max_pool2d(relu(pre), 2, 2), or with the engine's discrete choices."""
    if name not in DECISIONS:
        return F.max_pool2d(F.relu(pre), 2, 2)
    mask, idx = DECISIONS[name]
    n, c = pre.shape[:2]
    picked = pre.flatten(2).gather(2, idx.flatten(2)).view(idx.shape)
    return picked * mask.to(pre.dtype)


def engine_decisions(pooled, argmax):
    """The ReLU mask at each window's maximum and the maximum's index in
    its plane, from the engine's pooled output and choices (N, C, OH, OW)."""
    return torch.from_numpy(pooled > 0), torch.from_numpy(argmax.astype(np.int64))


class Shallow(nn.Module):
    def __init__(self, factor, side):
        super().__init__()
        self.factor = factor
        self.name = f"s{factor}_conv"
        self.conv = nn.Conv2d(3, 32, 5, padding=2)
        s = side // factor // 2
        self.fc = nn.Linear(32 * s * s, 128)

    def forward(self, x):
        x = F.avg_pool2d(x, self.factor, self.factor)
        x = relu_pool(self.name, self.conv(x))
        return F.normalize(self.fc(torch.flatten(x, 1)), dim=1)


class Reference(nn.Module):
    def __init__(self, side=64):
        super().__init__()
        chans = [3, 32, 64, 128, 128]
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1) for i in range(4))
        self.deep_fc = nn.Linear(128 * (side // 16) ** 2, 256)
        self.s4 = Shallow(4, side)
        self.s8 = Shallow(8, side)
        self.emb_fc = nn.Linear(512, 128)

    def forward(self, x):
        d = x
        for i, conv in enumerate(self.convs):
            d = relu_pool(f"conv{i + 1}", conv(d))
        d = F.normalize(self.deep_fc(torch.flatten(d, 1)), dim=1)
        e = torch.cat([d, self.s4(x), self.s8(x)], dim=1)
        return F.normalize(self.emb_fc(e), dim=1)

    def engine_names(self):
        """Engine tensor name -> parameter."""
        m = {}
        for i, conv in enumerate(self.convs):
            m[f"conv{i + 1}.weight"], m[f"conv{i + 1}.bias"] = conv.weight, conv.bias
        for name, mod in [("deep_fc", self.deep_fc), ("s4_conv", self.s4.conv), ("s4_fc", self.s4.fc),
                          ("s8_conv", self.s8.conv), ("s8_fc", self.s8.fc), ("emb_fc", self.emb_fc)]:
            m[name + ".weight"], m[name + ".bias"] = mod.weight, mod.bias
        return m


def triplet_loss(emb):
    n = emb.shape[0] // 3
    q, p, ng = emb[:n], emb[n:2 * n], emb[2 * n:]
    h = GAP + ((q - p) ** 2).sum(1) - ((q - ng) ** 2).sum(1)
    return torch.clamp(h, min=0).mean(), (h > 0).float().mean()


def optimizer(model):
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    rest = [p for n, p in model.named_parameters() if not n.endswith("weight")]
    return torch.optim.SGD([{"params": decay, "weight_decay": 0.001},
                            {"params": rest, "weight_decay": 0.0}], lr=0.01, momentum=0.9)


def timed(fn, seconds):
    for _ in range(2):
        fn()
    steps, t0 = 0, time.perf_counter()
    while True:
        fn()
        steps += 1
        t = time.perf_counter() - t0
        if t >= seconds and steps >= 3:
            return steps, t


def bench(threads, seconds, side=64):
    torch.manual_seed(1404)
    for n in threads:
        torch.set_num_threads(n)
        model = Reference(side)
        opt = optimizer(model)
        x96 = torch.rand(96, 3, side, side)
        x256 = torch.rand(256, 3, side, side)

        def train():
            opt.zero_grad()
            loss, _ = triplet_loss(model(x96))
            loss.backward()
            opt.step()

        model.train()
        steps, t = timed(train, seconds)
        train_rate = steps * 96 / t
        model.eval()

        def infer():
            with torch.no_grad():
                model(x256)

        steps, t = timed(infer, seconds)
        infer_rate = steps * 256 / t
        print(f"  torch {torch.__version__}, {n} threads (mkldnn {torch.backends.mkldnn.is_available()}): "
              f"training {train_rate:.0f} images/s, inference {infer_rate:.0f} images/s", flush=True)
        print(f"RESULT side=torch threads={n} train={train_rate:.1f} infer={infer_rate:.1f}", flush=True)


def check(prefix):
    meta, tensors, acts = {}, [], []
    with open(prefix + ".txt") as f:
        for line in f:
            w = line.split()
            if w[0] == "tensor":
                tensors.append((w[1], int(w[2]), int(w[3]), tuple(int(d) for d in w[4:])))
            elif w[0] == "pool":
                acts.append((w[1], tuple(int(d) for d in w[2:])))
            else:
                meta[w[0]] = float(w[1])
    side, batch, n_params = int(meta["side"]), int(meta["batch"]), int(meta["n_params"])
    data = np.fromfile(prefix + ".bin", dtype="<f4")
    params = data[:n_params]
    images = data[n_params:n_params + batch * 3 * side * side].reshape(batch, 3, side, side)
    off = n_params + batch * 3 * side * side
    grads = data[off:off + n_params]
    emb_engine = data[off + n_params:off + n_params + batch * 128].reshape(batch, 128)
    off += n_params + batch * 128
    engine_acts = {}
    for name, shape in acts:
        size = batch * int(np.prod(shape))
        pooled = data[off:off + size].reshape((batch,) + shape)
        argmax = data[off + size:off + 2 * size].reshape((batch,) + shape)
        engine_acts[name] = (pooled, argmax)
        off += 2 * size

    worst = {}
    runs = [(torch.float32, False), (torch.float64, False), (torch.float64, True)]
    for dtype, fixed in runs:
        DECISIONS.clear()
        if fixed:
            for name, (pooled, argmax) in engine_acts.items():
                DECISIONS[name] = engine_decisions(pooled, argmax)
        model = Reference(side).to(dtype)
        named = model.engine_names()
        with torch.no_grad():
            for name, o, size, shape in tensors:
                named[name].copy_(torch.from_numpy(params[o:o + size].reshape(shape).astype(np.float64)))
        x = torch.from_numpy(images.astype(np.float64)).to(dtype)
        emb = model(x)
        loss, viol = triplet_loss(emb)
        loss.backward()
        tag = ("float32" if dtype == torch.float32 else "float64") + ("-engine-choices" if fixed else "")
        rel_loss = abs(loss.item() - meta["loss"]) / abs(loss.item())
        rel_emb = np.abs(emb.detach().numpy() - emb_engine).max() / np.abs(emb.detach().numpy()).max()
        print(f"  PyTorch {tag}: loss {loss.item():.7f} (engine {meta['loss']:.7f}, relative error "
              f"{rel_loss:.2e}), violating {viol.item():.3f} (engine {meta['violating']:.3f}), "
              f"embedding max relative error {rel_emb:.2e}")
        max_rel = 0.0
        for name, o, size, shape in tensors:
            t = named[name].grad.detach().numpy().reshape(-1)
            e = grads[o:o + size]
            rel = np.abs(t - e).max() / max(np.abs(t).max(), 1e-30)
            max_rel = max(max_rel, rel)
            if fixed:
                print(f"    grad {name:16s} max |engine - torch| / max |torch| = {rel:.2e}")
        print(f"  worst gradient relative error vs {tag}: {max_rel:.2e}")
        print(f"RESULT check={tag} loss_rel={rel_loss:.3e} grad_rel={max_rel:.3e} emb_rel={rel_emb:.3e}")
        worst[tag] = max(max_rel, rel_loss)
    ok = worst["float64-engine-choices"] < 1e-3
    print("  (float32/float64: PyTorch's own ReLU and max-pool choices, where a near-tie can send a")
    print("   window's gradient elsewhere; -engine-choices: the same net with the engine's choices)")
    print(f"  agreement with PyTorch (relative error < 1e-3): {'yes' if ok else 'NO'}")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--check", metavar="PREFIX")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    status = 0
    if a.check:
        status = check(a.check)
    if a.bench:
        bench([int(t) for t in a.threads.split(",")], a.seconds)
    return status


if __name__ == "__main__":
    sys.exit(main())
