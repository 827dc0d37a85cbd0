"""The project the contract builds: one Lambda with a layer, locked without a resolver.

Its dependencies are wheels written beside it (:mod:`.wheels`), locked by ``file:``
URL, so building it needs no network.
"""

from __future__ import annotations

import hashlib
import textwrap
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.packaging.backend import load_backend
from sentiment_pipeline.packaging.lock import Lock, LockedWheel, LockFile, inputs_hash
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.plan import plan_functions
from sentiment_pipeline.packaging.testing.wheels import write_wheel

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["HANDLER", "ContractProject", "make_contract_project"]

HANDLER = "app.main.lambda_handler"
"""The contract project's handler."""

_SOURCES = {
    "app/__init__.py": "",
    "app/main.py": textwrap.dedent("""\
        import json

        import sp_contract_own
        import sp_contract_shared

        from app.helper import greeting


        def lambda_handler(event, context):
            return {
                "statusCode": 200,
                "body": json.dumps(
                    {
                        "greeting": greeting(),
                        "own": sp_contract_own.VALUE,
                        "shared": sp_contract_shared.VALUE,
                    }
                ),
            }
        """),
    "app/helper.py": textwrap.dedent("""\
        from pathlib import Path


        def greeting():
            return Path(__file__).with_name("greeting.txt").read_text().strip()
        """),
    "app/greeting.txt": "hello from the contract\n",
}
"""The Lambda's sources: a handler, a first-party module it imports, a data file."""

# name -> (requirement, module source): the layer's and the function's own dependency.
_DEPENDENCIES = {
    "sp-contract-shared": ("sp-contract-shared==1.0", 'VALUE = "shared"\n'),
    "sp-contract-own": ("sp-contract-own==1.0", 'VALUE = "own"\n'),
}


@attrs.frozen
class ContractProject:
    """A project made by :func:`make_contract_project`: where its parts are.

    >>> from pathlib import Path
    >>> ContractProject(Path("/p")).manifest
    PosixPath('/p/lambdas.toml')
    """

    root: Path
    """The project's folder."""

    @property
    def manifest(self) -> Path:
        """Its manifest: one Lambda (``api``) with one layer (``common``)."""
        return self.root / "lambdas.toml"

    @property
    def lock(self) -> Path:
        """The lock file written for it."""
        return self.root / "lambdas.lock"

    @property
    def sources(self) -> tuple[str, ...]:
        """The Lambda's source files, relative to ``root``: every function artifact has them."""
        return tuple(sorted(_SOURCES))


def make_contract_project(
    root: Path,
    *,
    backend: str,
    runtime: str = "python3.13",
    architecture: str = "x86_64",
    handler: str = HANDLER,
) -> ContractProject:
    """Write the contract's project into ``root`` and lock it for ``backend``.

    One Lambda, ``api`` (``app/``: the handler, a module it imports, a data file it
    reads), with its own dependency and one layer, ``common``, with another. Both
    are wheels written into ``root/wheels``; every artifact ``backend`` plans is
    locked to them by ``file:`` URL, so building the project needs no network.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     project = make_contract_project(Path(tmp), backend="layer")
    ...     sorted(Manifest.load(project.manifest).lambdas)
    ['api']
    """
    for relative, text in _SOURCES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "wheels").mkdir(parents=True, exist_ok=True)
    wheels: dict[str, LockedWheel] = {}
    for name, (_, module) in _DEPENDENCIES.items():
        wheel = write_wheel(root / "wheels", name, module)
        data = wheel.read_bytes()
        wheels[name] = LockedWheel(
            name,
            "1.0",
            wheel.name,
            wheel.resolve().as_uri(),
            hashlib.sha256(data).hexdigest(),
            len(data),
        )
    project = ContractProject(root)
    shared, own = (_DEPENDENCIES[name][0] for name in ("sp-contract-shared", "sp-contract-own"))
    project.manifest.write_text(
        textwrap.dedent(f"""\
            [defaults]
            runtime = "{runtime}"
            architecture = "{architecture}"
            backend = "{backend}"

            [layers.common]
            requirements = ["{shared}"]

            [lambdas.api]
            handler = "{handler}"
            sources = ["app"]
            requirements = ["{own}"]
            layers = ["common"]
            """)
    )
    # Lock what the backend will ask for: each artifact's own requirements.
    lockfile = LockFile(project.lock)
    for artifact in load_backend(backend).artifacts(
        plan_functions(Manifest.load(project.manifest))
    ):
        locked = tuple(
            sorted(wheels[r.partition("==")[0]] for r in artifact.requirements if "==" in r)
        )
        lockfile.locks[artifact.key] = Lock(
            artifact.key,
            artifact.target.runtime,
            artifact.target.architecture,
            inputs_hash(artifact.requirements, artifact.target),
            locked,
        )
    lockfile.dirty = True
    lockfile.save()
    return project
