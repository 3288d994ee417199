"""The HTTP API and the page: one more app over ``exypno``'s face (``exypno.api``), with no logic of its own.

Uploads are multipart; a response is the file itself (with a ``Content-Disposition`` name) or JSON. Every refusal
is a 4xx with ``{"error": "<the line the CLI prints>"}``, its status chosen by the error's type (``STATUS``).
Uploads live in memory, then in a private temporary folder that is removed after the request (``limits.Workdir``);
nothing is kept between requests, and nothing logs a passphrase or a file's content.
"""
from __future__ import annotations

import json
import logging
import math
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from .. import __version__, api
from ..errors import ExypnoError, PayloadError, TooLarge
from .limits import Jobs, JobTimeout, Limits, safe_name

STATIC = Path(__file__).parent / "static"
CONFIG_ENV = "EXYPNO_SERVE_CONFIG"  # how ``run`` hands the settings to uvicorn's worker processes
log = logging.getLogger("exypno.serve")

# An error's HTTP status by its type (the first that matches); any other ExypnoError is bad input: 400.
STATUS = ((TooLarge, 413), (JobTimeout, 504), (PayloadError, 422), (ExypnoError, 400))
# What each kind of file comes back as.
MEDIA = {"image": (".png", "image/png"), "audio": (".wav", "audio/wav"), "video": (".mkv", "video/x-matroska")}
SEAL_MODES = ("png", "robust", "fit")


def create_app(limits: Limits | None = None, token: str | None = None, device: str = "auto") -> FastAPI:
    """The API under /v1, /healthz, the page at / and FastAPI's docs at /docs. ``device``: where the networks
    of hide, reveal, seal and unseal run (auto, cpu or cuda)."""
    limits = limits or Limits()
    jobs = Jobs(limits)
    app = FastAPI(title="Exypno", version=__version__,
                  description="Hide images, sounds and videos in images, sounds and videos; seal any file in an "
                              "image. The API has no sessions: every request carries its files.")
    app.state.limits, app.state.jobs = limits, jobs
    app.add_middleware(BodyLimit, limit=limits.upload_bytes, message=_too_large(limits))
    app.router.add_event_handler("shutdown", jobs.close)
    bearer = HTTPBearer(auto_error=False, description="the token given to `exypno serve --token`")

    def authorized(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is not None and (credentials is None or not secrets.compare_digest(credentials.credentials, token)):
            raise HTTPException(401, "this server needs 'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorized)])
    _add_errors(app, limits)

    @app.get("/healthz", tags=["server"])
    def healthz():
        return {"status": "ok", "version": __version__}

    @v1.get("/models", tags=["models"], summary="The shipped models with their cards")
    def models():
        return api.models()

    @v1.post("/hide", tags=["hide"], response_class=Response, responses=_files("the stego", *MEDIA),
             summary="Hide a secret (image, sound or video) in a cover; the pairing follows from the file types")
    async def hide(cover: UploadFile = File(...), secret: UploadFile = File(...), model: str | None = Form(None)):
        uploads = {"cover": await _read(cover), "secret": await _read(secret)}
        what = _kind(cover.filename)

        def work(workdir):
            paths = _put(workdir, limits, uploads)
            out = workdir.out("stego" + MEDIA[what][0])
            api.hide(paths["cover"], paths["secret"], output=out, model=_model(model), device=device)
            return out.read_bytes()

        return _file(await jobs.run(work), f"{_stem(cover.filename, 'cover')}-stego", what)

    @v1.post("/reveal", tags=["hide"], response_class=Response, responses=_files("the secret", *MEDIA),
             summary="Reveal the secret of a stego; `kind` says what the secret is (default: the stego's kind)")
    async def reveal(stego: UploadFile = File(...), model: str | None = Form(None),
                     kind: str | None = Form(None, description="image, audio or video")):
        uploads = {"stego": await _read(stego)}
        what = kind or _kind(stego.filename)
        if what not in MEDIA:
            raise ExypnoError(f"kind {what!r}: give image, audio or video")

        def work(workdir):
            paths = _put(workdir, limits, uploads)
            out = workdir.out("revealed" + MEDIA[what][0])
            api.reveal(paths["stego"], output=out, model=_model(model), device=device)
            return out.read_bytes()

        return _file(await jobs.run(work), f"{_stem(stego.filename, 'stego')}-revealed", what)

    @v1.post("/seal", tags=["seal"], response_class=Response, responses=_files("the stego", "image"),
             summary="Seal any file in a cover image: compressed, encrypted (the passphrase), error-corrected")
    async def seal(cover: UploadFile = File(...), file: UploadFile = File(...), passphrase: str = Form(...),
                   mode: str = Form("png", description="png, robust (survives JPEG 90) or fit (a picture re-encoded "
                                                       "to fit)")):
        if mode not in SEAL_MODES:
            raise ExypnoError(f"mode {mode!r}: give one of {', '.join(SEAL_MODES)}")
        uploads, (_, data) = {"cover": await _read(cover)}, await _read(file)
        name = safe_name(file.filename) or "sealed.bin"

        def work(workdir):
            paths = _put(workdir, limits, uploads)
            out = workdir.out("stego.png")
            api.seal(paths["cover"], data, passphrase, output=out, name=name, robust=mode == "robust",
                     fit=mode == "fit", device=device)
            return out.read_bytes()

        return _file(await jobs.run(work), f"{_stem(cover.filename, 'cover')}-sealed", "image")

    @v1.post("/unseal", tags=["seal"], response_class=Response,
             responses={200: {"content": {"application/octet-stream": {}}, "description": "the file, by its name"}},
             summary="The sealed file, exactly, under its own name; 422 for a wrong passphrase or nothing sealed")
    async def unseal(stego: UploadFile = File(...), passphrase: str = Form(...)):
        uploads = {"stego": await _read(stego)}

        def work(workdir):
            return api.unseal(_put(workdir, limits, uploads)["stego"], passphrase, device=device)

        name, data = await jobs.run(work)
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": _disposition(safe_name(name) or "unsealed.bin")})

    @v1.post("/capacity", tags=["seal"], summary="Bytes a cover carries in each seal mode")
    async def capacity(cover: UploadFile = File(...)):
        uploads = {"cover": await _read(cover)}
        return await jobs.run(lambda workdir: api.capacity(_put(workdir, limits, uploads)["cover"]))

    @v1.post("/analyze", tags=["analyze"], summary="The structural LSB detectors' scores of an image")
    async def analyze(image: UploadFile = File(...)):
        uploads = {"image": await _read(image)}
        scores = await jobs.run(lambda workdir: api.analyze(_put(workdir, limits, uploads)["image"]))
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in scores.items()}

    app.include_router(v1)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


# The page loads nothing from elsewhere, and shows pictures only from itself and from the blobs it makes.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
                                           "object-src 'none'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _add_errors(app: FastAPI, limits: Limits) -> None:
    """Every refusal as ``{"error": one line}``; never a stack trace."""

    @app.exception_handler(ExypnoError)
    async def exypno_error(request: Request, e: ExypnoError):
        status = next(code for kind, code in STATUS if isinstance(e, kind))
        return JSONResponse({"error": str(e)}, status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        message = str(e.detail)
        if e.status_code == 413:
            message = _too_large(limits)
        return JSONResponse({"error": message}, status_code=e.status_code, headers=getattr(e, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        lines = []
        for err in e.errors():
            field = ".".join(str(p) for p in err.get("loc", ())[1:]) or "the request"
            lines.append(f"missing field '{field}'" if err.get("type") == "missing" else f"{field}: {err.get('msg')}")
        return JSONResponse({"error": "; ".join(lines) or "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def bug(request: Request, e: Exception):
        # The type only: an exception's message or locals could hold what the client sent.
        log.error("internal error on %s %s: %s", request.method, request.url.path, type(e).__name__)
        return JSONResponse({"error": "internal error (a bug in Exypno, not in the request)"}, status_code=500)


def _too_large(limits: Limits) -> str:
    return f"the upload is over the server's limit of {limits.upload_mb:g} MB"


class BodyLimit:
    """Refuse a request body over ``limit`` bytes with 413: from its ``Content-Length`` before a byte of it is
    read, else (a chunked body) as soon as what has come in passes the limit."""

    def __init__(self, app, limit: int, message: str):
        self.app, self.limit, self.message = app, limit, message

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            return await JSONResponse({"error": self.message}, status_code=413)(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413)  # FastAPI passes an HTTPException from the body on to its handler
            return message

        await self.app(scope, counted, send)


async def _read(upload: UploadFile) -> tuple[str | None, bytes]:
    """(the client's file name, the bytes); the upload's spooled file is closed at once."""
    try:
        return upload.filename, await upload.read()
    finally:
        await upload.close()


def _put(workdir, limits: Limits, uploads: dict[str, tuple[str | None, bytes]]) -> dict[str, Path]:
    """The uploads as files in the request's folder, each refused if its header says it is over a limit."""
    paths = {}
    for field, (filename, data) in uploads.items():
        if not data:
            raise ExypnoError(f"{field}: the upload is empty")
        paths[field] = path = workdir.put(field, filename, data)
        limits.check(api.measure(path), f"{field}/{path.name}")
    return paths


def _kind(filename: str | None) -> str:
    from ..pairings.kinds import kind

    return kind(safe_name(filename) or "upload.png")


def _stem(filename: str | None, fallback: str) -> str:
    return Path(safe_name(filename)).stem or fallback


def _model(name: str | None) -> str | None:
    """A shipped model's name, or None for the pairing's own: never a path on the server."""
    if name and name not in api.models():
        raise ExypnoError(f"no shipped model named {name!r} (shipped: {', '.join(sorted(api.models()))})")
    return name or None


def _file(data: bytes, stem: str, what: str) -> Response:
    suffix, media_type = MEDIA[what]
    return Response(data, media_type=media_type, headers={"Content-Disposition": _disposition(stem + suffix)})


def _disposition(name: str) -> str:
    ascii_name = "".join(c if c.isascii() and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _files(what: str, *kinds: str) -> dict:
    return {200: {"content": {MEDIA[k][1]: {} for k in kinds}, "description": f"{what}, by its name"}}


def app_from_env() -> FastAPI:
    """The app as ``exypno serve`` configures it (``CONFIG_ENV``), for uvicorn's worker processes."""
    config = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    limits = Limits(**config.get("limits", {}))
    threads = config.get("threads")
    if threads:
        import torch

        torch.set_num_threads(threads)
    return create_app(limits, token=os.environ.get(TOKEN_ENV) or None, device=config.get("device", "auto"))


TOKEN_ENV = "EXYPNO_SERVE_TOKEN"
