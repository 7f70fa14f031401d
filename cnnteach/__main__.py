"""Allow ``python -m cnnteach ...`` where the ``cnnteach`` script is not on PATH (e.g. Windows)."""

from cnnteach.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
