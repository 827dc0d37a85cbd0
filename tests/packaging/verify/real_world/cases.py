"""The corpus: artifacts rebuilt from real wheels the way users' tools build them.

Each case names the public report it reproduces, how the artifact is built, the
runtime, and two verdicts: ``before``, what the verifier on main said when the case
was written (problem codes and exit code), and the expected one, what Lambda would
do. Every case's verdict is the expected one (README.md here has both columns).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.utils import parse_wheel_filename

from tests.packaging.verify.real_world import recipes
from tests.packaging.verify.real_world.wheels import wheel
from tests.support import pypi_wheels

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = ["CASES", "Case", "Kit"]


class Kit:
    """What a case's build gets: the cached wheels and a pip to install them with."""

    def __init__(self, work: Path, shared: Path | None = None) -> None:
        self.work = work
        self.shared = shared
        """A folder kept for the session: :func:`sam` builds each zip once there."""
        self.pip_python = pip_python()

    def wheels(self, *prefixes: str) -> list[Path]:
        """The cached files of the pinned wheels whose names start with ``prefixes``."""
        return [pypi_wheels.fetch(wheel(p)) for p in prefixes]

    def install(self, dest: Path, *prefixes: str) -> Path:
        """``pip install --platform ... --only-binary=:all: --target dest`` of the wheels,
        for the platforms and Python version the wheels are built for (offline)."""
        files = self.wheels(*prefixes)
        platforms: set[str] = set()
        versions = {"3.11"}
        for path in files:
            for tag in parse_wheel_filename(path.name)[3]:
                if tag.platform != "any":
                    platforms.add(tag.platform)
                if tag.interpreter.startswith("cp") and tag.abi.startswith("cp"):
                    digits = tag.interpreter.removeprefix("cp")
                    versions = {f"{digits[0]}.{digits[1:]}"}
        return recipes.pip_target(
            self.pip_python,
            files,
            dest,
            platform=sorted(platforms) or ["manylinux2014_x86_64"],
            python_version=versions.pop(),
        )

    def write(self, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path


def pip_python() -> str:
    """A Python 3.11 with pip (it compiles the ``.pyc`` Lambda's python3.11 would use),
    else the running one."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return shutil.which("python3.11") or sys.executable


@dataclass(frozen=True)
class Case:
    """One artifact of the corpus and the verdicts on it."""

    id: str
    url: str
    """The public report it reproduces."""
    built_with: str
    """The tool or recipe, in a few words."""
    runtime: str
    build: Callable[[Kit], list[str]]
    """Builds the artifact in ``kit.work``; returns ``verify``'s arguments, relative to it."""
    before: str
    """``verify``'s verdict on main when the case was written: codes and exit code."""
    codes: frozenset[str] = frozenset()
    """The problem codes Lambda's behaviour calls for (empty: deployable)."""
    exit: int = 0
    words: tuple[str, ...] = ()
    """Words the problems' messages (or, when it passes, the notes) must contain."""
    not_words: tuple[str, ...] = ()
    """Words no problem may contain (a library only a plugin nothing loads needs)."""
    allowed: frozenset[str] = frozenset()
    """Further codes that are right too (a second symptom of the same cause)."""
    imports: bool = False
    """Whether the handler's import must run (an interpreter of the target is needed)."""
    handler: str | None = None
    """The handler the report must name, when the case checks it."""
    architecture: str | None = None
    extra: tuple[str, ...] = field(default=())

    @property
    def expected(self) -> str:
        if self.exit == 2:
            return "refused as unusable input (exit 2)"
        codes = ", ".join(sorted(self.codes)) or "ok"
        return f"{codes} (exit {self.exit})"


CASES: list[Case] = []


def case(**kwargs: object) -> Callable[[Callable[[Kit], list[str]]], Callable[[Kit], list[str]]]:
    def register(build: Callable[[Kit], list[str]]) -> Callable[[Kit], list[str]]:
        CASES.append(Case(id=build.__name__.replace("_", "-"), build=build, **kwargs))  # type: ignore[arg-type]
        return build

    return register


# --- handlers -------------------------------------------------------------------

CV2 = (
    "import cv2\n\n\ndef lambda_handler(event, context):\n    return {'opencv': cv2.__version__}\n"
)
PSYCOPG = (
    "import psycopg\n\n\ndef lambda_handler(event, context):\n"
    "    return {'libpq': psycopg.pq.version()}\n"
)
REQUESTS = (
    "import requests\n\n\ndef lambda_handler(event, context):\n"
    "    return {'requests': requests.__version__}\n"
)
NUMPY = (
    "import numpy\n\n\ndef lambda_handler(event, context):\n"
    "    return {'sum': int(numpy.arange(4).sum())}\n"
)
PYDANTIC = (
    "import pydantic\n\n\nclass Event(pydantic.BaseModel):\n    name: str = 'world'\n\n\n"
    "def lambda_handler(event, context):\n    return {'hello': Event(**event).name}\n"
)
FERNET = (
    "from cryptography.fernet import Fernet\n\n\ndef lambda_handler(event, context):\n"
    "    return {'key': len(Fernet.generate_key())}\n"
)

PYDANTIC_PURE = ("pydantic-2.12.4", "typing_extensions-", "annotated_types-", "typing_inspection-")
REQUESTS_DEPS = ("urllib3-", "idna-", "certifi-", "charset_normalizer-")
NUMPY_X86 = "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64"
S3 = "--s3-upload"


def sam(kit: Kit, handler: str, *wheels: str, name: str = "app.py") -> str:
    """SAM's build: dependencies installed with pip into the build folder, the code beside,
    zipped from inside the folder. Built once per session; each case gets a hard link."""
    key = hashlib.sha256(repr((handler, wheels, name)).encode()).hexdigest()[:16]
    made = (kit.shared or kit.work) / f"sam-{key}" / "function.zip"
    if not made.exists():
        build = made.parent / "build"
        if wheels:
            kit.install(build, *wheels)
        kit.write(build / name, handler)
        recipes.zip_tree(build, made.with_suffix(".tmp"))
        made.with_suffix(".tmp").rename(made)
    os.link(made, kit.work / "function.zip")
    return "function.zip"


# --- class 1: the libraries Lambda's images ship ---------------------------------


@case(
    url="https://github.com/opencv/opencv-python/issues/1019",
    built_with="SAM: pip install -t + zip (S3 upload)",
    runtime="python3.11",
    before="record-mismatch, unresolved-library naming libxcb.so.1, not libGL.so.1 (exit 1)",
    codes=frozenset({"unresolved-library"}),
    exit=1,
    words=("libGL.so.1", "cv2"),
    not_words=("plugins/platforms",),
    imports=True,
    extra=(S3,),
)
def opencv_python_needs_libgl(kit: Kit) -> list[str]:
    return [sam(kit, CV2, "opencv_python-4.10.0.84", NUMPY_X86), "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/opencv/opencv-python/issues/1019",
    built_with="SAM: pip install -t + zip (S3 upload)",
    runtime="python3.11",
    before="record-mismatch numpy/distutils/__pycache__/conv_template.cpython-311.pyc (exit 1)",
    imports=True,
    extra=(S3,),
)
def opencv_python_headless(kit: Kit) -> list[str]:
    zip_ = sam(kit, CV2, "opencv_python_headless-4.10.0.84", NUMPY_X86)
    return [zip_, "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/0xpetersatoshi/aws-lambda-py3.6-pandas-numpy/issues/5",
    built_with="pip install -t + zip, uploaded directly (console, update-function-code)",
    runtime="python3.11",
    before="record-mismatch, size-limit (exit 1)",
    codes=frozenset({"size-limit"}),
    exit=1,
    words=("50 MiB",),
)
def opencv_headless_over_the_direct_upload_limit(kit: Kit) -> list[str]:
    zip_ = sam(kit, CV2, "opencv_python_headless-4.10.0.84", NUMPY_X86)
    return [zip_, "--handler", "app.lambda_handler", "--no-import"]


# --- class 2: a dynamic check the host cannot fool --------------------------------


@case(
    url="https://github.com/psycopg/psycopg/issues/897",
    built_with="SAM: pip install -t psycopg (no binary extra) + zip",
    runtime="python3.11",
    before="ok (exit 0): the import loaded the host's libpq",
    codes=frozenset({"unresolved-library"}),
    allowed=frozenset({"import-failed"}),
    exit=1,
    words=("libpq",),
    imports=True,
)
def psycopg_without_binary_finds_host_libpq(kit: Kit) -> list[str]:
    zip_ = sam(kit, PSYCOPG, "psycopg-3.2.3", "typing_extensions-")
    return [zip_, "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/psycopg/psycopg2/issues/1011",
    built_with="SAM: pip install -t 'psycopg[binary]' + zip",
    runtime="python3.11",
    before="ok (exit 0)",
    imports=True,
)
def psycopg_binary(kit: Kit) -> list[str]:
    zip_ = sam(kit, PSYCOPG, "psycopg-3.2.3", "psycopg_binary-", "typing_extensions-")
    return [zip_, "--handler", "app.lambda_handler"]


# --- class 3: vendored code without dist-info -------------------------------------


def _requests_tree(kit: Kit, dest: Path) -> Path:
    return kit.install(dest, "requests-2.32.3", *REQUESTS_DEPS)


@case(
    url="https://github.com/serverless/serverless-python-requirements/issues/441",
    built_with="serverless-python-requirements, slim: true",
    runtime="python3.11",
    before="unresolved-import requests/compat.py:55 simplejson (exit 1)",
    imports=True,
)
def serverless_slim_requests(kit: Kit) -> list[str]:
    tree = recipes.slim(_requests_tree(kit, kit.work / ".serverless" / "requirements"))
    kit.write(tree / "handler.py", REQUESTS.replace("lambda_handler", "hello"))
    recipes.zip_tree(tree, kit.work / "service.zip")
    return ["service.zip", "--handler", "handler.hello"]


@case(
    url="https://github.com/aws/chalice/issues/377",
    built_with="Chalice: vendor/ copied into the package root",
    runtime="python3.11",
    before="unresolved-import requests/compat.py:55 simplejson (exit 1)",
    imports=True,
)
def chalice_vendored_requests(kit: Kit) -> list[str]:
    staged = _requests_tree(kit, kit.work / "staged")
    vendor = kit.work / "app" / "vendor"
    vendor.mkdir(parents=True)
    for item in staged.iterdir():  # the user copies the packages, not their metadata
        if not item.name.endswith(".dist-info") and item.name not in {"bin", "__pycache__"}:
            shutil.move(str(item), vendor / item.name)
    app = kit.work / "app" / "code"
    kit.write(app / "app.py", REQUESTS.replace("lambda_handler", "handler"))
    recipes.chalice_vendor(app, vendor, kit.work / "deployment")
    recipes.zip_tree(kit.work / "deployment", kit.work / "deployment.zip")
    return ["deployment.zip", "--handler", "app.handler"]


# --- class 4: .pyc that installers regenerate ----------------------------------


@case(
    url="https://github.com/numpy/numpy/issues/29150",
    built_with="AWS docs: pip install --platform manylinux2014_aarch64 --target (arm64)",
    runtime="python3.11",
    architecture="arm64",
    before="record-mismatch numpy/distutils/__pycache__/conv_template.cpython-311.pyc (exit 1)",
    words=("conv_template.cpython-311.pyc",),
)
def aws_recipe_numpy_arm64(kit: Kit) -> list[str]:
    tree = kit.install(kit.work / "package", "numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64")
    kit.write(tree / "lambda_function.py", NUMPY)
    recipes.zip_tree(tree, kit.work / "my_deployment_package.zip")
    return ["my_deployment_package.zip", "--handler", "lambda_function.lambda_handler"]


@case(
    url="https://github.com/numpy/numpy/issues/27222",
    built_with="SAM: pip install -t numpy + zip",
    runtime="python3.11",
    before="record-mismatch numpy/distutils/__pycache__/conv_template.cpython-311.pyc (exit 1)",
    words=("conv_template.cpython-311.pyc",),
    imports=True,
)
def sam_numpy_x86_64(kit: Kit) -> list[str]:
    return [sam(kit, NUMPY, NUMPY_X86), "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/serverless/serverless-python-requirements/issues/698",
    built_with="serverless-python-requirements, slimPatternsAppendDefaults: false",
    runtime="python3.11",
    before="missing-file numpy/distutils/__pycache__/conv_template.cpython-311.pyc (exit 1)",
    imports=True,
)
def serverless_slim_keeping_dist_info_numpy(kit: Kit) -> list[str]:
    tree = kit.install(kit.work / ".serverless" / "requirements", NUMPY_X86)
    recipes.slim(tree, ("**/*.py[c|o]", "**/__pycache__*"))
    kit.write(tree / "handler.py", NUMPY.replace("lambda_handler", "main"))
    recipes.zip_tree(tree, kit.work / "service.zip")
    return ["service.zip", "--handler", "handler.main"]


@case(
    url="https://github.com/aws-samples/aws-cost-explorer-report/issues/43",
    built_with="pip install -t numpy + zip with a `*.so` exclude (Python's .gitignore template)",
    runtime="python3.11",
    before="import-failed, missing-file, record-mismatch (exit 1)",
    codes=frozenset({"missing-file", "import-failed"}),
    exit=1,
    words=("_multiarray_umath", "numpy"),
    imports=True,
)
def numpy_without_its_extension_modules(kit: Kit) -> list[str]:
    tree = kit.install(kit.work / "package", NUMPY_X86)
    recipes.slim(tree, ("**/*.so",))
    kit.write(tree / "lambda_function.py", NUMPY)
    recipes.zip_tree(tree, kit.work / "function.zip")
    return ["function.zip", "--handler", "lambda_function.lambda_handler"]


def _slim_keeping_dist_info(kit: Kit, *, strip: bool) -> list[str]:
    tree = kit.install(
        kit.work / ".serverless" / "requirements",
        *PYDANTIC_PURE,
        "pydantic_core-2.41.5-cp311-cp311-manylinux_2_17_x86_64",
    )
    recipes.slim(tree, ("**/*.py[c|o]", "**/__pycache__*"))
    if strip:
        recipes.strip_shared_objects(tree)
    kit.write(tree / "handler.py", PYDANTIC.replace("lambda_handler", "main"))
    recipes.zip_tree(tree, kit.work / "service.zip")
    return ["service.zip", "--handler", "handler.main"]


@case(
    url="https://github.com/serverless/serverless-python-requirements/issues/318",
    built_with="serverless-python-requirements, slim + strip, slimPatternsAppendDefaults: false",
    runtime="python3.11",
    before="record-mismatch pydantic_core/_pydantic_core...so (exit 1)",
    codes=frozenset({"record-mismatch"}),
    exit=1,
    words=("_pydantic_core.cpython-311-x86_64-linux-gnu.so",),
    imports=True,
)
def serverless_strip_keeping_dist_info(kit: Kit) -> list[str]:
    return _slim_keeping_dist_info(kit, strip=True)


@case(
    url="https://github.com/serverless/serverless-python-requirements/pull/326",
    built_with="serverless-python-requirements, slim, strip: false, keeping dist-info",
    runtime="python3.11",
    before="ok (exit 0)",
    imports=True,
)
def serverless_no_strip_keeping_dist_info(kit: Kit) -> list[str]:
    return _slim_keeping_dist_info(kit, strip=False)


# --- class 5: images describe themselves ---------------------------------------


def _arm64_image(kit: Kit) -> str:
    tree = kit.install(
        kit.work / "task",
        *PYDANTIC_PURE,
        "pydantic_core-2.41.5-cp311-cp311-manylinux_2_17_aarch64",
    )
    kit.write(tree / "app.py", PYDANTIC.replace("lambda_handler", "handler"))
    return recipes.oci_image(tree, kit.work / "image", architecture="arm64", cmd="app.handler")


@case(
    url="https://github.com/aws/aws-lambda-base-images/issues/26",
    built_with="container image (config: arm64, Cmd app.handler), written by our OCI writer",
    runtime="python3.11",
    before="arch-mismatch, wheel-tag-incompatible (exit 1); Cmd ignored, no handler checked",
    handler="app.handler",
)
def arm64_image_without_architecture(kit: Kit) -> list[str]:
    return [_arm64_image(kit)]


@case(
    url="https://github.com/aws/aws-lambda-base-images/issues/26",
    built_with="container image (config: arm64), verified with --architecture x86_64",
    runtime="python3.11",
    before="arch-mismatch, wheel-tag-incompatible (exit 1)",
    exit=2,
    words=("arm64", "x86_64"),
)
def arm64_image_checked_as_x86_64(kit: Kit) -> list[str]:
    return [_arm64_image(kit), "--architecture", "x86_64"]


# --- abi, architecture, platform, glibc ----------------------------------------


@case(
    url="https://github.com/pydantic/pydantic/issues/6990",
    built_with="SAM: pip install -t on a python3.12 machine, deployed to python3.11",
    runtime="python3.11",
    before="abi-mismatch, import-failed, wheel-tag-incompatible (exit 1)",
    codes=frozenset({"abi-mismatch", "import-failed", "wheel-tag-incompatible"}),
    exit=1,
    words=("_pydantic_core.cpython-312-x86_64-linux-gnu.so",),
    imports=True,
)
def pydantic_core_for_python312_on_python311(kit: Kit) -> list[str]:
    zip_ = sam(kit, PYDANTIC, *PYDANTIC_PURE, "pydantic_core-2.41.5-cp312-cp312-manylinux")
    return [zip_, "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/pydantic/pydantic-core/issues/1409",
    built_with="AWS docs: pip install --platform manylinux2014_x86_64 --target + zip",
    runtime="python3.11",
    before="ok (exit 0)",
    imports=True,
)
def pydantic_for_python311_x86_64(kit: Kit) -> list[str]:
    zip_ = sam(
        kit,
        PYDANTIC,
        *PYDANTIC_PURE,
        "pydantic_core-2.41.5-cp311-cp311-manylinux_2_17_x86_64",
        name="lambda_function.py",
    )
    return [zip_, "--handler", "lambda_function.lambda_handler"]


@case(
    url="https://github.com/pydantic/pydantic/issues/6557",
    built_with="pip install -t in an arm64 container (Apple silicon), deployed to x86_64",
    runtime="python3.11",
    before="arch-mismatch, import-failed, wheel-tag-incompatible (exit 1)",
    codes=frozenset({"arch-mismatch", "import-failed", "wheel-tag-incompatible"}),
    exit=1,
    words=("aarch64",),
    imports=True,
)
def pydantic_core_aarch64_on_x86_64(kit: Kit) -> list[str]:
    zip_ = sam(
        kit, PYDANTIC, *PYDANTIC_PURE, "pydantic_core-2.41.5-cp311-cp311-manylinux_2_17_aarch64"
    )
    return [zip_, "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/pydantic/pydantic/issues/6557",
    built_with="pip install -t in an arm64 container, deployed to arm64",
    runtime="python3.11",
    architecture="arm64",
    before="ok (exit 0; import not checked: no arm64 interpreter)",
)
def pydantic_core_aarch64_on_arm64(kit: Kit) -> list[str]:
    zip_ = sam(
        kit, PYDANTIC, *PYDANTIC_PURE, "pydantic_core-2.41.5-cp311-cp311-manylinux_2_17_aarch64"
    )
    return [zip_, "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/Miserlou/lambda-packages/issues/58",
    built_with="Zappa-style: site-packages of a macOS virtualenv zipped with the handler",
    runtime="python3.11",
    before="import-failed, not-linux, record-mismatch, wheel-tag-incompatible (exit 1)",
    codes=frozenset({"not-linux", "import-failed", "wheel-tag-incompatible"}),
    exit=1,
    words=("darwin.so", "Mach-O"),
    imports=True,
)
def numpy_from_macos_on_linux(kit: Kit) -> list[str]:
    zip_ = sam(kit, NUMPY, "numpy-1.26.4-cp311-cp311-macosx", name="handler.py")
    return [zip_, "--handler", "handler.lambda_handler"]


@case(
    url="https://github.com/eawsy/aws-lambda-go-shim/issues/19",
    built_with="pip install -t in python:3.11-alpine (musllinux wheels) + zip",
    runtime="python3.11",
    before="abi-mismatch, import-failed, unresolved-library, wheel-tag-incompatible (exit 1)",
    # musl's libc.so, which the extension needs, is moot: Lambda never loads an extension
    # whose suffix it does not accept (the import fails first).
    codes=frozenset({"abi-mismatch", "wheel-tag-incompatible", "import-failed"}),
    allowed=frozenset({"unresolved-library"}),
    exit=1,
    words=("musllinux", "linux-musl.so"),
    imports=True,
)
def musllinux_pydantic_core_from_alpine(kit: Kit) -> list[str]:
    zip_ = sam(kit, PYDANTIC, *PYDANTIC_PURE, "pydantic_core-2.41.5-cp311-cp311-musllinux")
    return [zip_, "--handler", "app.lambda_handler"]


CRYPTOGRAPHY_DEPS = ("cffi-1.17.1", "pycparser-")


@case(
    url="https://github.com/ASFHyP3/hyp3/issues/1190",
    built_with="pip install -t on a glibc 2.28+ machine (manylinux_2_28 wheel) + zip",
    runtime="python3.11",
    before="glibc-too-new, wheel-tag-incompatible (exit 1)",
    codes=frozenset({"glibc-too-new", "wheel-tag-incompatible"}),
    exit=1,
    words=("GLIBC_2.28", "_rust.abi3.so"),
    imports=True,
)
def cryptography_manylinux_2_28_on_amazon_linux_2(kit: Kit) -> list[str]:
    zip_ = sam(kit, FERNET, "cryptography-43.0.3-cp39-abi3-manylinux_2_28", *CRYPTOGRAPHY_DEPS)
    return [zip_, "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/ASFHyP3/hyp3/pull/1184",
    built_with="AWS docs: pip install --platform manylinux2014_x86_64 --target + zip",
    runtime="python3.11",
    before="ok (exit 0)",
    imports=True,
)
def cryptography_manylinux2014(kit: Kit) -> list[str]:
    zip_ = sam(kit, FERNET, "cryptography-43.0.3-cp39-abi3-manylinux_2_17", *CRYPTOGRAPHY_DEPS)
    return [zip_, "--handler", "app.lambda_handler"]


# --- the handler and its imports ------------------------------------------------


@case(
    url="https://github.com/aws-quickstart/quickstart-git2s3/issues/13",
    built_with="zip -r function.zip myfunction/ (the folder, not its contents)",
    runtime="python3.11",
    before="handler-missing (exit 1)",
    codes=frozenset({"handler-missing"}),
    allowed=frozenset({"import-failed"}),
    exit=1,
    words=("lambda_function",),
)
def zipped_the_folder(kit: Kit) -> list[str]:
    tree = _requests_tree(kit, kit.work / "myfunction")
    kit.write(tree / "lambda_function.py", REQUESTS)
    recipes.zip_tree(tree, kit.work / "function.zip", prefix="myfunction/")
    return ["function.zip", "--handler", "lambda_function.lambda_handler"]


@case(
    url="https://github.com/aws/chalice/issues/2116",
    built_with="handler zipped alone: requirements never installed",
    runtime="python3.11",
    before="import-failed, unresolved-import (exit 1)",
    codes=frozenset({"unresolved-import", "import-failed"}),
    exit=1,
    words=("requests",),
    imports=True,
)
def requests_never_installed(kit: Kit) -> list[str]:
    return [sam(kit, REQUESTS), "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/aws/chalice/issues/2116",
    built_with="SAM: pip install -t requests + zip",
    runtime="python3.11",
    before="ok (exit 0)",
    imports=True,
)
def sam_requests(kit: Kit) -> list[str]:
    return [
        sam(kit, REQUESTS, "requests-2.32.3", *REQUESTS_DEPS),
        "--handler",
        "app.lambda_handler",
    ]


# --- layers ---------------------------------------------------------------------


def _klayer(kit: Kit, name: str, *wheels: str) -> str:
    """A Klayers-style layer: ``python/`` holding the installed distributions."""
    tree = kit.install(kit.work / name / "python", *wheels)
    recipes.zip_tree(tree, kit.work / f"{name}.zip", prefix="python/")
    return f"{name}.zip"


@case(
    url="https://github.com/keithrozario/Klayers/issues/305",
    built_with="Klayers-style requests layer + a function bundling another requests",
    runtime="python3.11",
    before="shadowed-distribution (exit 1)",
    codes=frozenset({"shadowed-distribution"}),
    exit=1,
    words=("requests", "2.31.0", "2.32.3"),
    imports=True,
)
def function_requests_shadows_the_layer(kit: Kit) -> list[str]:
    layer = _klayer(kit, "requests-layer", "requests-2.32.3", *REQUESTS_DEPS)
    zip_ = sam(kit, REQUESTS, "requests-2.31.0")
    return [zip_, "--layer", layer, "--handler", "app.lambda_handler"]


@case(
    url="https://github.com/keithrozario/Klayers/issues/305",
    built_with="Klayers-style requests layer + the handler alone",
    runtime="python3.11",
    before="ok (exit 0)",
    imports=True,
)
def requests_from_a_layer(kit: Kit) -> list[str]:
    layer = _klayer(kit, "requests-layer", "requests-2.32.3", *REQUESTS_DEPS)
    return [sam(kit, REQUESTS), "--layer", layer, "--handler", "app.lambda_handler"]


_ONE_EACH = ("requests-2.32.3", *REQUESTS_DEPS, "typing_extensions-")


@case(
    url="https://github.com/serverless/serverless/issues/5626",
    built_with="six Klayers-style layers, one distribution each",
    runtime="python3.11",
    before="size-limit (exit 1)",
    codes=frozenset({"size-limit"}),
    exit=1,
    words=("6 layers",),
)
def six_layers(kit: Kit) -> list[str]:
    layers = [_klayer(kit, f"layer{i}", w) for i, w in enumerate(_ONE_EACH)]
    args = [sam(kit, REQUESTS), "--handler", "app.lambda_handler", "--no-import"]
    for layer in layers:
        args += ["--layer", layer]
    return args


@case(
    url="https://github.com/serverless/serverless/issues/5626",
    built_with="five Klayers-style layers, one distribution each",
    runtime="python3.11",
    before="ok (exit 0)",
    imports=True,
)
def five_layers(kit: Kit) -> list[str]:
    layers = [_klayer(kit, f"layer{i}", w) for i, w in enumerate(_ONE_EACH[:5])]
    args = [sam(kit, REQUESTS), "--handler", "app.lambda_handler"]
    for layer in layers:
        args += ["--layer", layer]
    return args


def ids(cases: Sequence[Case]) -> list[str]:
    return [c.id for c in cases]
