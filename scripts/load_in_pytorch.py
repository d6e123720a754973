#!/usr/bin/env python3
"""Load a voxgan weights file into an equivalent PyTorch generator and reproduce a sample.

    python3 scripts/load_in_pytorch.py Models/chairs32.h5 --seed 42 [--compare sample.npy]

Needs torch, h5py and numpy. Prints the sample's occupancy; with --compare (a file from
`curl 'localhost:8080/v1/sample?seed=42&format=npy' -o sample.npy`) also the largest
difference between PyTorch's probabilities and voxgan's.
"""
import argparse
import math

import h5py
import numpy as np
import torch
import torch.nn as nn

MASK = (1 << 64) - 1


def seed_to_z(seed, dim, distribution="normal", std=1.0):
    """voxgan's z for a seed: SplitMix64 draws, Box-Muller (cosine branch) for normal z."""
    state = seed & MASK

    def next_u64():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform():
        return (next_u64() >> 11) * 2.0 ** -53

    values = []
    for _ in range(dim):
        if distribution == "normal":
            u1, u2 = uniform(), uniform()
            values.append(std * math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2))
        else:
            values.append(std * (2 * uniform() - 1))
    return np.array(values, dtype=np.float32)


def tensor(dataset):
    """A dataset as a float32 tensor (voxgan stores convolution weights as float16)."""
    return torch.from_numpy(np.asarray(dataset[()], dtype=np.float32))


def load_generator(path):
    """nn.Sequential of ConvTranspose3d / BatchNorm3d / ReLU ... Sigmoid, in eval mode."""
    f = h5py.File(path, "r")
    assert f.attrs["format"] == "voxgan-weights", "not a voxgan weights file"
    widths = [int(f.attrs["z_dim"])] + [int(c) for c in f.attrs["channels"]] + [1]
    layers = []
    for i in range(len(widths) - 1):
        group = f[f"generator/layer{i}"]
        conv = nn.ConvTranspose3d(widths[i], widths[i + 1], kernel_size=4,
                                  stride=1 if i == 0 else 2, padding=0 if i == 0 else 1,
                                  bias="bias" in group)
        conv.weight.data = tensor(group["weight"])
        if "bias" in group:
            conv.bias.data = tensor(group["bias"])
        layers.append(conv)
        if "bn_weight" in group:
            bn = nn.BatchNorm3d(widths[i + 1], eps=float(f.attrs["bn_eps"]))
            bn.weight.data = tensor(group["bn_weight"])
            bn.bias.data = tensor(group["bn_bias"])
            bn.running_mean.data = tensor(group["bn_running_mean"])
            bn.running_var.data = tensor(group["bn_running_var"])
            layers += [bn, nn.ReLU()]
    layers.append(nn.Sigmoid())
    attributes = {key: f.attrs[key] for key in f.attrs}
    return nn.Sequential(*layers).eval(), attributes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--compare", help=".npy from /v1/sample?format=npy for the same seed")
    args = parser.parse_args()

    generator, attributes = load_generator(args.weights)
    z = seed_to_z(args.seed, int(attributes["z_dim"]), str(attributes["z_distribution"]),
                  float(attributes["z_std"]))
    with torch.no_grad():
        probabilities = generator(torch.from_numpy(z).view(1, -1, 1, 1, 1))[0, 0].numpy()
    threshold = float(attributes.get("recommended_threshold", 0.5))
    print(f"seed {args.seed}: grid {probabilities.shape} indexed [x, y, z] (+y up), "
          f"occupancy {(probabilities > threshold).mean():.4f} at threshold {threshold:.3f}")
    if args.compare:
        theirs = np.load(args.compare).reshape(probabilities.shape)
        print(f"max |PyTorch - voxgan| = {np.abs(theirs - probabilities).max():.3g}")


if __name__ == "__main__":
    main()
