"""The machine a run measured: GPU, driver, CUDA, TensorRT and onnxruntime(-gpu) versions, cores.

A figure means little without the stack under it, and on a lent machine what is
installed is itself a finding, so each item is read on its own and is 'absent'
(with the reason where there is one) rather than breaking the stage.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from vgsum.runtime.bench.gpu.outcome import error_line

ABSENT = "absent"


def cores() -> int:
    """The cores this process may run on (its affinity, where the OS tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def dist_version(*names: str) -> str:
    """The installed version of the first distribution found among `names`, or 'absent'."""
    for name in names:
        try:
            return f"{version(name)} ({name})" if len(names) > 1 else version(name)
        except PackageNotFoundError:
            continue
    return ABSENT


def nvidia_smi() -> dict[str, str]:
    """GPU name, driver and the driver's CUDA version from nvidia-smi, each 'absent' when it cannot tell."""
    info = {"gpu": ABSENT, "driver": ABSENT, "cuda_driver": ABSENT, "gpu_memory": ABSENT}
    smi = shutil.which("nvidia-smi")
    if smi is None:
        info["nvidia_smi"] = "not on PATH"
        return info
    try:
        query = subprocess.run(
            [smi, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        first = query.stdout.strip().splitlines()[0] if query.stdout.strip() else ""
        parts = [p.strip() for p in first.split(",")]
        if len(parts) == 3:
            info.update(gpu=parts[0], driver=parts[1], gpu_memory=parts[2])
        header = subprocess.run([smi], capture_output=True, text=True, timeout=30).stdout
        match = re.search(r"CUDA Version:\s*([\d.]+)", header)
        if match:
            info["cuda_driver"] = match.group(1)
    except (OSError, subprocess.SubprocessError, IndexError) as err:
        info["nvidia_smi"] = f"failed: {type(err).__name__}"
    return info


def cuda_runtime() -> str:
    """The CUDA runtime version cuda-python sees, or why not."""
    try:
        from vgsum.runtime.engines.backends import _cudart, cuda_check

        number = int(cuda_check(_cudart().cudaRuntimeGetVersion()))
        return f"{number // 1000}.{number % 1000 // 10}"
    except ImportError:
        return ABSENT
    except Exception as err:  # no device or no driver: the reason is the finding
        return f"{ABSENT}: {error_line(err)}"


def environment() -> dict[str, Any]:
    """Versions and hardware, each 'absent' when not there."""
    from vgsum.runtime.bench.ingest import cpu_model

    try:
        import onnxruntime as ort

        providers: list[str] | str = list(ort.get_available_providers())
        ort_module = str(ort.__version__)
    except ImportError:
        providers, ort_module = ABSENT, ABSENT
    try:
        import tensorrt

        trt_module = str(tensorrt.__version__)
    except ImportError:
        trt_module = ABSENT
    return {
        **nvidia_smi(),
        "cuda_runtime": cuda_runtime(),
        "tensorrt": dist_version("tensorrt", "tensorrt-cu13", "tensorrt-cu12"),
        "tensorrt_module": trt_module,
        "cuda_python": dist_version("cuda-python", "cuda-bindings"),
        "onnxruntime": dist_version("onnxruntime"),
        "onnxruntime_gpu": dist_version("onnxruntime-gpu"),
        "onnxruntime_module": ort_module,
        "onnxruntime_providers": providers,
        "numpy": dist_version("numpy"),
        "av": dist_version("av"),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": cores(),
        "platform": platform.platform(),
    }
