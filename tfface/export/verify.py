"""Check an export the way a server will use it: in a fresh process that
never imports tfface, every signature is run on fixed inputs and compared
with the Keras model, bad inputs must be refused with an error naming the
signature and argument, the dtypes of every signature's graph are counted
(a float32 export may hold no float16 or bfloat16 node), and
`saved_model_cli show --all` describes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field

import numpy as np

from tfface.export.savedmodel import ServingOptions, serving_model, signature_docs
from tfface.models.posterior import LOG_VAR_RANGE
from tfface.sampling.latents import to_numpy
from tfface.value_range import ValueRange

# Runs in the fresh process: tfface imports are refused, so the SavedModel
# must stand on TensorFlow alone. Signatures run twice: through
# `tf.saved_model.load` (Python clients) and through a TF1 session fed by
# tensor name from the C++ side, as TensorFlow Serving runs them (no
# Python-side shape or dtype checks).
CHILD = textwrap.dedent(
    """
    import collections, json, sys

    class RefuseTfface:
        def find_spec(self, name, path=None, target=None):
            if name == "tfface" or name.startswith("tfface."):
                raise ImportError("the export must load without tfface")

    sys.meta_path.insert(0, RefuseTfface())
    import numpy as np
    import tensorflow as tf

    plan = json.load(open(sys.argv[1]))
    arrays = np.load(plan["inputs"])
    loaded = tf.saved_model.load(plan["path"])
    outputs, report = {}, {"signatures": sorted(loaded.signatures), "rejected": {}}

    def census(function):
        # nodes per dtype named in their attributes (T, dtype, SrcT/DstT, ...), called functions included
        graph = function.graph.as_graph_def()
        counts = collections.Counter()
        for node in [*graph.node, *(n for f in graph.library.function for n in f.node_def)]:
            types = set()
            for attr in node.attr.values():
                types.update([attr.type] if attr.HasField("type") else attr.list.type if attr.HasField("list") else [])
            counts.update(tf.dtypes.as_dtype(t).name for t in types if t)
        return dict(counts)

    report["dtypes"] = {name: census(function) for name, function in loaded.signatures.items()}
    for call in plan["calls"]:
        result = loaded.signatures[call["signature"]](**{k: tf.constant(arrays[v]) for k, v in call["inputs"].items()})
        for key, value in result.items():
            outputs["eager/" + call["id"] + "/" + key] = value.numpy()

    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        meta = tf.compat.v1.saved_model.load(session, ["serve"], plan["path"])

        def run(signature, feeds):
            sig = meta.signature_def[signature]
            names = sorted(sig.outputs)
            feed = {graph.get_tensor_by_name(sig.inputs[k].name)._as_tf_output(): arrays[v] for k, v in feeds.items()}
            fetch = [graph.get_tensor_by_name(sig.outputs[k].name)._as_tf_output() for k in names]
            return dict(zip(names, session._call_tf_sessionrun(None, feed, fetch, [], None)))

        for call in plan["calls"]:
            for key, value in run(call["signature"], call["inputs"]).items():
                outputs["session/" + call["id"] + "/" + key] = value
        for case in plan["bad"]:
            try:
                run(case["signature"], case["inputs"])
                report["rejected"][case["id"]] = None
            except tf.errors.InvalidArgumentError as error:
                report["rejected"][case["id"]] = error.message.strip().splitlines()[0]
    report["tfface_imported"] = any(m == "tfface" or m.startswith("tfface.") for m in sys.modules)
    np.savez(plan["outputs"], **outputs)
    json.dump(report, open(plan["report"], "w"))
    """
)


#: The dtypes a float32 export may not compute in.
REDUCED_PRECISION = ("float16", "bfloat16")


class ExportVerificationError(ValueError):
    """The reloaded export disagrees with the Keras model (or accepts bad input)."""


@dataclass
class Verification:
    """What `verify_export` saw.

    Attributes:
        path: the SavedModel folder checked.
        errors: {"signature.output": largest |export − Keras|} (uint8 outputs
            in pixel steps).
        rejected: {case: first line of the error} for the bad inputs fed.
        show: `saved_model_cli show --all` output.
        seconds: wall time.
        dtypes: {signature: {dtype: nodes}}, the dtype census of each
            signature's graph (the functions it calls included).
    """

    path: str
    errors: dict[str, float] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    show: str = ""
    seconds: float = 0.0
    dtypes: dict[str, dict[str, int]] = field(default_factory=dict)

    def reduced_precision_nodes(self) -> dict[str, int]:
        """{signature: float16 + bfloat16 nodes}, signatures without any left out."""
        counts = {name: sum(c.get(t, 0) for t in REDUCED_PRECISION) for name, c in self.dtypes.items()}
        return {name: n for name, n in counts.items() if n}

    def summary(self) -> str:
        lines = [f"verified in a fresh process without tfface ({self.seconds:.1f} s): every signature matches the Keras model"]
        lines += [f"  {name:<26} max |export - keras| {error:.2g}" for name, error in self.errors.items()]
        reduced = self.reduced_precision_nodes()
        lines.append("  computes in float32: no float16/bfloat16 node in any signature" if not reduced else
                     "  float16/bfloat16 nodes: " + ", ".join(f"{k} {n}" for k, n in sorted(reduced.items())))  # fmt: skip
        lines.append(f"  {len(self.rejected)} bad inputs refused with InvalidArgument, e.g.:")
        lines += [f"    {self.rejected[k]}" for k in list(self.rejected)[:: max(1, len(self.rejected) // 4)]]
        return "\n".join(lines)


def saved_model_cli() -> list[str]:
    """The `saved_model_cli` command of this Python environment."""
    binary = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    return [binary] if os.path.exists(binary) else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]


def _fixed_inputs(model, options: ServingOptions, with_sample: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.random((3, *model.image_shape), dtype=np.float32)
    if options.image_dtype == "uint8":
        images = np.round(images * 255).astype(np.uint8)
    inputs = {"z": rng.standard_normal((4, model.latent_dim)).astype(np.float32), "images": images}
    if with_sample:
        inputs.update(count=np.int32(3), seed=np.int64(7), temperature=np.float32(0.8))
    return inputs


def reference_outputs(model, sampler, options: ServingOptions, inputs: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """What each signature must return for `inputs`, computed with the Keras
    model (and the sampler) in this process."""
    value_range = ValueRange.parse(model.value_range)

    def unit(x):
        x = to_numpy(x)
        return value_range.to_unit(x)

    def out(x):
        return np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8) if options.image_dtype == "uint8" else x

    images = inputs["images"].astype(np.float32) / (255.0 if options.image_dtype == "uint8" else 1.0)
    images = value_range.from_unit(images)
    posterior = model.posterior(images, training=False)
    mean = to_numpy(posterior.mean)
    log_var = np.full_like(mean, LOG_VAR_RANGE[0]) if posterior.log_var is None else to_numpy(posterior.log_var)
    decoded = unit(model.decode(inputs["z"], training=False))
    refs = {
        "generate": {"images": out(decoded)},
        "decode": {"images": decoded},
        "encode": {"mean": mean, "log_variance": log_var},
        "reconstruct": {"images": out(unit(model(images, training=False)))},
    }
    if sampler is not None:
        z = sampler.sample(int(inputs["count"]), seed=int(inputs["seed"]), temperature=float(inputs["temperature"]))
        refs["sample"] = {"images": out(unit(model.decode(z, training=False))), "z": z}
    return refs


def _bad_inputs(docs, inputs: dict[str, np.ndarray]) -> dict[str, tuple[str, dict, str]]:
    """{case: (signature, {argument: array}, text the error must contain)}."""
    cases = {}
    for name, doc in docs.items():
        good = {arg: inputs[arg] for arg in doc.inputs}
        for arg, tensor in doc.inputs.items():
            where = f"{name}({arg})"
            value = inputs[arg]
            if tensor.shape:
                wrong = np.zeros((*value.shape[:-1], value.shape[-1] + 1), value.dtype)
                cases[f"{name}.{arg}.size"] = (name, {**good, arg: wrong}, where)
                cases[f"{name}.{arg}.rank"] = (name, {**good, arg: value[0]}, where)
            else:
                cases[f"{name}.{arg}.rank"] = (name, {**good, arg: np.stack([value, value])}, where)
            if tensor.low is not None:
                cases[f"{name}.{arg}.above"] = (name, {**good, arg: np.full_like(value, tensor.high + 1)}, where)
                cases[f"{name}.{arg}.below"] = (name, {**good, arg: np.full_like(value, tensor.low - 1)}, where)
            if tensor.finite:
                cases[f"{name}.{arg}.nan"] = (name, {**good, arg: np.full_like(value, np.nan)}, where)
        first = next(iter(doc.inputs))
        other = np.float64 if doc.inputs[first].dtype != "float64" else np.float32
        cases[f"{name}.{first}.dtype"] = (name, {**good, first: inputs[first].astype(other)}, "is provided")
    return cases


def verify_export(model, path, sampler=None, options: ServingOptions = ServingOptions(), *,
                  atol: float = 1e-5, show: bool = True, timeout: int = 600) -> Verification:  # fmt: skip
    """Reloads the SavedModel at `path` in a fresh Python process (tfface
    imports refused there), runs every signature on fixed inputs through
    `tf.saved_model.load` and through a C++-fed session (TF Serving's way),
    compares with the Keras `model` (floats within `atol`, uint8 pixels
    within one step), feeds wrong ranks, sizes, dtypes and values and
    requires an InvalidArgumentError naming the signature and argument, and
    runs `saved_model_cli show --all` alongside. With
    `options.precision == "float32"` it counts each signature's nodes by
    dtype and fails if any is float16 or bfloat16.

    Args:
        model: the exported `LatentAutoencoder` (the reference is what the
            export serves: `serving_model(model, options.precision)`).
        path: str. The SavedModel (version) folder.
        sampler: the `LatentSampler` behind `sample`, or None if the export
            has no `sample` signature.
        options: `ServingOptions` the export was written with.
        atol: float. Largest float difference accepted. Defaults to 1e-5.
        show: bool. Run `saved_model_cli show --all`. Defaults to True.
        timeout: int. Seconds for the fresh process. Defaults to 600.

    Returns:
        A `Verification`; raises `ExportVerificationError` listing every
        mismatch.
    """
    start = time.time()
    path = os.fspath(path)
    model = serving_model(model, options.precision)
    docs = signature_docs(model, options, with_sample=sampler is not None)
    inputs = _fixed_inputs(model, options, sampler is not None)
    bad = _bad_inputs(docs, inputs)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    shown = None
    if show:  # runs alongside the fresh process
        shown = subprocess.Popen([*saved_model_cli(), "show", "--dir", path, "--all"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        report, outputs = _run_fresh_process(path, docs, inputs, bad, env, timeout)
        show_out, show_err = shown.communicate(timeout=timeout) if shown is not None else ("", "")
    finally:
        if shown is not None and shown.poll() is None:
            shown.kill()
    result = Verification(path, show=show_out, dtypes=report["dtypes"])
    problems = _compare(result, report, outputs, reference_outputs(model, sampler, options, inputs), bad, atol)
    if report["tfface_imported"]:
        problems.append("the fresh process imported tfface")
    reduced = result.reduced_precision_nodes()
    if options.precision == "float32" and reduced:
        problems.append("a float32 export computes in float16/bfloat16: "
                        + ", ".join(f"{name} has {n} such nodes" for name, n in sorted(reduced.items())))  # fmt: skip
    missing = sorted(set(docs) - set(report["signatures"]))
    if missing:
        problems.append(f"missing signatures: {missing}")
    if shown is not None and shown.returncode != 0:
        problems.append(f"saved_model_cli show failed: {show_err[-1000:]}")
    result.seconds = time.time() - start
    if problems:
        raise ExportVerificationError(f"{path}: verification failed:\n  " + "\n  ".join(problems))
    return result


def _run_fresh_process(path: str, docs, inputs, bad, env, timeout: int) -> tuple[dict, dict[str, np.ndarray]]:
    """Runs `CHILD` on the good and bad inputs; returns its report and outputs."""
    with tempfile.TemporaryDirectory(prefix="tfface-verify-") as tmp:
        arrays = {f"good/{arg}": value for arg, value in inputs.items()}
        for case, (_, feeds, _) in bad.items():
            arrays.update({f"{case}/{arg}": value for arg, value in feeds.items()})
        files = {k: os.path.join(tmp, f"{k}.{ext}") for k, ext in
                 (("inputs", "npz"), ("outputs", "npz"), ("report", "json"), ("plan", "json"))}  # fmt: skip
        np.savez(files["inputs"], **arrays)
        plan = {
            "path": os.path.abspath(path),
            **{k: files[k] for k in ("inputs", "outputs", "report")},
            "calls": [{"id": name, "signature": name, "inputs": {arg: f"good/{arg}" for arg in doc.inputs}}
                      for name, doc in docs.items()],  # fmt: skip
            "bad": [{"id": case, "signature": sig, "inputs": {arg: f"{case}/{arg}" for arg in feeds}}
                    for case, (sig, feeds, _) in bad.items()],  # fmt: skip
        }
        with open(files["plan"], "w", encoding="utf-8") as handle:
            json.dump(plan, handle)
        child = subprocess.run([sys.executable, "-c", CHILD, files["plan"]], capture_output=True, text=True,
                               timeout=timeout, env=env)  # fmt: skip
        if child.returncode != 0:
            raise ExportVerificationError(f"{path}: reloading in a fresh process failed:\n{child.stderr[-3000:]}")
        with open(files["report"], encoding="utf-8") as handle:
            report = json.load(handle)
        with np.load(files["outputs"]) as loaded:
            return report, {k: loaded[k] for k in loaded.files}


def _compare(result: Verification, report: dict, outputs, references, bad, atol: float) -> list[str]:
    """Fills `result.errors` and `result.rejected`; returns the problems."""
    problems = []
    for name, expected in references.items():
        for key, want in expected.items():
            worst = 0.0
            for route in ("eager", "session"):
                got = outputs.get(f"{route}/{name}/{key}")
                if got is None or got.shape != want.shape or got.dtype != want.dtype:
                    problems.append(f"{name}.{key} ({route}): got {None if got is None else (got.dtype, got.shape)}, "
                                    f"expected {(want.dtype, want.shape)}")  # fmt: skip
                    continue
                worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)), initial=0.0)))
            limit = 1.0 if want.dtype == np.uint8 else atol
            if worst > limit:
                problems.append(f"{name}.{key}: export differs from the Keras model by {worst:.3g} (> {limit:g})")
            result.errors[f"{name}.{key}"] = worst
    for case, (_, _, needle) in bad.items():
        message = report["rejected"].get(case)
        if message is None or needle not in message:
            problems.append(f"bad input {case}: expected an InvalidArgumentError containing {needle!r}, got {message!r}")
        else:
            result.rejected[case] = message
    return problems
