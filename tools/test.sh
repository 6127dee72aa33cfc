#!/usr/bin/env bash
# The project's test command. From a fresh clone it makes .venv, installs the package with its dev tools,
# checks that notebooks are clean, the library exported and README.md current, then runs every notebook's tests.
# Arguments go to tools/test.py, e.g. `bash tools/test.sh --flags slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
# torch first and pinned: 2.13.0 is the CPU build this machine keeps on disk (the README says why).
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0 -e ".[dev]"
. .venv/bin/activate

before=$(git status --porcelain 2>/dev/null || true)
nbdev-clean && nbdev-export
after=$(git status --porcelain 2>/dev/null || true)
if [ "$before" != "$after" ]; then
  echo "nbdev-clean or nbdev-export changed the tree; commit the result:" >&2
  git status --porcelain >&2
  exit 1
fi
python tools/readme.py --check
python tools/test.py "$@"
