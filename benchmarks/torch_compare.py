"""tfface against PyTorch: the same network, batch, optimizer and loss,
side by side in the same run.

For each preset the Keras model is translated layer by layer into a
PyTorch module (NCHW; Keras' "same" padding reproduced exactly, with an
explicit asymmetric zero pad or crop where PyTorch's symmetric padding
differs), the Keras weights are copied over, and the two are checked to
agree: parameter counts, eval-mode latents, reconstructions and loss.
Each trunk is translated as its functional graph (chains, residual Adds
and other merges, Concatenate, self-attention), so the residual face
presets (`face_64`) have a twin too; the loss is the preset's
reconstruction (MSE, BCE or the σ-VAE's calibrated Gaussian NLL) + β·KL
with its reductions. (PyTorch's BatchNorm keeps the unbiased batch variance
in its running average, Keras the biased one: equal maths in training,
slightly different moving statistics.)

Then both train in alternating fresh processes, `--rounds` times per
thread count: tfface through `model.fit` with its default compile settings
(float32, XLA off), PyTorch with a plain eager loop (zero_grad, loss,
backward, Adam step; `--torch-variants` adds channels_last and
torch.compile). Adam with the preset's recipe learning rate and betas
(default 1e-3, (0.9, 0.999)) and Keras' epsilon 1e-7 in both. Both
frameworks get the same intra- and inter-op thread counts (`--threads`,
default all cores: how people train; on cores other jobs share, PyTorch's
OpenMP threads wait for each other whenever another process takes a core,
TensorFlow's thread pool does not, so use `--threads 1` there), at batch
32 and 64 (`--batch`) by default.

Prints images/s (median of the timed epochs, median over rounds) and
images per CPU-second, the tfface/PyTorch ratios (target >= 1.0), each
framework's counted GFLOP/s as a share of its own 2048^3 float32 matmul,
and peak memory.

    python benchmarks/torch_compare.py [--presets vae_demo r003_vae r004_ae_baseline r002_anime_vae face_64]
        [--batch 32 64] [--steps 5] [--repeats 3] [--rounds 2] [--threads <all cores>]
        [--precision float32|bfloat16] [--torch-variants eager channels_last compile]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from train_throughput import (  # noqa: E402
    MATMUL_N,
    Timer,
    cpu_line,
    current_rss_mb,
    input_shape,
    peak_rss_mb,
    profiled_flops,
    rates,
    recipe_adam,
    report_result,
    resolve_presets,
    run_child,
)

KERAS_ADAM_EPSILON = 1e-7
# The headline comparison (issue 13): the 64² demo and anime VAEs, the
# report VAE at 112² and autoencoder at 256², the recommended face preset
# (residual trunks, σ-VAE decoder).
COMPARE_PRESETS = ("vae_demo", "r003_vae", "r004_ae_baseline", "r002_anime_vae", "face_64")
# Keras merge layers → the op joining their inputs.
MERGES = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply", "Average": "average",
          "Maximum": "maximum", "Minimum": "minimum", "Concatenate": "concat"}  # fmt: skip


# ------------------------------------------- Keras model → graph description


def layer_inputs(layer) -> list:
    """The symbolic tensors a layer of a functional trunk was called on."""
    import keras

    if len(getattr(layer, "_inbound_nodes", ())) > 1:
        raise ValueError(f"{layer.name}: a layer called more than once (shared weights) is not translated")
    return keras.tree.flatten(layer.input)


def torch_axis(axis: int, rank: int) -> int:
    """PyTorch's axis for Keras axis `axis` of a rank-`rank` tensor (batch
    axis included): rank-4 tensors are NHWC in Keras, NCHW in PyTorch."""
    axis = axis % rank
    return {1: 2, 2: 3, 3: 1}.get(axis, 0) if rank == 4 else axis


def describe_attention(layer, inputs) -> dict:
    """Keras' MultiHeadAttention over the one token axis of (batch, tokens,
    channels) inputs, called as (query, value[, key]) without masks."""
    config = layer.get_config()
    if len(inputs[0].shape) != 3 or tuple(config["attention_axes"] or (1,)) != (1,):
        raise ValueError(f"{layer.name}: only attention over the token axis of (batch, tokens, channels) is translated")
    if config.get("use_gate") or config.get("sliding_window") or config["output_shape"] is not None:
        raise ValueError(f"{layer.name}: MultiHeadAttention with a gate, a sliding window or an output_shape is not translated")
    return {"op": "attention", "heads": config["num_heads"], "key_dim": config["key_dim"],
            "value_dim": config["value_dim"] or config["key_dim"], "dropout": float(config["dropout"]),
            "bias": config["use_bias"], "inputs": len(inputs)}  # fmt: skip


def describe_layer(layer) -> list[dict]:
    """A JSON description of one Keras layer (several entries when a layer
    carries its own activation). A merge or attention entry takes all the
    layer's inputs; every other entry takes one."""
    import keras

    def act_entry(activation):
        name = activation.__name__
        return [] if name == "linear" else [{"op": "act", "fn": name}]

    inputs = layer_inputs(layer)
    in_shape = [int(d) for d in inputs[0].shape[1:]]
    out_shape = [int(d) for d in layer.output.shape[1:]]
    base = {"in": in_shape, "out": out_shape}
    if isinstance(layer, keras.layers.MultiHeadAttention):
        return [{**base, **describe_attention(layer, inputs)}]
    for class_name, kind in MERGES.items():
        if isinstance(layer, getattr(keras.layers, class_name)):
            entry = {**base, "op": "merge", "kind": kind}
            if kind == "concat":
                entry["axis"] = torch_axis(layer.axis, len(in_shape) + 1)
            return [entry]
    if len(inputs) > 1:
        raise ValueError(f"{layer.name}: no PyTorch translation for {type(layer).__name__} on {len(inputs)} inputs")
    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
        if tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1:
            raise ValueError(f"{layer.name}: dilated or grouped convolutions are not translated")
        op = "deconv" if isinstance(layer, keras.layers.Conv2DTranspose) else "conv"
        return [{**base, "op": op, "filters": layer.filters, "kernel": list(layer.kernel_size),
                 "strides": list(layer.strides), "padding": layer.padding, "bias": layer.use_bias}] + \
            act_entry(layer.activation)  # fmt: skip
    if isinstance(layer, keras.layers.Dense):
        return [{**base, "op": "dense", "units": layer.units, "bias": layer.use_bias}] + act_entry(layer.activation)
    if isinstance(layer, keras.layers.BatchNormalization):
        return [{**base, "op": "batchnorm", "momentum": layer.momentum, "epsilon": layer.epsilon,
                 "center": layer.center, "scale": layer.scale}]  # fmt: skip
    if isinstance(layer, keras.layers.GroupNormalization):
        groups = in_shape[-1] if layer.groups == -1 else layer.groups
        if layer.center != layer.scale:
            raise ValueError(f"{layer.name}: GroupNormalization with only one of center/scale is not translated")
        return [{**base, "op": "groupnorm", "groups": groups, "epsilon": layer.epsilon, "affine": layer.scale}]
    if isinstance(layer, keras.layers.LayerNormalization):
        if list(layer.axis) not in ([-1], [len(in_shape)]):
            raise ValueError(f"{layer.name}: only LayerNormalization over the last axis is translated")
        return [{**base, "op": "layernorm", "epsilon": layer.epsilon}]
    if isinstance(layer, keras.layers.LeakyReLU):
        return [{**base, "op": "act", "fn": "leaky_relu", "slope": float(layer.negative_slope)}]
    if isinstance(layer, keras.layers.ReLU):
        return [{**base, "op": "act", "fn": "relu"}]
    if isinstance(layer, keras.layers.Activation):
        return [{**base, **entry} for entry in act_entry(layer.activation)] or [{**base, "op": "identity"}]
    if isinstance(layer, keras.layers.Identity):
        return [{**base, "op": "identity"}]
    if isinstance(layer, keras.layers.Cropping2D):
        return [{**base, "op": "crop", "cropping": [list(c) for c in layer.cropping]}]
    if isinstance(layer, keras.layers.ZeroPadding2D):
        return [{**base, "op": "pad", "padding": [list(p) for p in layer.padding]}]
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        if layer.padding != "valid":
            raise ValueError(f"{layer.name}: only 'valid' pooling is translated")
        kind = "max" if isinstance(layer, keras.layers.MaxPooling2D) else "avg"
        return [{**base, "op": "pool", "kind": kind, "size": list(layer.pool_size), "strides": list(layer.strides)}]
    if isinstance(layer, keras.layers.UpSampling2D):
        if layer.interpolation != "nearest":
            raise ValueError(f"{layer.name}: only nearest-neighbour upsampling is translated")
        return [{**base, "op": "upsample", "size": list(layer.size)}]
    if isinstance(layer, keras.layers.Flatten):
        return [{**base, "op": "flatten"}]
    if isinstance(layer, keras.layers.Reshape):
        return [{**base, "op": "reshape"}]
    if isinstance(layer, keras.layers.Dropout):
        return [{**base, "op": "dropout", "rate": float(layer.rate)}]
    raise ValueError(f"{layer.name}: no PyTorch translation for {type(layer).__name__}")


def describe_trunk(trunk, prefix: str, weights: dict) -> dict:
    """{"input": name, "nodes": [...], "outputs": [names]}: a functional
    trunk as a DAG in topological order. Each node is {"name", "inputs"
    (node names), "ops" (layer entries applied in turn)}; a run of layers
    each feeding only the next is one node, so a chain of layers is a single
    node. Each weighted layer's arrays go into `weights` under
    "<prefix>.<layer name>.<i>"."""
    import keras

    # Every operation of the graph, so that one that is not a layer (a slice,
    # an op on symbolic tensors) fails by its name rather than going unseen.
    layers = getattr(trunk, "operations", trunk.layers)
    uses: dict[int, int] = {}
    for layer in layers:
        for tensor in layer_inputs(layer):
            uses[id(tensor)] = uses.get(id(tensor), 0) + 1
    for tensor in trunk.outputs:
        uses[id(tensor)] = uses.get(id(tensor), 0) + 1

    producer: dict[int, str] = {}  # symbolic tensor → name of the node computing it
    nodes: dict[str, dict] = {}
    input_name = None
    for layer in layers:
        name = f"{prefix}.{layer.name}"
        if isinstance(layer, keras.layers.InputLayer):
            if input_name is not None:
                raise ValueError(f"{trunk.name}: a trunk with several inputs is not translated")
            input_name, producer[id(layer.output)] = name, name
            continue
        inputs = layer_inputs(layer)
        entries = describe_layer(layer)
        for i, array in enumerate(layer.get_weights()):
            weights[f"{name}.{i}"] = array
        for entry in entries:
            entry["layer"] = name
        sources = [producer[id(tensor)] for tensor in inputs]
        if len(sources) == 1 and sources[0] in nodes and uses[id(inputs[0])] == 1:
            node = nodes.pop(sources[0])  # the only reader of its output: extend the node
            node["name"], node["ops"] = name, node["ops"] + entries
        else:
            node = {"name": name, "inputs": sources, "ops": entries}
        nodes[name] = node
        producer[id(layer.output)] = name
    # Insertion order is topological: an extended node moved to the end had no other reader.
    return {"input": input_name, "nodes": list(nodes.values()), "outputs": [producer[id(tensor)] for tensor in trunk.outputs]}


def describe_model(model) -> tuple[dict, dict]:
    """(architecture and loss description, weights) of a tfface autoencoder."""
    from tfface.models import VAE
    from tfface.models.base import DEFAULT_RECONSTRUCTION_REDUCTION, LatentAutoencoder
    from tfface.models.posterior import LOG_VAR_RANGE

    if not isinstance(model, LatentAutoencoder):
        raise ValueError(f"{model.name}: only LatentAutoencoder presets are translated to PyTorch")
    untranslated = {"perceptual_weight": model.perceptual_weight, "adversarial_weight": model.adversarial_weight,
                    "kl_warmup_steps": getattr(model, "kl_warmup_steps", 0), "freeze_encoder": model.freeze_encoder}  # fmt: skip
    if any(untranslated.values()):
        given = ", ".join(f"{key}={value}" for key, value in untranslated.items() if value)
        raise ValueError(f"{model.name}: {given} is not translated to PyTorch")
    weights: dict = {}
    likelihood = None
    if model.likelihood is not None:
        likelihood = {"sigma": model.likelihood.sigma, "min_log_sigma": model.likelihood.min_log_sigma}
        if model.likelihood.log_sigma is not None:
            weights["likelihood.log_sigma"] = model.likelihood.get_weights()[0]
    spec = {
        "input": list(input_shape(model)),
        "encoder": describe_trunk(model.encoder, "encoder", weights),
        "decoder": describe_trunk(model.decoder, "decoder", weights),
        "head": model.encoder.head,
        "loss": model.reconstruction_loss,
        "reduction": model.reconstruction_reduction or DEFAULT_RECONSTRUCTION_REDUCTION,
        "likelihood": likelihood,
        "value_range": model.value_range,
        "noise": model.input_noise_stddev,
        "beta": model.beta if isinstance(model, VAE) else 0.0,
        "kl_reduction": model.kl_reduction,
        "log_var_range": list(LOG_VAR_RANGE),
        "params": int(model.count_params()),
    }
    return spec, weights


# ------------------------------------------------- layer description → torch


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of one spatial axis."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def torch_layer(entry: dict, weights: dict):
    """The PyTorch module of one described layer, with the Keras weights."""
    import numpy as np
    import torch
    from torch import nn

    def tensor(i):
        return torch.from_numpy(np.ascontiguousarray(weights[f"{entry['layer']}.{i}"]))

    op = entry["op"]
    if op == "conv":
        (kh, kw), (sh, sw) = entry["kernel"], entry["strides"]
        conv = nn.Conv2d(entry["in"][-1], entry["filters"], (kh, kw), (sh, sw), bias=entry["bias"])
        conv.weight.data = tensor(0).permute(3, 2, 0, 1).contiguous()
        if entry["bias"]:
            conv.bias.data = tensor(1)
        if entry["padding"] == "valid":
            return conv
        (top, bottom), (left, right) = same_padding(entry["in"][0], kh, sh), same_padding(entry["in"][1], kw, sw)
        if top == bottom and left == right:
            conv.padding = (top, left)
            return conv
        return nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), conv)
    if op == "deconv":
        return TransposedConv(entry, tensor(0), tensor(1) if entry["bias"] else None)
    if op == "dense":
        dense = nn.Linear(entry["in"][-1], entry["units"], bias=entry["bias"])
        dense.weight.data = tensor(0).T.contiguous()
        if entry["bias"]:
            dense.bias.data = tensor(1)
        return dense
    if op == "batchnorm":
        channels, rank = entry["in"][-1], len(entry["in"])
        norm_cls = nn.BatchNorm2d if rank == 3 else nn.BatchNorm1d
        norm = norm_cls(channels, eps=entry["epsilon"], momentum=1 - entry["momentum"], affine=entry["scale"])
        i = 0
        if entry["scale"]:
            norm.weight.data, i = tensor(i), i + 1
        if entry["center"]:
            norm.bias.data, i = tensor(i), i + 1
        norm.running_mean.data, norm.running_var.data = tensor(i), tensor(i + 1)
        return norm
    if op == "groupnorm":
        norm = nn.GroupNorm(entry["groups"], entry["in"][-1], eps=entry["epsilon"], affine=entry["affine"])
        if entry["affine"]:
            norm.weight.data, norm.bias.data = tensor(0), tensor(1)
        return norm
    if op == "layernorm":
        norm = nn.LayerNorm(entry["in"][-1], eps=entry["epsilon"])
        norm.weight.data, norm.bias.data = tensor(0), tensor(1)
        return ChannelsLast(norm, permute=len(entry["in"]) == 3)
    if op == "act":
        return activation(entry)
    if op == "identity":
        return nn.Identity()
    if op == "pad":
        (top, bottom), (left, right) = entry["padding"]
        return nn.ZeroPad2d((left, right, top, bottom))
    if op == "crop":
        return Crop(entry["cropping"])
    if op == "pool":
        pool_cls = nn.MaxPool2d if entry["kind"] == "max" else nn.AvgPool2d
        return pool_cls(tuple(entry["size"]), tuple(entry["strides"]))
    if op == "upsample":
        return nn.Upsample(scale_factor=tuple(float(s) for s in entry["size"]), mode="nearest")
    if op == "flatten":
        return KerasFlatten()
    if op == "reshape":
        return KerasReshape(entry["in"], entry["out"])
    if op == "merge":
        return Merge(entry["kind"], entry.get("axis"))
    if op == "attention":
        return Attention(entry, [tensor(i) for i in range(8 if entry["bias"] else 4)])
    if op == "dropout":
        return nn.Dropout(entry["rate"])
    raise ValueError(f"{entry['layer']}: unknown op {op!r}")


def activation(entry: dict):
    from torch import nn

    name = entry["fn"]
    if name == "leaky_relu":
        return nn.LeakyReLU(entry.get("slope", 0.2))
    table = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "elu": nn.ELU, "selu": nn.SELU,
             "gelu": nn.GELU, "silu": nn.SiLU, "swish": nn.SiLU, "softplus": nn.Softplus}  # fmt: skip
    if name not in table:
        raise ValueError(f"{entry['layer']}: no PyTorch activation for {name!r}")
    return table[name]()


def _torch_modules():
    """Module classes defined lazily so that the parent never imports torch."""
    import numpy as np
    import torch
    from torch import nn

    class TransposedConv(nn.Module):
        """Keras' Conv2DTranspose: PyTorch's transposed conv, then TensorFlow's
        SAME crop of the full output (start = the forward conv's top pad)."""

        def __init__(self, entry, kernel, bias):
            super().__init__()
            (kh, kw), (sh, sw) = entry["kernel"], entry["strides"]
            (h, w), (out_h, out_w) = entry["in"][:2], entry["out"][:2]
            starts = [0, 0]
            if entry["padding"] == "same":
                starts = [same_padding(out_h, kh, sh)[0], same_padding(out_w, kw, sw)[0]]
            full = [(h - 1) * sh + kh, (w - 1) * sw + kw]
            # PyTorch crops `padding` from both ends and adds `output_padding` at the end.
            extra = [out - f + 2 * s for out, f, s in zip((out_h, out_w), full, starts)]
            direct = all(0 <= e < s for e, s in zip(extra, (sh, sw)))
            self.crop = None if direct else (starts, (out_h, out_w))
            padding, output_padding = (starts, extra) if direct else ((0, 0), [max(0, s + o - f) for s, o, f in
                                                                                 zip(starts, (out_h, out_w), full)])  # fmt: skip
            self.conv = nn.ConvTranspose2d(entry["in"][-1], entry["filters"], (kh, kw), (sh, sw),
                                           padding=tuple(padding), output_padding=tuple(output_padding),
                                           bias=bias is not None)  # fmt: skip
            self.conv.weight.data = kernel.permute(3, 2, 0, 1).contiguous()
            if bias is not None:
                self.conv.bias.data = bias

        def forward(self, x):
            x = self.conv(x)
            if self.crop is not None:
                (top, left), (h, w) = self.crop
                x = x[:, :, top : top + h, left : left + w]
            return x

    class ChannelsLast(nn.Module):
        """A norm over channels (Keras axis -1) applied to NCHW tensors."""

        def __init__(self, norm, permute: bool):
            super().__init__()
            self.norm, self.permute = norm, permute

        def forward(self, x):
            if not self.permute:
                return self.norm(x)
            return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    class Crop(nn.Module):
        """Keras' Cropping2D ((top, bottom), (left, right)) on NCHW tensors."""

        def __init__(self, cropping):
            super().__init__()
            (self.top, self.bottom), (self.left, self.right) = cropping

        def forward(self, x):
            return x[:, :, self.top : x.shape[2] - self.bottom, self.left : x.shape[3] - self.right]

    class KerasFlatten(nn.Module):
        """Flattens NCHW in Keras' (H, W, C) order, so the next Dense matches."""

        def forward(self, x):
            return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1) if x.dim() == 4 else x.reshape(x.shape[0], -1)

    class KerasReshape(nn.Module):
        """Keras' Reshape on tensors in Keras' (H, W, C) order: NCHW inputs
        are read as NHWC, and an (H, W, C) result is returned as NCHW."""

        def __init__(self, in_shape, shape):
            super().__init__()
            self.spatial_in, self.shape = len(in_shape) == 3, tuple(shape)

        def forward(self, x):
            if self.spatial_in:
                x = x.permute(0, 2, 3, 1)
            x = x.reshape(x.shape[0], *self.shape)
            return x.permute(0, 3, 1, 2) if len(self.shape) == 3 else x

    class Merge(nn.Module):
        """Keras' merge layers (Add, Concatenate, ...) on their inputs."""

        def __init__(self, kind, axis=None):
            super().__init__()
            self.kind, self.axis = kind, axis

        def forward(self, *xs):
            if self.kind == "concat":
                return torch.cat(xs, dim=self.axis)
            if self.kind == "subtract":
                return xs[0] - xs[1]
            out = xs[0]
            for x in xs[1:]:
                out = {"add": torch.add, "average": torch.add, "multiply": torch.mul,
                       "maximum": torch.maximum, "minimum": torch.minimum}[self.kind](out, x)  # fmt: skip
            return out / len(xs) if self.kind == "average" else out

    class Attention(nn.Module):
        """Keras' MultiHeadAttention on (batch, tokens, channels): per-head
        projections (Keras kernels (in, heads, dim) flattened to Linear
        layers), softmax(q·kᵀ/√key_dim)·v, output projection."""

        def __init__(self, entry, arrays):
            super().__init__()
            self.heads, self.dropout = entry["heads"], entry["dropout"]
            kernels, biases = (arrays[0::2], arrays[1::2]) if entry["bias"] else (arrays, [None] * 4)

            def linear(kernel, bias, fan_in):
                layer = nn.Linear(fan_in, kernel.numel() // fan_in, bias=bias is not None)
                layer.weight.data = kernel.reshape(fan_in, -1).T.contiguous()
                if bias is not None:
                    layer.bias.data = bias.reshape(-1)
                return layer

            self.query, self.key, self.value = (linear(k, b, k.shape[0]) for k, b in zip(kernels[:3], biases[:3]))
            heads, value_dim, _ = kernels[3].shape
            self.output = linear(kernels[3], biases[3], heads * value_dim)

        def forward(self, query, value, key=None):
            key = value if key is None else key
            split = lambda x: x.reshape(*x.shape[:2], self.heads, -1).transpose(1, 2)  # noqa: E731  (B, heads, N, dim)
            q, k, v = split(self.query(query)), split(self.key(key)), split(self.value(value))
            dropout = self.dropout if self.training else 0.0
            attended = nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
            return self.output(attended.transpose(1, 2).flatten(2))

    class GraphNode(nn.Module):
        """One node of a trunk's graph: an optional merge or attention op
        joining the node's inputs, then a chain of single-input layers."""

        def __init__(self, ops, weights):
            super().__init__()
            joins = ops[0]["op"] in ("merge", "attention")
            self.join = torch_layer(ops[0], weights) if joins else None
            self.chain = nn.Sequential(*[torch_layer(entry, weights) for entry in ops[1 if joins else 0 :]])

        def forward(self, *xs):
            return self.chain(self.join(*xs) if self.join is not None else xs[0])

    class TorchGraph(nn.Module):
        """A trunk described by `describe_trunk`: nodes run in order, each on
        the outputs of its input nodes; returns the list of trunk outputs."""

        def __init__(self, trunk, weights):
            super().__init__()
            self.input, self.outputs = trunk["input"], list(trunk["outputs"])
            self.names = [node["name"] for node in trunk["nodes"]]
            self.sources = [list(node["inputs"]) for node in trunk["nodes"]]
            self.nodes = nn.ModuleList(GraphNode(node["ops"], weights) for node in trunk["nodes"])
            last_read = {name: i for i, sources in enumerate(self.sources) for name in sources}
            # Names whose last reader is node i (and that are not outputs): dropped after it.
            self.release = [[n for n in set(sources) if last_read[n] == i and n not in self.outputs]
                            for i, sources in enumerate(self.sources)]  # fmt: skip

        def forward(self, x):
            values = {self.input: x}
            for name, sources, node, release in zip(self.names, self.sources, self.nodes, self.release):
                values[name] = node(*[values[source] for source in sources])
                for source in release:
                    del values[source]
            return [values[name] for name in self.outputs]

    class TorchLatentAutoencoder(nn.Module):
        """tfface's LatentAutoencoder step in PyTorch: posterior, reparameterised
        sample, decoder, reconstruction (summed or averaged per image, or the
        calibrated Gaussian decoder's NLL), KL."""

        def __init__(self, spec, weights):
            super().__init__()
            self.spec = spec
            self.encoder = TorchGraph(spec["encoder"], weights)
            self.decoder = TorchGraph(spec["decoder"], weights)
            likelihood = spec["likelihood"]
            if likelihood is not None and likelihood["sigma"].startswith("learned"):
                self.log_sigma = nn.Parameter(torch.from_numpy(np.array(weights["likelihood.log_sigma"], dtype=np.float32)))

        def posterior(self, x):
            out = self.encoder(x)
            if self.spec["head"] == "gaussian":
                return out[0], out[1].clamp(*self.spec["log_var_range"])
            return out[0], None

        def reconstruction(self, images, outputs):
            """The batch mean of the per-image reconstruction term (NCHW)."""
            spec, likelihood = self.spec, self.spec["likelihood"]
            if likelihood is not None:
                return self.gaussian_nll(images, outputs, likelihood).mean()
            if spec["loss"] == "mse":
                per_pixel = (images - outputs) ** 2
            else:
                unit = (lambda t: (t + 1) / 2) if spec["value_range"] == "-1_1" else (lambda t: t)
                t, p = unit(images), unit(outputs).clamp(1e-7, 1 - 1e-7)
                per_pixel = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
            per_image = per_pixel.flatten(1)
            return (per_image.sum(1) if spec["reduction"] == "sum" else per_image.mean(1)).mean()

        def gaussian_nll(self, images, outputs, likelihood):
            """Per-image Σ_pixels [log σ + ½ log 2π + (x − x̂)²/(2σ²)] (σ-VAE):
            σ² the batch's mean squared error (per channel for "optimal_channel"),
            clipped below at exp(min_log_sigma), gradient stopped; or the learned
            log σ soft-clipped, min + softplus(log σ − min)."""
            error = (images - outputs) ** 2
            per_channel, low = likelihood["sigma"].endswith("_channel"), likelihood["min_log_sigma"]
            if likelihood["sigma"].startswith("optimal"):
                mean_error = error.mean(dim=(0, 2, 3)) if per_channel else error.mean()
                log_sigma = (0.5 * torch.log(mean_error + 1e-12)).clamp(min=low).detach()
            else:
                log_sigma = low + nn.functional.softplus(self.log_sigma - low)
            if per_channel:
                log_sigma = log_sigma.view(1, -1, 1, 1)
            per_pixel = log_sigma + 0.5 * math.log(2 * math.pi) + 0.5 * error * torch.exp(-2 * log_sigma)
            return per_pixel.flatten(1).sum(1)

        def losses(self, images, training: bool):
            spec = self.spec
            inputs = images
            if training and spec["noise"]:
                low = -1.0 if spec["value_range"] == "-1_1" else 0.0
                inputs = (images + spec["noise"] * torch.randn_like(images)).clamp(low, 1.0)
            mean, log_var = self.posterior(inputs)
            z = mean if log_var is None or not training else mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
            outputs = self.decoder(z)[0]
            rec = self.reconstruction(images, outputs)
            if log_var is None:
                return rec, outputs
            per_dim = -0.5 * (1 + log_var - mean**2 - torch.exp(log_var))
            kl = per_dim.sum(1) if spec["kl_reduction"] == "sum" else per_dim.mean(1)
            return rec + spec["beta"] * kl.mean(), outputs

    return {name: value for name, value in locals().items() if isinstance(value, type)}


def load_torch_classes() -> None:
    """Defines the module classes above as globals (in the PyTorch child only)."""
    globals().update(_torch_modules())


# ------------------------------------------------------------------ children


def load_twin(spec: dict):
    """(architecture, PyTorch twin) from the files `write_twin` wrote, with
    `spec["threads"]` intra- and inter-op threads and a fixed seed."""
    import numpy as np
    import torch

    torch.set_num_threads(spec["threads"])
    torch.set_num_interop_threads(spec["threads"])
    torch.manual_seed(0)
    load_torch_classes()
    with open(spec["arch"]) as f:
        arch = json.load(f)
    return arch, TorchLatentAutoencoder(arch, dict(np.load(spec["weights"])))


def twin_training_step(net, arch: dict, spec: dict):
    """The twin's training step on one fixed random batch of `spec["batch"]`
    images: zero_grad, loss, backward, Adam step (`spec`'s lr and betas,
    Keras' epsilon); `spec["precision"]` "bfloat16" runs it under autocast,
    `spec["variant"]` picks the eager, channels_last or torch.compile loop.
    Returns `step()`, which returns the loss."""
    import numpy as np
    import torch

    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=spec["lr"], betas=tuple(spec["betas"]), eps=KERAS_ADAM_EPSILON)
    rng = np.random.default_rng(0)
    h, w, c = arch["input"]
    batch = rng.random((spec["batch"], c, h, w), dtype=np.float32)
    if arch["value_range"] == "-1_1":
        batch = batch * 2 - 1
    batch = torch.from_numpy(batch)
    autocast = spec["precision"] == "bfloat16"
    losses = net.losses
    if spec["variant"] == "channels_last":
        net.to(memory_format=torch.channels_last)
        batch = batch.contiguous(memory_format=torch.channels_last)
    elif spec["variant"] == "compile":
        losses = torch.compile(net.losses)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss, _ = losses(batch, training=True)
        loss.float().backward()
        optimizer.step()
        return loss

    return step


def torch_child(spec: dict) -> dict:
    """Builds the PyTorch twin, checks it against the Keras outputs, times training."""
    import numpy as np
    import torch

    rss_start = current_rss_mb()
    arch, net = load_twin(spec)
    check = np.load(spec["check"])
    params = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for n, b in net.named_buffers() if not n.endswith("num_batches_tracked"))

    net.eval()
    with torch.no_grad():
        images = torch.from_numpy(check["images"]).permute(0, 3, 1, 2).contiguous()
        loss, outputs = net.losses(images, training=False)
        mean, _ = net.posterior(images)
    diff = {
        "outputs": float(np.abs(outputs.permute(0, 2, 3, 1).numpy() - check["outputs"]).max()),
        "z": float(np.abs(mean.numpy() - check["z"]).max()),
        "loss_rel": abs(float(loss) - float(check["loss"])) / max(abs(float(check["loss"])), 1e-12),
    }

    step = twin_training_step(net, arch, spec)
    start = time.perf_counter()
    for _ in range(spec["warmup"]):
        step()
    warmup = time.perf_counter() - start
    epochs, matmuls, peak = [], [], 0.0
    a = b = None
    for repeat in range(spec["repeats"]):
        with Timer() as t:
            for _ in range(spec["steps"]):
                loss = step()
            float(loss)
        epochs.append(t)
        if repeat == 0:
            peak = peak_rss_mb()  # before the matmul operands exist
            a = torch.rand(MATMUL_N, MATMUL_N)
            b = a.T.contiguous()
            torch.mm(a, b)
        with Timer() as t:  # sampled between timed epochs, as in the TensorFlow child
            torch.mm(a, b)
        matmuls.append(t)
    flops = 2 * MATMUL_N**3 / 1e9
    return {
        "params": int(params),
        "buffers": int(buffers),
        **rates(spec["batch"] * spec["steps"], epochs),
        "matmul_gflops": flops / statistics.median(t.wall for t in matmuls),
        "matmul_gflops_cpu": flops / statistics.median(t.cpu for t in matmuls),
        "diff": diff,
        "warmup_s": warmup,
        "rss_start_mb": rss_start,
        "peak_rss_mb": peak,
        "torch": torch.__version__,
        "threads": [torch.get_num_threads(), torch.get_num_interop_threads()],
    }


# ---------------------------------------------------------------------- main


def write_twin(model, prefix: str) -> tuple[dict, dict]:
    """Writes the model's description (`PREFIX.arch`) and weights
    (`PREFIX.weights.npz`) for a PyTorch child; returns ({"arch", "weights"}
    paths, the description)."""
    import numpy as np

    arch, weights = describe_model(model)
    paths = {"arch": f"{prefix}.arch", "weights": f"{prefix}.weights.npz"}
    with open(paths["arch"], "w") as f:
        json.dump(arch, f)
    np.savez(paths["weights"], **weights)
    return paths, arch


def export_preset(name: str, folder: str) -> dict:
    """Builds the preset in Keras, writes its description, weights and
    reference outputs for the PyTorch child; returns paths and counts."""
    import keras
    import numpy as np

    from tfface.presets import build_preset, get_preset

    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(0)
    model = build_preset(name)
    paths, arch = write_twin(model, os.path.join(folder, name))
    rng = np.random.default_rng(1)
    images = rng.random((2, *input_shape(model)), dtype=np.float32)
    if model.value_range == "-1_1":
        images = images * 2 - 1
    paths["check"] = os.path.join(folder, f"{name}.check.npz")
    np.savez(
        paths["check"],
        images=images,
        outputs=keras.ops.convert_to_numpy(model(images, training=False)),
        z=keras.ops.convert_to_numpy(model.encode(images)),
        loss=float(model.compute_losses(images, training=False)["loss"]),
    )
    _, train_flops = profiled_flops(model)
    lr, betas = recipe_adam(get_preset(name).recipe)
    return {"paths": paths, "params": arch["params"], "trainable": int(sum(w.numpy().size for w in model.trainable_weights)),
            "train_flops": train_flops, "lr": lr, "betas": betas, "input": arch["input"]}  # fmt: skip


def compare_presets() -> list[str]:
    """`COMPARE_PRESETS` that are registered here."""
    from tfface.presets import load_all

    registry = load_all()
    return [name for name in COMPARE_PRESETS if name in registry]


def median_rate(runs: list[dict], key: str = "images_per_s") -> float:
    return statistics.median(r[key] for r in runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", help=f"default: {', '.join(COMPARE_PRESETS)} where registered")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 64],
                        help="batch sizes; each is one comparison (default 32 64, the sizes people train)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternating tfface/PyTorch process pairs")
    parser.add_argument("--threads", type=int, nargs="+", default=[os.cpu_count()],
                        help="intra- and inter-op threads of both frameworks; each count is one comparison "
                             f"(default all cores, {os.cpu_count()} here; 1 on cores other jobs share)")  # fmt: skip
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                        help="float32, or bfloat16: tfface mixed_bfloat16 vs torch.autocast(bfloat16)")  # fmt: skip
    parser.add_argument("--xla", default="off", choices=["off", "on"], help="tfface's jit_compile")
    parser.add_argument("--torch-variants", nargs="+", default=["eager"], choices=["eager", "channels_last", "compile"],
                        help="PyTorch loops to time: eager NCHW (default), channels_last memory format, torch.compile")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        report_result(torch_child(json.loads(args.child)))
        return 0
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        print('PyTorch is not installed: pip install -e ".[bench]" (the CPU wheel is enough, see setup.cfg)')
        return 1
    import tensorflow as tf

    presets = resolve_presets(args.presets or compare_presets())
    script, tf_script = os.path.abspath(__file__), os.path.join(HERE, "train_throughput.py")
    folder = tempfile.mkdtemp(prefix="tfface-torch-")
    policy = "mixed_bfloat16" if args.precision == "bfloat16" else "float32"
    print(f"{cpu_line()}; TensorFlow {tf.__version__}; batch {' and '.join(map(str, args.batch))}, {args.repeats} x {args.steps} timed "
          f"steps per process (median) after {args.warmup} warm-up steps, {args.rounds} alternating rounds; "
          f"tfface {policy}, XLA {args.xla}; PyTorch {args.precision} ({', '.join(args.torch_variants)}); "
          "PyTorch's intra- and inter-op threads set equal to TensorFlow's")  # fmt: skip
    timing = {"steps": args.steps, "repeats": args.repeats, "warmup": args.warmup}
    cells = [(threads, batch) for threads in args.threads for batch in args.batch]
    exported, runs = {}, {}
    try:
        for name in presets:
            try:
                exported[name] = export_preset(name, folder)
            except ValueError as error:  # e.g. a residual trunk: no twin, so no comparison
                print(f"  {name}: skipped, no PyTorch twin ({error})", flush=True)
                continue
            for threads, batch in cells:
                for _ in range(args.rounds):
                    spec = {**timing, "threads": threads, "batch": batch}
                    runs.setdefault((name, threads, batch, "tfface"), []).append(run_child(
                        tf_script, {**spec, "preset": name, "precision": policy, "xla": args.xla == "on"}))  # fmt: skip
                    for variant in args.torch_variants:
                        runs.setdefault((name, threads, batch, variant), []).append(run_child(
                            script, {**spec, **exported[name]["paths"], "lr": exported[name]["lr"], "betas": exported[name]["betas"],
                                     "precision": args.precision, "variant": variant}))  # fmt: skip
            print(f"  {name}: done", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print("\nthe same network in both (Keras weights copied; eval-mode outputs on 2 random images); Keras counts "
          "BatchNorm moving statistics as (non-trainable) weights, PyTorch as buffers")  # fmt: skip
    print(f"{'preset':18}{'input':>12}{'Keras total':>13}{'trainable':>12}{'PyTorch params':>16}{'+ buffers':>12}"
          f"{'max |Δ output|':>16}{'max |Δ z|':>11}{'Δ loss rel':>12}")  # fmt: skip
    for name, info in exported.items():
        pt = runs[(name, *cells[0], args.torch_variants[0])][0]
        d = pt["diff"]
        size = "x".join(str(n) for n in info["input"])
        print(f"{name:18}{size:>12}{info['params']:13,}{info['trainable']:12,}{pt['params']:16,}"
              f"{pt['params'] + pt['buffers']:12,}{d['outputs']:16.1e}{d['z']:11.1e}{d['loss_rel']:12.1e}")  # fmt: skip

    print("\ntraining images/s (median over rounds of each process' median) and images per CPU-second; "
          "ratio = tfface / PyTorch (target >= 1.0); GFLOP/s = counted training FLOPs x images/s; 'of mm' = "
          "share of the same process' 2048^3 float32 matmul, per CPU-second")  # fmt: skip
    print(f"{'preset':18}{'threads':>8}{'batch':>6}{'framework':>20}{'images/s':>10}{'ratio':>7}{'per round':>16}"
          f"{'img/CPU-s':>11}{'ratio':>7}{'GFLOP/s':>9}{'of mm':>7}{'peak RSS MB':>13}{'warm-up s':>11}")  # fmt: skip
    for name, info in exported.items():
        for threads, batch in cells:
            tf_runs = runs[(name, threads, batch, "tfface")]
            for framework in ["tfface", *args.torch_variants]:
                these = runs[(name, threads, batch, framework)]
                rate, cpu_rate = median_rate(these), median_rate(these, "images_per_cpu_s")
                is_tf = framework == "tfface"
                ratio = "" if is_tf else f"{median_rate(tf_runs) / rate:7.2f}"
                cpu_ratio = "" if is_tf else f"{median_rate(tf_runs, 'images_per_cpu_s') / cpu_rate:7.2f}"
                rounds = "" if is_tf else "/".join(
                    f"{a['images_per_s'] / b['images_per_s']:.2f}" for a, b in zip(tf_runs, these))  # fmt: skip
                gflops = info["train_flops"] * rate / 1e9
                efficiency = info["train_flops"] * cpu_rate / 1e9 / statistics.median(r["matmul_gflops_cpu"] for r in these)
                label = framework if is_tf else f"torch {framework}"
                print(f"{name:18}{threads:8}{batch:6}{label:>20}{rate:10.1f}{ratio:>7}{rounds:>16}{cpu_rate:11.1f}{cpu_ratio:>7}"
                      f"{gflops:9.1f}{efficiency:7.0%}{max(r['peak_rss_mb'] for r in these):13.0f}"
                      f"{statistics.median(r['warmup_s'] for r in these):11.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
