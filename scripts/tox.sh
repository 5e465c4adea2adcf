#!/usr/bin/env bash
# Run tox with every installed CPython 3.10-3.13 visible, installing tox first if needed.
# Usage: bash scripts/tox.sh -e py312        (any tox arguments)
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v pyenv >/dev/null 2>&1; then
    # pyenv's shims only answer for activated versions: activate all supported ones,
    # newest first so plain `python3` is the newest.
    versions=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[0-3])\.[0-9]+$' | sort -t. -k2,2nr -k3,3nr | tr '\n' ':')
    if [ -n "$versions" ]; then
        export PYENV_VERSION="${versions%:}"
    fi
fi
if ! python3 -m tox --version >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "tox>=4"
fi
exec python3 -m tox "$@"
