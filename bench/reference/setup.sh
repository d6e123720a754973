#!/usr/bin/env bash
# Creates bench/reference/.venv (git-ignored) with what the reference measurements need:
# PyTorch (CPU), trimesh, scikit-image, matplotlib, h5py, numpy, all from pip.
# Safe to run again: an existing venv is reused and only missing packages are installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup: creating $venv" >&2
    "$python" -m venv "$venv"
fi
if "$venv/bin/python" -c "import torch, trimesh, skimage, matplotlib, h5py, numpy" 2>/dev/null; then
    echo "setup: $venv is ready" >&2
    exit 0
fi

# A CPU-only torch wheel in a pip --find-links folder is preferred: PyPI's Linux torch also
# works on the CPU but pulls in several GB of CUDA libraries.
torch="torch"
for folder in ${PIP_FIND_LINKS:-}; do
    wheel="$(ls "$folder"/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$wheel" ]]; then torch="$wheel"; fi
done
echo "setup: installing $torch trimesh scikit-image matplotlib h5py numpy" >&2
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "$torch" trimesh scikit-image matplotlib h5py numpy
"$venv/bin/python" -c "import torch, trimesh, skimage, matplotlib, h5py, numpy; \
print('setup: torch', torch.__version__, 'trimesh', trimesh.__version__, \
'scikit-image', skimage.__version__, 'numpy', numpy.__version__)" >&2
