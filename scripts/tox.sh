#!/usr/bin/env bash
# Run tox with every installed CPython 3.10-3.13 visible, installing tox first if needed.
# Usage: bash scripts/tox.sh -e py312        (any tox arguments)
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v pyenv >/dev/null 2>&1; then
    # pyenv's shims answer only for the active version, and tox's interpreter discovery
    # runs them in a fresh environment: put each interpreter's own bin/ on PATH instead,
    # newest first so plain `python3` is the newest.
    root=$(pyenv root)
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[0-3])\.[0-9]+$' | sort -t. -k2,2n -k3,3n); do
        PATH="$root/versions/$version/bin:$PATH"
    done
    export PATH
fi
if ! python3 -m tox --version >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "tox>=4"
fi
exec python3 -m tox "$@"
