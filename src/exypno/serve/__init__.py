"""``exypno serve``: the HTTP API and the web page (FastAPI on uvicorn), installed by ``pip install 'exypno[serve]'``.

``create_app`` builds the app (tests use it with FastAPI's ``TestClient``); ``run`` serves it.
"""
from __future__ import annotations

import json
import os
import sys

from ..errors import ExypnoError

EXTRA = "exypno serve needs its extra: pip install 'exypno[serve]' (FastAPI, uvicorn, python-multipart)"


def _check_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ExypnoError(EXTRA) from None


def create_app(*args, **kwargs):
    _check_extra()
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, token: str | None = None,
        device: str = "auto", **limits) -> None:
    """Serve until interrupted. ``limits``: the fields of ``limits.Limits``; ``workers``: uvicorn processes;
    ``device``: where the networks run (auto, cpu or cuda)."""
    _check_extra()
    import uvicorn

    from .app import CONFIG_ENV, TOKEN_ENV
    from .limits import Limits, default_jobs

    cores = default_jobs()
    settings = Limits(**limits)
    jobs = settings.jobs or max(1, cores // workers)
    os.environ[CONFIG_ENV] = json.dumps({"limits": {**limits, "jobs": jobs},
                                         "threads": max(1, cores // (workers * jobs)), "device": device})
    token = token or os.environ.get(TOKEN_ENV)
    if token:
        os.environ[TOKEN_ENV] = token
    if host not in ("127.0.0.1", "localhost", "::1"):
        warning = ("requests need the --token, and it travels in clear (no TLS)" if token else
                   "the API has no authentication: anyone who reaches it can use it (see --token)")
        print(f"exypno serve: warning: listening on {host}; {warning}", file=sys.stderr)
    uvicorn.run("exypno.serve.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="info", server_header=False)
