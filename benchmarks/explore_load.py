"""Load on the explorer (`tfface explore`) over loopback: N concurrent
gradio_client clients send a mix of requests (Generate 16 faces,
Interpolate 8 steps between two seeds, Your photo with skimage's
astronaut, Attributes when the model has directions) for a fixed time
against one app served with its default queue (2 requests computed at
once, the rest waiting). Prints the requests served, their p50/p99
latency per panel and overall, and the errors; exits 1 on any error.

    python benchmarks/explore_load.py                       # an untrained vae_demo export, 8 clients, 30 s
    python benchmarks/explore_load.py --path runs/demo --clients 8 --seconds 30
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


@dataclass
class LoadResult:
    """What the clients saw: latencies (seconds) per panel, error messages."""

    seconds: float
    clients: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    @property
    def served(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def percentiles(self, panel: str | None = None) -> tuple[float, float]:
        values = [t for k, v in self.latencies.items() if panel in (None, k) for t in v]
        return (float(np.percentile(values, 50)), float(np.percentile(values, 99))) if values else (float("nan"),) * 2

    def report(self) -> str:
        lines = [f"{self.clients} clients for {self.seconds:.0f} s: {self.served} requests served "
                 f"({self.served / self.seconds:.2f}/s), {len(self.errors)} errors"]  # fmt: skip
        lines.append(f"{'panel':<12} {'served':>7} {'p50 ms':>8} {'p99 ms':>8}")
        for panel in [*sorted(self.latencies), None]:
            p50, p99 = self.percentiles(panel)
            count = self.served if panel is None else len(self.latencies[panel])
            lines.append(f"{panel or 'all':<12} {count:>7} {1000 * p50:>8.0f} {1000 * p99:>8.0f}")
        lines += [f"error: {e}" for e in self.errors[:10]]
        return "\n".join(lines)


def requests_for(choice: str, photo: str, attributes: int) -> list[tuple[str, tuple]]:
    """The (panel, arguments) a client cycles through, with the sampler `choice`."""
    from gradio_client import handle_file

    plan = [
        ("generate", (choice, 16, 0, 1.0)),
        ("interpolate", ("two seeds", choice, 1.0, 0, 1, None, None, 8)),
        ("reconstruct", (handle_file(photo),)),
    ]
    if attributes:
        plan.append(("attributes", ("generated face", choice, 1.0, 0, None, 1.0, *([0.0] * (attributes - 1)))))
    return plan


def run_load(url: str, sampler: str, clients: int = 8, seconds: float = 30.0, photo: str | None = None,
             attributes: int = 0) -> LoadResult:  # fmt: skip
    """`clients` threads, each with its own gradio_client, cycling through
    the panels until `seconds` have passed; returns what they saw."""
    from gradio_client import Client

    photo = photo or astronaut_file()
    result, lock = LoadResult(seconds, clients), threading.Lock()
    deadline = [0.0]  # set when every client is connected, before any starts
    ready = threading.Barrier(clients + 1, action=lambda: deadline.__setitem__(0, time.perf_counter() + seconds))

    def client_loop(index: int):
        try:
            client = Client(url, verbose=False)
            plan = requests_for(sampler, photo, attributes)
        except Exception as error:  # counted, not raised: the run goes on
            with lock:
                result.errors.append(f"client {index} could not connect: {error}")
            ready.wait()
            return
        ready.wait()
        step = index  # clients start at different panels
        while time.perf_counter() < deadline[0]:
            panel, arguments = plan[step % len(plan)]
            step += 1
            start = time.perf_counter()
            try:
                outputs = client.predict(*arguments, api_name=f"/{panel}")
                message = outputs[-1] if isinstance(outputs, (tuple, list)) else ""
                if isinstance(message, str) and message.startswith("**"):  # a panel's error message
                    raise RuntimeError(message)
            except Exception as error:
                with lock:
                    result.errors.append(f"{panel}: {type(error).__name__}: {str(error)[:200]}")
                continue
            with lock:
                result.latencies[panel].append(time.perf_counter() - start)

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    for thread in threads:
        thread.join(timeout=seconds + 300)
    return result


def astronaut_file() -> str:
    import skimage.data
    from PIL import Image

    path = os.path.join(tempfile.mkdtemp(prefix="tfface-load-"), "astronaut.png")
    Image.fromarray(skimage.data.astronaut()).save(path)
    return path


def untrained_export() -> str:
    """An export of an untrained vae_demo (64x64, serving cost as a trained one)."""
    from tfface.export import export_savedmodel
    from tfface.presets import build_preset

    return export_savedmodel(build_preset("vae_demo"), os.path.join(tempfile.mkdtemp(prefix="tfface-load-"), "1"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", help="run folder or export (default: an untrained vae_demo export)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=2, help="the app's queue: requests computed at once")
    args = parser.parse_args(argv)

    import tfface  # noqa: F401  (before TensorFlow)
    from tfface.explore import ServedModel, ServeOptions, build_app, launch

    served = ServedModel.open(args.path or untrained_export())
    options = ServeOptions(port=free_port(), concurrency=args.concurrency)
    app = launch(build_app(served, options.limits), options, block=False, quiet=True)
    try:
        print(f"{served.describe()}\nexplorer {app.local_url}, queue concurrency {args.concurrency}, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        result = run_load(app.local_url, next(iter(served.samplers)), args.clients, args.seconds,
                          attributes=len(served.attribute_names))
    finally:
        app.close()
    print(result.report())
    return 1 if result.errors or not result.served else 0


if __name__ == "__main__":
    sys.exit(main())
