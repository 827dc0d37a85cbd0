"""A deploy, start to end: refuse what cannot be deployed, read what Lambda has, plan,
then upload only what changed, smoke-test each new version, move its alias only when
it passed, and write the record."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.deployment.artifacts import deployables
from sentiment_pipeline.deployment.aws import LambdaApi
from sentiment_pipeline.deployment.errors import RefusedError
from sentiment_pipeline.deployment.options import DeployOptions
from sentiment_pipeline.deployment.plan import plan_function, plan_layer
from sentiment_pipeline.deployment.record import DeployRecord, FunctionRecord, LayerRecord
from sentiment_pipeline.deployment.smoke import SmokeResult, smoke_aws, smoke_event, smoke_local
from sentiment_pipeline.deployment.state import image_digest

if TYPE_CHECKING:
    from sentiment_pipeline.deployment.artifacts import Deployable
    from sentiment_pipeline.deployment.plan import FunctionStep, LayerStep
    from sentiment_pipeline.deployment.state import FunctionState
    from sentiment_pipeline.packaging.manifest import Manifest

__all__ = ["RECORD_NAME", "deploy"]

RECORD_NAME = "deploy.json"
"""The record's name in the build's output folder (``dist/deploy.json``)."""


def deploy(manifest: Manifest | str | Path, options: DeployOptions | None = None) -> DeployRecord:
    """Deploy the verified artifacts of the last build of ``manifest`` (a
    :class:`~sentiment_pipeline.packaging.manifest.Manifest` or its path) to Lambda.

    ``options`` (:class:`~sentiment_pipeline.deployment.options.DeployOptions`; None: the
    CLI's defaults) selects the Lambdas, the region or endpoint, the smoke test and
    whether this is a dry run. Artifacts that are missing, unverified or changed since
    their build are refused before anything is uploaded
    (:class:`~sentiment_pipeline.deployment.errors.RefusedError`). Layers, code and
    settings are uploaded only when they differ from what Lambda has; a new version is
    smoke-tested and its alias moved only when it passed; the Function URL (with its
    CORS) points at the alias. A failed smoke is not an exception: the record's
    function has ``ok`` false and the alias stays where it was. A failed AWS call
    raises :class:`~sentiment_pipeline.deployment.errors.AwsCallError`. The record is
    written to ``<out>/deploy.json`` (not for a dry run).

    >>> from sentiment_pipeline import DeployOptions, deploy
    >>> record = deploy("lambdas.toml", DeployOptions(region="eu-west-1"))  # doctest: +SKIP
    >>> record.ok, [f.version for f in record.functions]  # doctest: +SKIP
    (True, ['3', '3', '1'])
    """
    from sentiment_pipeline.packaging.manifest import Manifest

    options = options if options is not None else DeployOptions()
    if not isinstance(manifest, Manifest):
        manifest = Manifest.load(manifest)
    items = deployables(manifest, options)
    if options.alias:
        items = [
            attrs.evolve(i, settings=attrs.evolve(i.settings, alias=options.alias)) for i in items
        ]
    events = {i.name: smoke_event(i) for i in items} if options.smoke != "none" else {}
    if options.smoke == "local" and not options.dry_run:
        _check_interpreters(items)
    api = LambdaApi(region=options.region, endpoint_url=options.endpoint_url)
    progress = options.progress

    layer_steps: dict[str, LayerStep] = {}
    for item in items:
        for layer in item.layers:
            if layer.name not in layer_steps:
                progress(f"layer {layer.name}: reading its latest version")
                layer_steps[layer.name] = plan_layer(layer, api.layer_state(layer.name))
    states: dict[str, FunctionState] = {}
    for item in items:
        progress(f"{item.name}: reading {item.settings.function_name}")
        states[item.name] = api.function_state(item.settings.function_name, item.settings.alias)
    _check_creatable(items, states, str(api.region))
    arns = {name: step.arn for name, step in layer_steps.items()}
    steps = [plan_function(item, states[item.name], arns) for item in items]
    plan = [step.describe() for step in layer_steps.values()]
    plan += [line for step in steps for line in step.describe()]
    if options.dry_run:
        return DeployRecord(region=str(api.region), dry_run=True, plan=tuple(plan))

    layer_records = []
    for name, layer_step in layer_steps.items():
        current = layer_step.current
        arn, version, sha = current.arn, current.version, current.code_sha256
        if layer_step.publish:
            progress(f"layer {name}: publishing")
            published = api.publish_layer(layer_step.layer)
            arn, version, sha = published.arn, published.version, published.code_sha256
        assert arn is not None
        arns[name] = arn
        code = sha or layer_step.layer.artifact.code_sha256
        layer_records.append(LayerRecord(name, arn, version, code, layer_step.publish))
    records = []
    with tempfile.TemporaryDirectory(prefix="sp-smoke-") as scratch:
        for item in items:
            # With the ARNs of the layers published now (the plan could only predict them).
            step = plan_function(item, states[item.name], arns)
            records.append(_apply(api, step, events.get(item.name, b"{}"), options, Path(scratch)))
    record = DeployRecord(
        region=str(api.region),
        layers=tuple(layer_records),
        functions=tuple(records),
        plan=tuple(plan),
    )
    return record.write(options.out / RECORD_NAME)


def _check_interpreters(items: list[Deployable]) -> None:
    """``--smoke local`` needs an interpreter of each target here: refuse before uploading."""
    from sentiment_pipeline.packaging.verify.interpreters import find_interpreter

    missing = [
        f"{i.name}: --smoke local needs a python{i.target.python} interpreter for "
        f"{i.target.architecture} on this machine; install one (uv python install "
        f"{i.target.python}) or use --smoke aws"
        for i in items
        if find_interpreter(i.target, None) is None
    ]
    if missing:
        raise RefusedError(missing)


def _check_creatable(
    items: list[Deployable], states: dict[str, FunctionState], region: str
) -> None:
    """A function that does not exist needs a role; one of the other package type cannot
    be updated in place. Refused before anything is uploaded."""
    problems = []
    for item in items:
        latest = states[item.name].latest
        name = item.settings.function_name
        if latest is None and item.settings.role is None:
            problems.append(
                f"{item.name}: function {name} does not exist in {region} (is --region "
                "right?), and creating it needs its "
                f'execution role: set role = "arn:aws:iam::ACCOUNT:role/NAME" in '
                f"[lambdas.{item.name}.deploy] (or [defaults.deploy])"
            )
        wanted = "Image" if item.function.is_image else "Zip"
        if latest is not None and latest.package_type != wanted:
            problems.append(
                f"{item.name}: function {name} is a {latest.package_type} function and the "
                f"artifact is a {wanted.lower()}; Lambda cannot change a function's package "
                "type: deploy it under another function-name, or delete the function"
            )
    if problems:
        raise RefusedError(problems)


def _apply(
    api: LambdaApi, step: FunctionStep, event: bytes, options: DeployOptions, scratch: Path
) -> FunctionRecord:
    """Carry out one function's step; a failed smoke leaves the alias where it was."""
    item, current, progress = step.item, step.current, options.progress
    settings, artifact = item.settings, item.function
    name, alias = settings.function_name, settings.alias
    changes: list[str] = []
    if step.create:
        progress(f"{item.name}: creating {name}")
        assert settings.role is not None
        api.create_function(name, artifact, step.desired, settings.role)
        changes.append("created")
    else:
        if step.code:
            progress(f"{item.name}: uploading code")
            api.update_code(name, artifact, step.desired.architecture)
            changes.append("code uploaded")
        if step.changes:
            progress(f"{item.name}: updating configuration")
            api.update_configuration(name, step.desired)
            changes.append("configuration: " + "; ".join(step.changes))
    at = current.alias_version.version if current.alias_version else None
    published = None
    smoke = None
    if step.release:
        progress(f"{item.name}: publishing a version")
        published = api.publish_version(name, None if artifact.is_image else artifact.code_sha256)
        changes.append(f"published version {published}")
        if options.smoke == "none":
            smoke = SmokeResult("none", None)
        elif options.smoke == "aws":
            progress(f"{item.name}: invoking version {published}")
            smoke = smoke_aws(api, item, published, event)
        else:
            progress(f"{item.name}: running the artifact locally")
            smoke = smoke_local(item, event, scratch / item.name)
        if smoke.passed is not False and published != at:
            api.point_alias(name, alias, published, exists=at is not None)
            changes.append(f"alias {alias} {at or '(new)'} -> {published}")
            at = published
    url = current.url.url if current.url else None
    wanted = settings.function_url
    if wanted is not None and at is not None:
        if step.url is not None:
            progress(f"{item.name}: {step.url} the Function URL")
            url = api.configure_url(name, alias, wanted, create=step.url == "create")
            changes.append(f"url {step.url}d ({', '.join(step.url_changes)})")
        if step.public is not None:
            api.set_public(name, alias, public=step.public)
            changes.append("public access " + ("granted" if step.public else "revoked"))
    return FunctionRecord(
        name=item.name,
        function_name=name,
        alias=alias,
        version=at,
        published=published,
        code_sha256=artifact.code_sha256,
        image_digest=image_digest(artifact.image),
        url=url,
        changes=tuple(changes),
        smoke=smoke,
    )
