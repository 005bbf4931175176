"""A Gitea API v1 simulator serving real git repositories from disk, for tests and demos.

Example::

    from gitea_simulator import create_app, seed_demo

    seed = seed_demo(state_dir)
    app = create_app(state_dir)     # Starlette app; app.state.requests records every request and its status
    token = add_token(state_dir, user="aegis-bot", scopes=["write:issue", "write:repository"])
"""

from ._app import create_app
from ._errors import SimulatorError
from ._recorder import RecordedRequest
from ._seed import DemoSeed, add_token, read_demo_token, seed_demo

__all__ = [
    "DemoSeed",
    "RecordedRequest",
    "SimulatorError",
    "add_token",
    "create_app",
    "read_demo_token",
    "seed_demo",
]
