"""What the training step's surroundings cost: TensorFlow's CPU kernels
(oneDNN, which `import tfface` asks for, against Eigen's, TensorFlow's
default on CPUs without AVX512-VNNI, AVX512-BF16 or AMX),
the runner's per-batch NaN guard, and Keras' `steps_per_execution`.
"face_64+gan" is face_64 with the PatchGAN of `pipelines/face_64.toml`,
on from step 0 (its start decided in the graph).

Each configuration trains the preset through `model.fit` on one in-memory
batch, compiled as the runner compiles it, in a fresh process; the
configurations alternate, `--rounds` times, so a change in the machine's
load hits them all alike. Prints images/s and per CPU-second (median of
the timed epochs, median over rounds) and the ratio to the first row (the
runner's configuration: oneDNN, guard on, one step per execution).

    python benchmarks/step_overhead.py [--presets vae_demo face_64] [--batch 32]
        [--steps 12] [--repeats 3] [--rounds 3] [--threads <all cores>]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from train_throughput import ONEDNN_ENV, cpu_line, run_child  # noqa: E402

# (label, environment, spec changes); the first is the runner's own.
CONFIGURATIONS = (
    ("runner: oneDNN, guard, 1 step/execution", {ONEDNN_ENV: "1"}, {"guard": True}),
    ("Eigen kernels (TF_ENABLE_ONEDNN_OPTS=0)", {ONEDNN_ENV: "0"}, {"guard": True}),
    ("no NaN guard", {ONEDNN_ENV: "1"}, {"guard": False}),
    ("4 steps/execution (guard sees every 4th)", {ONEDNN_ENV: "1"}, {"guard": True, "steps_per_execution": 4}),
)


# Preset names beyond the registry's: (preset, builder arguments).
VARIANTS = {"face_64+gan": ("face_64", {"adversarial_weight": 0.5, "discriminator_width": 32})}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["vae_demo", "face_64"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=12, help="steps per timed epoch, a multiple of 4 (default 12)")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per process (default 3)")
    parser.add_argument("--warmup", type=int, default=4, help="steps of the untimed first epoch (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)
    if args.steps % 4:
        parser.error(f"--steps must be a multiple of 4 (steps_per_execution=4), got {args.steps}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    script = os.path.join(HERE, "train_throughput.py")
    print(f"{cpu_line()}; batch {args.batch}, {args.threads} threads, {args.repeats} x {args.steps} timed steps "
          f"per process after {args.warmup} warm-up steps, {args.rounds} alternating rounds")  # fmt: skip
    print(f"\n{'preset':12}{'configuration':44}{'oneDNN':>7}{'images/s':>10}{'per round':>22}{'img/CPU-s':>11}"
          f"{'ratio':>7}")  # fmt: skip
    for preset in args.presets:
        results: dict[str, list[dict]] = {label: [] for label, _, _ in CONFIGURATIONS}
        for _ in range(args.rounds):
            for label, env, changes in CONFIGURATIONS:
                name, preset_args = VARIANTS.get(preset, (preset, {}))
                spec = {"preset": name, "preset_args": preset_args, "precision": "float32", "xla": False, "batch": args.batch,
                        "steps": args.steps, "repeats": args.repeats, "warmup": args.warmup,
                        "threads": args.threads, "matmul": False, **changes}  # fmt: skip
                results[label].append(run_child(script, spec, env=env))
        reference = None
        for label, _, _ in CONFIGURATIONS:
            rounds = results[label]
            rate = statistics.median(r["images_per_s"] for r in rounds)
            per_cpu = statistics.median(r["images_per_cpu_s"] for r in rounds)
            reference = reference or rate
            each = "/".join(f"{r['images_per_s']:.0f}" for r in rounds)
            kernels = {True: "on", False: "off"}.get(rounds[0].get("onednn"), "?")
            print(f"{preset:12}{label:44}{kernels:>7}{rate:10.1f}{each:>22}{per_cpu:11.1f}{rate / reference:7.2f}",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
