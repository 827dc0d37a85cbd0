"""Configs, manifests, index resolution and the architecture check (pure JSON, no I/O)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.oci.image import (
    ImageError,
    UnexpectedIndexError,
    build_manifest,
    canonical_json,
    convert_media_type,
    derive_config,
    descriptor,
    parse_manifest,
    require_manifest,
)
from sentiment_pipeline.packaging.oci.mediatypes import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
)

CREATED = "2023-11-14T22:13:20Z"


def digest_of(n: int) -> str:
    return "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()


BASE_CONFIG: dict[str, Any] = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-01-01T00:00:00Z",
    "config": {
        "Entrypoint": ["/lambda-entrypoint.sh"],
        "Env": ["LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime"],
        "WorkingDir": "/var/task",
        "Cmd": ["base.handler"],
    },
    "rootfs": {"type": "layers", "diff_ids": [digest_of(1), digest_of(2)]},
    "history": [{"created_by": "base one"}, {"created_by": "base two"}],
}


def test_derive_config_keeps_the_base_runtime_and_adds_ours() -> None:
    before = json.dumps(BASE_CONFIG, sort_keys=True)
    config = derive_config(
        BASE_CONFIG,
        cmd="handlers.ingest.handler",
        diff_id=digest_of(3),
        created=CREATED,
        history_comment="sentiment-pipeline: ingest app layer",
    )
    assert json.dumps(BASE_CONFIG, sort_keys=True) == before  # the base is not mutated
    inner = config["config"]
    assert inner["Cmd"] == ["handlers.ingest.handler"]
    assert inner["Entrypoint"] == ["/lambda-entrypoint.sh"]
    assert inner["Env"] == BASE_CONFIG["config"]["Env"]
    assert inner["WorkingDir"] == "/var/task"
    assert config["rootfs"]["diff_ids"] == [digest_of(1), digest_of(2), digest_of(3)]
    assert config["history"][-1] == {
        "created": CREATED,
        "created_by": "sentiment-pipeline: ingest app layer",
        "comment": "sentiment-pipeline: ingest app layer",
    }
    assert len(config["history"]) == 3
    assert config["created"] == CREATED
    # same inputs, same bytes: the config digest is reproducible
    again = derive_config(
        BASE_CONFIG,
        cmd="handlers.ingest.handler",
        diff_id=digest_of(3),
        created=CREATED,
        history_comment="sentiment-pipeline: ingest app layer",
    )
    assert canonical_json(again) == canonical_json(config)


@pytest.mark.parametrize("cmd", ["", "handler", "app.handler extra", "app.\nhandler"])
def test_derive_config_refuses_a_handler_that_is_not_one_string(cmd: str) -> None:
    with pytest.raises(ImageError, match=r"module\.function"):
        derive_config(
            BASE_CONFIG, cmd=cmd, diff_id=digest_of(3), created=CREATED, history_comment=""
        )


def test_derive_config_accepts_a_scratch_config_without_config_object() -> None:
    scratch: dict[str, Any] = {"architecture": "amd64", "os": "linux", "config": None}
    scratch["rootfs"] = {"type": "layers", "diff_ids": []}
    config = derive_config(
        scratch, cmd="a.b", diff_id=digest_of(1), created=CREATED, history_comment="c"
    )
    assert config["config"] == {"Cmd": ["a.b"]}
    assert config["rootfs"]["diff_ids"] == [digest_of(1)]


def test_derive_config_refuses_a_non_image_config() -> None:
    with pytest.raises(ImageError, match=r"rootfs\.diff_ids"):
        derive_config({"config": {}}, cmd="a.b", diff_id="x", created=CREATED, history_comment="")


def test_canonical_json_is_sorted_and_compact() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": "é", "c": None}]}) == (
        '{"a":[1,{"c":null,"d":"é"}],"b":1}'.encode()
    )


def test_descriptor_hashes_data_or_takes_a_digest() -> None:
    d = descriptor(OCI_CONFIG, b"{}")
    assert d.digest == "sha256:" + hashlib.sha256(b"{}").hexdigest()
    assert d.size == 2
    assert descriptor(OCI_LAYER_GZIP, digest_of(1), 10).to_json() == {
        "mediaType": OCI_LAYER_GZIP,
        "digest": digest_of(1),
        "size": 10,
    }
    with pytest.raises(TypeError):
        descriptor(OCI_LAYER_GZIP, digest_of(1))


@pytest.mark.parametrize(
    ("family", "manifest_type", "config_type", "layer_type"),
    [
        ("docker", DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP),
        ("oci", OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP),
    ],
)
def test_build_manifest_uses_one_family_throughout(
    family: Any, manifest_type: str, config_type: str, layer_type: str
) -> None:
    config = canonical_json(BASE_CONFIG)
    layers = [
        descriptor(DOCKER_LAYER_GZIP, digest_of(1), 100),  # a Docker base layer...
        descriptor(OCI_LAYER_GZIP, digest_of(2), 200),  # ...and our OCI-typed app layer
    ]
    raw = build_manifest(config, layers, family)
    body = json.loads(raw)
    assert raw == canonical_json(body)
    assert body["schemaVersion"] == 2
    assert body["mediaType"] == manifest_type
    assert "manifests" not in body
    assert body["config"] == descriptor(config_type, config).to_json()
    assert [(lay["mediaType"], lay["digest"], lay["size"]) for lay in body["layers"]] == [
        (layer_type, digest_of(1), 100),
        (layer_type, digest_of(2), 200),
    ]
    parsed = require_manifest(parse_manifest(raw), "ours")
    assert parsed.media_type == manifest_type
    assert not parsed.is_index
    assert parsed.family == family
    assert parsed.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert [layer.digest for layer in parsed.layers] == [digest_of(1), digest_of(2)]


def test_a_layer_type_without_an_equivalent_is_refused() -> None:
    zstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    with pytest.raises(ImageError, match="no docker equivalent"):
        convert_media_type(zstd, "docker")
    assert convert_media_type(DOCKER_LAYER_GZIP, "oci") == OCI_LAYER_GZIP


def index_json(media_type: str | None, entries: list[dict[str, Any]]) -> bytes:
    body: dict[str, Any] = {"schemaVersion": 2, "manifests": entries}
    if media_type:
        body["mediaType"] = media_type
    return json.dumps(body).encode()


ENTRIES = [
    {
        "mediaType": OCI_MANIFEST,
        "digest": digest_of(10),
        "size": 1,
        "platform": {"architecture": "amd64", "os": "linux"},
    },
    {
        "mediaType": OCI_MANIFEST,
        "digest": digest_of(11),
        "size": 1,
        "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
    },
    {  # a buildx provenance attestation
        "mediaType": OCI_MANIFEST,
        "digest": digest_of(12),
        "size": 1,
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
    },
]


@pytest.mark.parametrize(
    ("media_type", "content_type"),
    [
        (OCI_INDEX, None),
        (DOCKER_MANIFEST_LIST, None),
        (None, OCI_INDEX),
        (None, f"{DOCKER_MANIFEST_LIST}; charset=utf-8"),
        (None, "application/json"),  # no type anywhere: told apart by its shape
    ],
)
def test_an_index_is_told_apart(media_type: str | None, content_type: str | None) -> None:
    index = parse_manifest(index_json(media_type, ENTRIES), content_type)
    assert index.is_index
    assert index.config is None
    assert [m.digest for m in index.manifests] == [digest_of(10), digest_of(11), digest_of(12)]
    with pytest.raises(UnexpectedIndexError, match="single-platform manifest is required") as err:
        require_manifest(index, "registry.example/app:1")
    assert isinstance(err.value, PipelineError)
    assert err.value.reference == "registry.example/app:1"


def test_parse_manifest_refuses_what_it_cannot_use() -> None:
    with pytest.raises(ImageError, match="schemaVersion 1"):
        parse_manifest(b'{"schemaVersion": 1, "fsLayers": []}')
    with pytest.raises(ImageError, match="contradicts"):
        parse_manifest(index_json(OCI_INDEX, ENTRIES), OCI_MANIFEST)
    with pytest.raises(ImageError, match="not JSON"):
        parse_manifest(b"<html>")
    bad = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": "md5:x"}}
    with pytest.raises(ImageError, match="layers"):
        parse_manifest(json.dumps(bad).encode())
    bad["layers"] = []
    with pytest.raises(ImageError, match="without 'mediaType'"):
        parse_manifest(json.dumps(bad).encode())
