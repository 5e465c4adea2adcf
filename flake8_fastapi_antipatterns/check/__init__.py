"""``faa check``: the rules over a project without flake8 (configuration, discovery, formats, baseline)."""
