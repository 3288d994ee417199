"""The HTTP API through FastAPI's TestClient: every endpoint's success path on tiny media, every kind of refusal as
one JSON line with its status, and the server still answering after each."""
import asyncio
import io
import json
import struct
import zlib

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from PIL import Image

import exypno
from exypno.cli import main
from exypno.serve import create_app
from exypno.serve.limits import Limits

from .conftest import smooth_photo
from .test_audio_pairings import sound
from .test_video import make_video


def png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def wav(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, 16000, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def declared_png(w: int, h: int) -> bytes:
    """A small PNG file whose header declares w x h pixels (a decompression bomb's shape)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture(scope="module")
def photos():
    rng = np.random.default_rng(5)
    return smooth_photo(rng, 64, 80), smooth_photo(rng, 64, 80)


def refused(client, response, status: int, words: str) -> None:
    """A refusal: the status, one JSON line that says ``words``, and a server that still answers."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error and "\n" not in error and "Traceback" not in error
    assert client.get("/healthz").status_code == 200


def test_healthz_and_models(client):
    assert client.get("/healthz").json() == {"status": "ok", "version": exypno.__version__}
    models = client.get("/v1/models").json()
    assert models["default"]["pairing"] == "image-in-image" and "robust" in models
    assert client.get("/docs").status_code == 200 and "/v1/hide" in client.get("/openapi.json").json()["paths"]


def test_hide_and_reveal_give_what_the_api_gives(client, photos, tmp_path):
    cover, secret = photos
    r = client.post("/v1/hide", files={"cover": ("photo.png", png(cover)), "secret": ("s.png", png(secret))})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert 'filename="photo-stego.png"' in r.headers["content-disposition"]
    stego = np.asarray(Image.open(io.BytesIO(r.content)))
    assert np.array_equal(stego, exypno.hide(cover, secret))  # the very stego the API (and the CLI) make
    r = client.post("/v1/reveal", files={"stego": ("photo-stego.png", r.content)})
    assert r.status_code == 200 and 'filename="photo-stego-revealed.png"' in r.headers["content-disposition"]
    (tmp_path / "stego.png").write_bytes(png(stego))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(r.content))), exypno.reveal(tmp_path / "stego.png"))


def test_one_loaded_model_serves_concurrent_jobs_as_it_serves_one(photos):
    from concurrent.futures import ThreadPoolExecutor

    model = exypno.load("default")
    # Two sizes, one off the model's grid (its far edges are cut, so its reveal takes the border decoder there).
    stegos = [model.hide(*photos), model.hide(photos[0][:50, :70], photos[1][:50, :70])]
    alone = [model.reveal(s, align=False) for s in stegos]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda s: model.reveal(s, align=False), stegos * 8))
    assert all(np.array_equal(t, alone[i % 2]) for i, t in enumerate(together))


def test_sound_and_video_covers_come_back_with_their_media_types(client, tmp_path):
    rng = np.random.default_rng(1)
    r = client.post("/v1/hide", files={"cover": ("c.wav", wav(sound(rng, 2.0, "music"))),
                                       "secret": ("s.wav", wav(sound(rng, 1.0)))})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav", r.text
    r = client.post("/v1/reveal", files={"stego": ("c-stego.wav", r.content)})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert sf.info(io.BytesIO(r.content)).frames >= 16000
    video = make_video(tmp_path / "c.mkv", 3, rng, audio=False).read_bytes()
    r = client.post("/v1/hide", files={"cover": ("c.mkv", video), "secret": ("s.png", png(smooth_photo(rng, 48, 64)))})
    assert r.status_code == 200 and r.headers["content-type"] == "video/x-matroska", r.text
    r = client.post("/v1/reveal", files={"stego": ("c-stego.mkv", r.content)}, data={"kind": "image"})
    assert r.status_code == 200 and np.asarray(Image.open(io.BytesIO(r.content))).shape == (48, 64, 3)


def test_seal_and_unseal_give_the_file_back_exactly(client):
    cover = png(smooth_photo(np.random.default_rng(2), 96, 96))
    data = bytes(range(256)) * 2
    capacity = client.post("/v1/capacity", files={"cover": ("c.png", cover)}).json()
    assert capacity["png"]["bytes"] > len(data) and set(capacity) == {"png", "robust"}
    r = client.post("/v1/seal", files={"cover": ("c.png", cover), "file": ("rapport é.bin", data)},
                    data={"passphrase": "correct horse"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
    u = client.post("/v1/unseal", files={"stego": ("c-sealed.png", r.content)}, data={"passphrase": "correct horse"})
    assert u.status_code == 200 and u.content == data
    assert "filename*=UTF-8''rapport%20%C3%A9.bin" in u.headers["content-disposition"]
    wrong = client.post("/v1/unseal", files={"stego": ("s.png", r.content)}, data={"passphrase": "wrong"})
    nothing = client.post("/v1/unseal", files={"stego": ("s.png", cover)}, data={"passphrase": "correct horse"})
    refused(client, wrong, 422, "no sealed file for this passphrase")
    assert nothing.json() == wrong.json()  # a wrong passphrase does not tell whether anything is sealed
    tampered = np.asarray(Image.open(io.BytesIO(r.content))).copy()
    tampered[::2] = 255 - tampered[::2]
    refused(client, client.post("/v1/unseal", files={"stego": ("t.png", png(tampered))},
                                data={"passphrase": "correct horse"}), 422, "")
    refused(client, client.post("/v1/seal", files={"cover": ("c.png", cover), "file": ("f", data)},
                                data={"passphrase": "x", "mode": "zip"}), 400, "mode 'zip'")


def test_analyze_gives_json_scores(client, photos):
    scores = client.post("/v1/analyze", files={"image": ("p.png", png(photos[0]))}).json()
    assert set(scores) >= {"chi_square", "rs_analysis", "sample_pairs", "primary_sets", "fused", "stego"}
    json.dumps(scores, allow_nan=False)  # no NaN: JSON has none


def test_bad_requests_are_refused_by_kind(client, photos):
    good = png(photos[0])
    refused(client, client.post("/v1/hide", files={"cover": ("c.png", b"\x00garbage" * 9), "secret": ("s.png", good)}),
            400, "cover/c.png: not an image file Exypno can read")
    refused(client, client.post("/v1/analyze", files={"image": ("bomb.png", declared_png(40000, 40000))}),
            413, "image too large")
    refused(client, client.post("/v1/hide", files={"cover": ("c.png", good)}), 422, "missing field 'secret'")
    refused(client, client.post("/v1/seal", files={"cover": ("c.png", good), "file": ("f", b"x")}), 422,
            "missing field 'passphrase'")
    refused(client, client.post("/v1/reveal", files={"stego": ("s.png", good)}, data={"model": "../etc/x.safetensors"}),
            400, "no shipped model named")
    refused(client, client.post("/v1/reveal", files={"stego": ("s.png", b"")}), 400, "the upload is empty")
    refused(client, client.get("/v1/nothing"), 404, "Not Found")


def test_limits_refuse_early(photos):
    with TestClient(create_app(Limits(upload_mb=0.01))) as c:
        refused(c, c.post("/v1/analyze", files={"image": ("p.png", np.random.default_rng(0).bytes(20_000))}),
                413, "over the server's limit of 0.01 MB")
        chunks = (b"x" * 4000 for _ in range(5))  # no Content-Length: counted as it comes
        refused(c, c.post("/v1/analyze", content=chunks, headers={"content-type": "multipart/form-data; boundary=x"}),
                413, "over the server's limit of 0.01 MB")
    with TestClient(create_app(Limits(pixels=1000, audio_seconds=0.5))) as c:
        refused(c, c.post("/v1/analyze", files={"image": ("p.png", png(photos[0][:40, :40]))}), 413,
                "image/p.png: 1,600 pixels, over the server's limit of 1,000")
        refused(c, c.post("/v1/hide", files={"cover": ("c.wav", wav(np.zeros(16000, np.float32))),
                                             "secret": ("s.wav", wav(np.zeros(800, np.float32)))}), 413, "1.0 s of sound")
    # The body is refused from Content-Length alone: the app never reads it.
    app = create_app(Limits(upload_mb=1))
    sent = []

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/analyze", "raw_path": b"/v1/analyze", "query_string": b"",
             "headers": [(b"content-length", b"2000000"), (b"content-type", b"multipart/form-data; boundary=x")],
             "http_version": "1.1", "scheme": "http", "server": ("t", 80), "client": ("c", 1), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413 and b"over the server's limit of 1 MB" in sent[1]["body"]


def test_timeout_token_privacy_and_no_files_left(photos, tmp_path, monkeypatch, caplog):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    good = png(photos[0])
    with TestClient(create_app(Limits(timeout=0.001))) as c:
        refused(c, c.post("/v1/hide", files={"cover": ("c.png", good), "secret": ("s.png", good)}), 504,
                "over the server's limit of 0.001 s")
    with TestClient(create_app(token="let-me-in")) as c:
        refused(c, c.get("/v1/models"), 401, "Authorization: Bearer")
        assert c.get("/v1/models", headers={"Authorization": "Bearer let-me-in"}).status_code == 200
        with caplog.at_level("DEBUG"):
            r = c.post("/v1/seal", headers={"Authorization": "Bearer let-me-in"}, data={"passphrase": "hunter2-pass"},
                       files={"cover": ("c.png", png(smooth_photo(np.random.default_rng(2), 96, 96))),
                              "file": ("f.txt", b"payload-words")})
            assert r.status_code == 200
    assert "hunter2" not in caplog.text and "payload-words" not in caplog.text
    assert list(tmp_path.iterdir()) == []  # every request's folder is gone, the timed-out job's too


def test_serve_command_without_the_extra_says_what_to_install(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "fastapi", None)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'exypno[serve]'" in err


def test_serve_command_warns_off_loopback(monkeypatch, capsys):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append(k))
    for name in ("EXYPNO_SERVE_TOKEN", "EXYPNO_SERVE_CONFIG"):  # run() sets them for uvicorn's workers
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--port", "8123"]) == 0 and capsys.readouterr().err == ""
    assert main(["serve", "--host", "0.0.0.0", "--workers", "2"]) == 0
    assert "the API has no authentication" in capsys.readouterr().err
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8123 and calls[1]["workers"] == 2


def test_serve_device_reaches_the_calls(monkeypatch, capsys, photos):
    """--device goes through uvicorn's config to every call the app makes; cuda where torch sees none is one line."""
    import torch
    import uvicorn

    from exypno.serve.app import app_from_env

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    for name in ("EXYPNO_SERVE_TOKEN", "EXYPNO_SERVE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--device", "cpu"]) == 0
    seen = []
    monkeypatch.setattr(exypno.api, "hide", lambda *a, **k: (seen.append(k["device"]), k["output"].write_bytes(b"x")))
    with TestClient(app_from_env()) as c:
        assert c.post("/v1/hide", files={"cover": ("c.png", png(photos[0])), "secret": ("s.png", png(photos[1]))}
                      ).status_code == 200
    assert seen == ["cpu"]
    if not torch.cuda.is_available():
        capsys.readouterr()
        assert main(["serve", "--device", "cuda"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "CUDA" in err
