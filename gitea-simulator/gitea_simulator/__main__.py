"""Entry point: ``python -m gitea_simulator serve --state DIR [--seed-demo] [--port 0] [--token-file F]``."""

from ._cli import main

raise SystemExit(main())
