"""Benchmark: import time of cnnteach, and load_mnist against np.load of the same arrays.

Everything is measured side by side in one run (medians of several repeats), because this
machine is noisy: read the ratios, not the absolute times. Goals (from the foundation issue):
``import cnnteach`` under 0.3 s, and ``load_mnist`` from the gzipped IDX files within 2x of
``np.load`` on an npz (Keras' own ``mnist.npz`` is a compressed npz; an uncompressed one is
shown too, for scale). The last line is JSON.

Usage: CNNTEACH_DATA=../shared/data/mnist python bench/import_and_load.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cnnteach.data import find_mnist, load_mnist

REPEATS = 5


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


def median_seconds(function) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> dict:
    source = find_mnist()
    if source.kind != "idx":
        raise SystemExit(f"this benchmark needs the gzipped IDX files; found {source.describe()}")
    imports = {
        m: statistics.median(import_seconds(m) for _ in range(REPEATS))
        for m in ("cnnteach", "cnnteach.data", "numpy")
    }
    (x_train, y_train), (x_test, y_test) = load_mnist()
    with tempfile.TemporaryDirectory() as tmp:
        compressed, plain = Path(tmp) / "compressed.npz", Path(tmp) / "plain.npz"
        arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        np.savez_compressed(compressed, **arrays)
        np.savez(plain, **arrays)

        def np_load(path):
            with np.load(path, allow_pickle=False) as f:
                return [f[k] for k in arrays]

        load_idx = median_seconds(load_mnist)
        load_npz = median_seconds(lambda: np_load(compressed))
        load_plain = median_seconds(lambda: np_load(plain))
    result = {
        "import_cnnteach_s": round(imports["cnnteach"], 4),
        "import_cnnteach_data_s": round(imports["cnnteach.data"], 4),
        "import_numpy_s": round(imports["numpy"], 4),
        "load_mnist_idx_gz_s": round(load_idx, 4),
        "np_load_compressed_npz_s": round(load_npz, 4),
        "np_load_uncompressed_npz_s": round(load_plain, 4),
        "ratio_load_mnist_vs_compressed_npz": round(load_idx / load_npz, 2),
        "ratio_load_mnist_vs_uncompressed_npz": round(load_idx / load_plain, 2),
    }
    print(
        f"import cnnteach       {imports['cnnteach']:.3f} s  "
        f"(goal < 0.3 s; numpy alone {imports['numpy']:.3f} s)"
    )
    print(f"import cnnteach.data  {imports['cnnteach.data']:.3f} s")
    print(f"load_mnist (IDX .gz, verified)  {load_idx:.3f} s")
    print(
        f"np.load compressed npz          {load_npz:.3f} "
        f"s   ratio {load_idx / load_npz:.2f}x (goal <= 2x)"
    )
    print(
        f"np.load uncompressed npz        {load_plain:.3f} "
        f"s   ratio {load_idx / load_plain:.2f}x (for scale)"
    )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
