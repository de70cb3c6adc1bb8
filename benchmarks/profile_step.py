"""Where the time of one training step goes, op by op: tfface against its
PyTorch twin.

For each preset, a fresh process builds and compiles it as tfface's runner
does (the recipe's Adam through `make_optimizer`; float32, XLA off), trains
`--warmup` steps through `model.fit` on an in-memory batch, then traces
`--steps` more with `tf.profiler.experimental` and reads each op's self
time from the trace (the profiler's `framework_op_stats` tool, which
TensorFlow ships). With `--torch`, a second process builds the preset's
PyTorch twin from `torch_compare.py` (Keras weights copied), runs
`--warmup` steps of its eager training loop (zero_grad, loss, backward,
Adam) and profiles `--steps` more with `torch.profiler` (CPU activity, self
CPU time per op). Both get `--threads` intra- and inter-op threads.

Ops are grouped into categories by two ordered rule tables (`TF_RULES`,
`TORCH_RULES`: an op type pattern and/or a pattern on the op's scope, first
match wins; anything unmatched is "other", whose largest op types are
listed so nothing is hidden). A TensorFlow op's scope is its name (Keras
layer and optimizer name scopes, e.g. `decoder_1/dec1_deconv_1/...`,
`adam/...`); a PyTorch op's scope is the chain of profiler events it runs
in (`Optimizer.step#Adam.step`, `aten::conv_transpose2d`, the twin's
`encoder`/`decoder`) plus, for backward ops, the scope of the forward op
that created their autograd node. One blind spot: TensorFlow names the
ops of a custom gradient (SiLU's: `Sigmoid`, `Mul`, `Sub` recomputed in
the backward pass) outside any layer scope, so its `Sigmoid` counts as an
activation by type but its element-wise ops land in "loss, KL, metrics,
sampling".

Prints, per preset, ms of op time per step and its share for each
category, the total op time against the wall time per step (the gap is
step overhead: Python, Keras' step loop, waiting; with 2 inter-op threads
ops may also overlap), and the largest "other" op types. The cores may be
shared: read the shares, not the milliseconds.

    python benchmarks/profile_step.py [--presets vae_demo face_64] [--batch 32] [--threads <all cores>]
        [--steps 10] [--warmup 3] [--precision float32|bfloat16] [--torch] [--out DIR]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from train_throughput import (  # noqa: E402
    Timer,
    compiled_preset,
    cpu_line,
    recipe_adam,
    report_result,
    resolve_presets,
    run_child,
    set_tf_threads,
    timed_fit,
    training_data,
)

PROFILE_PRESETS = ("vae_demo", "face_64")
TRUNKS = ("encoder", "decoder")  # the twin's trunks, marked in the PyTorch profile as TensorFlow names them

CONV = "conv + transposed conv (oneDNN)"
TRANSPOSED = "  of which transposed convs"
NORM = "normalization (BatchNorm)"
ADAM = "Adam update"
BIAS = "bias add + bias grad"
ACTIVATION = "activation + grad"
LOSS = "loss, KL, metrics, sampling"
DENSE = "dense"
OTHER = "other"
# Printed in this order; the transposed convs are a part of CONV, outside the sum.
CATEGORIES = (CONV, TRANSPOSED, NORM, ADAM, BIAS, ACTIVATION, LOSS, DENSE, OTHER)

# Outside the encoder and decoder (and not matched before): the loss terms,
# KL, metric trackers, the reparameterisation's sampling, and their gradients.
_OUTSIDE_TRUNKS = r"^(?!.*(^|/)(encoder|decoder)(_\d+)?(/|$))"
_TRANSPOSED_SCOPE = r"conv_transpose"

# (category, op type pattern, scope pattern): both given patterns must match
# (re.search); the first matching rule wins.
TF_RULES = (
    (ADAM, None, r"(^|/)adamw?(_\d+)?/"),  # the optimizer's name scope: moments, sqrt, assign_sub, iterations
    (ADAM, r"^ResourceApplyAdam|^AssignSubVariableOp$", None),
    (CONV, r"Conv[23]D|Convolution", None),  # _MklNativeConv2D*, _MklNativeFusedConv2D (bias folded in)
    (NORM, r"BatchNorm", None),  # FusedBatchNormV3 / _MklNativeFusedBatchNorm(Grad)V3
    (NORM, None, r"(^|[/_])(batch_|group_|layer_)?norm(ali[sz]ation)?\d*(_[^/]*)?/"),  # a norm layer's other ops
    (BIAS, r"^BiasAdd(Grad|V1)?$", None),
    (ACTIVATION, r"^(Leaky)?Relu6?(Grad)?$|^Elu|^Selu|^Sigmoid|^Tanh|^Softplus|^Softsign|Gelu|Swish", None),
    (ACTIVATION, None, r"(^|[/_])act(ivation)?\d*(_[^/]*)?/"),  # an activation layer's other ops
    (DENSE, r"MatMul|Einsum", None),  # _MklNativeFusedMatMul (bias folded in), attention's einsums
    (OTHER, r"^Dataset$|Iterator|^Optional", None),  # the input pipeline
    (LOSS, None, _OUTSIDE_TRUNKS),
)
TORCH_RULES = (
    (ADAM, None, r"Optimizer\.(step|zero_grad)"),  # single-tensor or _foreach_ Adam ops, the step counter's copies
    (ADAM, r"^aten::_foreach_", None),
    (CONV, None, r"conv"),  # conv2d/conv_transpose2d → mkldnn_convolution; ConvolutionBackward0 → convolution_backward
    (NORM, None, r"(batch|group|layer)_?norm"),  # native_batch_norm(_backward), NativeBatchNormBackward0
    (ACTIVATION, None, r"leaky_relu|LeakyRelu|silu|Silu|sigmoid|Sigmoid|\brelu|aten::(elu|selu|gelu|tanh)|Tanh|Gelu"),
    (DENSE, None, r"aten::(linear|addmm|mm|bmm|matmul)\b|(Addmm|Mm|Bmm)Backward"),
    (LOSS, None, _OUTSIDE_TRUNKS),
)


def categorize(rules, op_type: str, scope: str) -> tuple[str, bool]:
    """(category, whether the op is part of a transposed conv) of one op."""
    for category, type_pattern, scope_pattern in rules:
        if (type_pattern is None or re.search(type_pattern, op_type)) and (
            scope_pattern is None or re.search(scope_pattern, scope)
        ):
            return category, category == CONV and bool(re.search(_TRANSPOSED_SCOPE, scope))
    return OTHER, False


def summarize(records, rules, steps: int, wall_s: float, cpu_s: float, top: int = 6) -> dict:
    """Per-step ms of self time by category, their shares of the op time
    (the categories other than the transposed-conv part sum to 100 %), the
    largest "other" op types, and the op time against the step's wall time.
    `records`: (op type, scope, self µs over all `steps` steps)."""
    ms = dict.fromkeys(CATEGORIES, 0.0)
    others: dict[str, float] = {}
    for op_type, scope, self_us in records:
        category, transposed = categorize(rules, op_type, scope)
        ms[category] += self_us / 1e3 / steps
        if transposed:
            ms[TRANSPOSED] += self_us / 1e3 / steps
        if category == OTHER:
            others[op_type] = others.get(op_type, 0.0) + self_us / 1e3 / steps
    total = sum(value for category, value in ms.items() if category != TRANSPOSED)
    return {
        "ms": ms,
        "share": {category: value / total if total else 0.0 for category, value in ms.items()},
        "total_ms": total,
        "wall_ms": wall_s * 1e3 / steps,
        "cpu_ms": cpu_s * 1e3 / steps,
        "other_top": sorted(others.items(), key=lambda item: -item[1])[:top],
    }


# ------------------------------------------------------------- TensorFlow


def tf_op_records(logdir: str) -> list[tuple[str, str, float]]:
    """(op type, op name, self µs) of every op in the trace under `logdir`,
    from the profiler's "framework_op_stats" tool (a DataTable as JSON)."""
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin

    paths = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))
    if not paths:
        raise RuntimeError(f"no .xplane.pb trace under {logdir}")
    data, ok = _pywrap_profiler_plugin.xspace_to_tools_data(paths[-1:], "framework_op_stats", {})
    if not ok:
        raise RuntimeError(f"framework_op_stats: {data.decode(errors='replace')}")
    table = json.loads(data)[0]  # the first table counts the host's ops (and IDLE)
    columns = [column["id"] for column in table["cols"]]
    records = []
    for row in table["rows"]:
        values = dict(zip(columns, (cell.get("v") for cell in row["c"])))
        if values["type"] != "IDLE":
            records.append((values["type"], values["operation"], float(values["total_self_time"])))
    return records


def tfface_child(spec: dict) -> dict:
    """Builds and compiles the preset, writes its twin's files if asked,
    warms up, traces `steps` steps of `model.fit` and reads the op times."""
    import keras
    import tensorflow as tf

    set_tf_threads(spec["threads"])
    keras.mixed_precision.set_global_policy(spec["policy"])
    keras.utils.set_random_seed(0)
    model = compiled_preset(spec["preset"])
    if spec.get("twin"):
        from torch_compare import write_twin

        write_twin(model, spec["twin"])
    logdir = tempfile.mkdtemp(prefix="tfface-profile-")

    class Trace(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            tf.profiler.experimental.start(logdir)

        def on_train_end(self, logs=None):
            tf.profiler.experimental.stop()

    try:
        epochs, _ = timed_fit(model, training_data(model, spec["batch"]), spec["steps"], 1, spec["warmup"], callbacks=[Trace()])
        records = tf_op_records(logdir)
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    return {"records": records, "wall_s": epochs[0].wall, "cpu_s": epochs[0].cpu, "tensorflow": tf.__version__}


# ---------------------------------------------------------------- PyTorch


def torch_op_records(events) -> list[tuple[str, str, float]]:
    """(op name, scope, self µs) of each profiler event: the scope joins the
    names of the events it runs in (outermost first) and, for the work of a
    backward node, the scope of the forward op that created the node
    (matched by thread and sequence number)."""

    def chain(event) -> list[str]:
        names = []
        while event is not None:
            names.append(event.name)
            event = event.cpu_parent
        return names[::-1]

    def is_backward(name: str) -> bool:
        return bool(re.search(r"Backward\d*$", name))

    forward: dict[tuple[int, int], set[str]] = {}
    for event in events:
        if event.sequence_nr >= 0 and not is_backward(event.name):
            forward.setdefault((event.thread, event.sequence_nr), set()).update(chain(event))
    records = []
    for event in events:
        names, node = chain(event), event
        while node is not None and not (is_backward(node.name) and node.sequence_nr >= 0):
            node = node.cpu_parent
        origin = sorted(forward.get((node.fwd_thread, node.sequence_nr), ())) if node is not None else []
        scope = "/".join(names) + ("" if not origin else " <- " + "/".join(origin))
        records.append((event.name, scope, float(event.self_cpu_time_total)))
    return records


def torch_child(spec: dict) -> dict:
    """Builds the twin, warms up its training step, profiles `steps` steps."""
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function

    from torch_compare import load_twin, twin_training_step

    arch, net = load_twin(spec)
    for name in TRUNKS:
        trunk = getattr(net, name)
        trunk.forward = lambda *xs, _forward=trunk.forward, _name=name: _scoped(record_function, _name, _forward, xs)
    step = twin_training_step(net, arch, {**spec, "variant": "eager"})
    for _ in range(spec["warmup"]):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof, Timer() as t:
        for _ in range(spec["steps"]):
            loss = step()
        float(loss)
    # A marker's own time is Python between the trunk's ops: step overhead, not op time.
    records = [record for record in torch_op_records(prof.events()) if record[0] not in TRUNKS]
    return {"records": records, "wall_s": t.wall, "cpu_s": t.cpu, "torch": torch.__version__}


def _scoped(record_function, name, function, args):
    with record_function(name):
        return function(*args)


# ---------------------------------------------------------------------- main


def profile_preset(name: str, args, folder: str) -> dict:
    """Both frameworks' summaries of one preset (PyTorch's only with --torch)."""
    from tfface.presets import get_preset

    script = os.path.abspath(__file__)
    spec = {"batch": args.batch, "threads": args.threads, "steps": args.steps, "warmup": args.warmup}
    twin = os.path.join(folder, name) if args.torch else None
    policy = "mixed_bfloat16" if args.precision == "bfloat16" else "float32"
    result = run_child(script, {**spec, "framework": "tfface", "preset": name, "policy": policy, "twin": twin})
    summaries = {"tfface": summarize(result.pop("records"), TF_RULES, args.steps, result["wall_s"], result["cpu_s"])}
    if args.torch:
        lr, betas = recipe_adam(get_preset(name).recipe)
        result = run_child(script, {**spec, "framework": "torch", "arch": f"{twin}.arch", "weights": f"{twin}.weights.npz",
                                    "lr": lr, "betas": betas, "precision": args.precision})  # fmt: skip
        summaries["torch"] = summarize(result.pop("records"), TORCH_RULES, args.steps, result["wall_s"], result["cpu_s"])
    return summaries


def format_table(name: str, summaries: dict, args) -> str:
    """One preset's table: category, ms per step and share, per framework."""
    frameworks = [("tfface", "tfface"), ("torch", "PyTorch")]
    frameworks = [(key, label) for key, label in frameworks if key in summaries]
    lines = [f"{name}, batch {args.batch}, {args.threads} threads, {args.precision}: ms of op time per step (share)",
             f"{'category':34}" + "".join(f"{label:>18}" for _, label in frameworks)]  # fmt: skip
    for category in CATEGORIES:
        cells = []
        for key, _ in frameworks:
            ms, share = summaries[key]["ms"][category], summaries[key]["share"][category]
            cells.append(f"{ms:10.1f}" + (f" {share:5.0%} " if category != TRANSPOSED else " " * 7))
        lines.append(f"{category:34}" + "".join(f"{cell:>18}" for cell in cells))
    for label, field in (("total op time", "total_ms"), ("wall time per step", "wall_ms"), ("CPU time per step", "cpu_ms")):
        lines.append(f"{label:34}" + "".join(f"{summaries[key][field]:10.1f}{'':8}" for key, _ in frameworks))
    lines.append(f"{'op time / wall time':34}" + "".join(
        f"{summaries[key]['total_ms'] / summaries[key]['wall_ms']:10.2f}{'':8}" for key, _ in frameworks))  # fmt: skip
    for key, label in frameworks:
        top = ", ".join(f"{op} {ms:.1f}" for op, ms in summaries[key]["other_top"]) or "none"
        lines.append(f"largest 'other' op types, {label} (ms/step): {top}")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PROFILE_PRESETS))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="intra- and inter-op threads of both frameworks")
    parser.add_argument("--steps", type=int, default=10, help="profiled steps (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="steps before the profile (default 3)")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                        help="float32, or bfloat16: tfface mixed_bfloat16 vs torch.autocast(bfloat16)")  # fmt: skip
    parser.add_argument("--torch", action="store_true", help="profile the PyTorch twin too")
    parser.add_argument("--out", help="folder for profile_step.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        report_result((tfface_child if spec["framework"] == "tfface" else torch_child)(spec))
        return 0
    import importlib.util

    if args.torch and importlib.util.find_spec("torch") is None:
        print('PyTorch is not installed: pip install -e ".[bench]" (the CPU wheel is enough, see setup.cfg)')
        return 1
    presets = resolve_presets(args.presets)
    print(f"{cpu_line()}; {args.steps} profiled steps after {args.warmup} warm-up steps, one process per framework "
          "and preset; self time per op, grouped (read the shares: the cores may be shared)", flush=True)  # fmt: skip
    folder = tempfile.mkdtemp(prefix="tfface-profile-")
    results = {}
    try:
        for name in presets:
            start = time.perf_counter()
            results[name] = profile_preset(name, args, folder)
            print(f"\n{format_table(name, results[name], args)}\n({time.perf_counter() - start:.0f} s)", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        settings = {key: getattr(args, key) for key in ("batch", "threads", "steps", "warmup", "precision")}
        with open(os.path.join(args.out, "profile_step.json"), "w") as f:
            json.dump({"settings": settings, "presets": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
