"""Writing results: Markdown tables, CSV, and a run's metrics.json / metrics.md."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Mapping, Sequence

from tfface.io import atomic_write_text
from tfface.run import RunDir


def format_value(value: Any, digits: int = 4) -> str:
    """Numbers with `digits` decimals (5 below 0.1, scientific below 0.001); "" for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.3e}"
        if value != 0 and abs(value) < 0.1:
            return f"{value:.5f}"
        return f"{value:.{digits}f}" if abs(value) < 1000 else f"{value:.1f}"
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], labels: Mapping[str, str] | None = None) -> str:
    """A GitHub Markdown table of `rows` (dicts) over `columns`.

    Example:

    >>> print(markdown_table([{"model": "a", "mse": 0.02841}], ["model", "mse"]))
    | model | mse |
    |---|---|
    | a | 0.02841 |
    """
    labels = labels or {}
    lines = ["| " + " | ".join(labels.get(c, c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(format_value(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header; full-precision values."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return buffer.getvalue()


def metrics_markdown(results: Mapping[str, Any]) -> str:
    """metrics.md: a metric/value table, per-attribute accuracies, the protocol."""
    lines = [f"# Evaluation of {results.get('run', '')}", ""]
    rows = [{"metric": k, "value": v} for k, v in results["metrics"].items()]
    lines += [markdown_table(rows, ["metric", "value"]), ""]
    per = results.get("attribute_accuracy")
    if per:
        lines += ["## Attribute accuracy", "", markdown_table([{"attribute": k, "accuracy": v} for k, v in per.items()], ["attribute", "accuracy"]), ""]
    lines += ["## Protocol", ""]
    lines += [f"- {key}: {value}" for key, value in results.get("protocol", {}).items()]
    notes = results.get("notes", [])
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


NON_FINITE = "non_finite"


def standard_json(results: Mapping[str, Any]) -> str:
    """`results` as standard JSON (RFC 8259 has no Infinity/NaN): a
    non-finite number among the top-level tables' values (an infinite PSNR
    of a perfect reconstruction) is written as null, listed under
    `"non_finite"` ({"metrics.psnr": "inf"}) and explained in `"notes"`;
    `read_metrics` puts it back.

    Example:

    >>> text = standard_json({"metrics": {"psnr": float("inf"), "mse": 0.0}})
    >>> json.loads(text)["metrics"], json.loads(text)["non_finite"]
    ({'psnr': None, 'mse': 0.0}, {'metrics.psnr': 'inf'})
    >>> read_metrics_text(text)["metrics"]["psnr"]
    inf
    """
    out: dict[str, Any] = dict(results)
    found: dict[str, str] = {}
    for name, table in results.items():
        if isinstance(table, Mapping):
            clean = {}
            for key, value in table.items():
                if isinstance(value, float) and not math.isfinite(value):
                    found[f"{name}.{key}"] = repr(value)  # 'inf', '-inf', 'nan'
                    value = None
                clean[key] = value
            out[name] = clean
    if found:
        out[NON_FINITE] = found
        out["notes"] = [*results.get("notes", []), "non-finite values (" + ", ".join(
            f"{key} = {value}" for key, value in found.items()
        ) + ", e.g. the PSNR of a perfect reconstruction) are written as null and listed under non_finite"]
    return json.dumps(out, indent=2, allow_nan=False) + "\n"


def read_metrics_text(text: str) -> dict[str, Any]:
    """Parses `standard_json` output, restoring the values under `"non_finite"`."""
    results = json.loads(text)
    for dotted, value in results.pop(NON_FINITE, {}).items():
        name, key = dotted.split(".", 1)
        results[name][key] = float(value)
    return results


def read_metrics(path: str) -> dict[str, Any]:
    """Reads a RUN/metrics.json written by `write_metrics` (see `standard_json`)."""
    with open(path, encoding="utf-8") as handle:
        return read_metrics_text(handle.read())


def write_metrics(run_dir, results: Mapping[str, Any]) -> tuple[str, str]:
    """Writes RUN/metrics.json (standard JSON, see `standard_json`) and
    RUN/metrics.md atomically; returns both paths."""
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    atomic_write_text(run.metrics_json, standard_json(results))
    atomic_write_text(run.metrics_md, metrics_markdown(results))
    return run.metrics_json, run.metrics_md
