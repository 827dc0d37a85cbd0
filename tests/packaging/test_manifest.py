"""lambdas.toml: valid files load, bad ones fail with file:line:key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_pipeline.packaging.manifest import Manifest, ManifestError, SlimTable

GOOD = """\
[defaults]
runtime = "python3.12"
architecture = "arm64"
backend = "layer"
exclude = ["*.md"]

[layers.common]
requirements-file = "requirements/common.txt"

[lambdas.dashboard]
handler = "handlers.dashboard.lambda_handler"
sources = ["handlers"]
requirements = ["orjson>=3.10"]
layers = ["common"]
architecture = "x86_64"
build-image = "localhost/build:1"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "common.txt").write_text(
        "# shared\npydantic==2.12.4  # pinned\n\nsix\n"
    )
    (tmp_path / "lambdas.toml").write_text(GOOD)
    return tmp_path


def test_a_good_manifest_loads_with_defaults_and_overrides(project: Path) -> None:
    m = Manifest.load(project / "lambdas.toml")
    spec = m.lambdas["dashboard"]
    assert m.setting(spec, "runtime") == "python3.12"  # from [defaults]
    assert m.setting(spec, "architecture") == "x86_64"  # overridden
    assert m.setting(spec, "build_image") == "localhost/build:1"
    assert m.requirements_of(m.layers["common"]) == ("pydantic==2.12.4", "six")
    assert m.root == project


def problems_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "lambdas.toml").write_text(text)
    with pytest.raises(ManifestError) as info:
        Manifest.load(tmp_path / "lambdas.toml")
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[lambdas.a]\nhandler = "h.f"\ncolour = "red"\n',
            "lambdas.toml:3: lambdas.a.colour: unknown key; expected one of: architecture",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nrequirements = "six"\n',
            "lambdas.toml:3: lambdas.a.requirements: Input should be a valid tuple",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nruntime = "python4.0"\n',
            "lambdas.toml:3: lambdas.a.runtime: unknown runtime 'python4.0'; expected one of "
            "python3.9",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\n\n[defaults]\nruntime = "python3.8"\n',
            "lambdas.toml:5: defaults.runtime: python3.8 was retired by Lambda on 2024-10-14; "
            "use python3.9 or newer (python3.13 recommended)",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\narchitecture = "sparc"\n',
            "lambdas.toml:3: lambdas.a.architecture: expected one of 'x86_64' or 'arm64', "
            "got 'sparc'",
        ),
        (
            '[lambdas.a]\n\nhandler = "dashboard"\n',
            'lambdas.toml:3: lambdas.a.handler: expected "module.function"',
        ),
        (
            "[lambdas.a]\nsources = []\n",
            "lambdas.toml:1: lambdas.a.handler: required key is missing",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\narchitecture = "mips"\n',
            "lambdas.toml:3: lambdas.a.architecture: expected one of 'x86_64' or 'arm64', "
            "got 'mips'",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nsources = ["nope"]\n',
            "lambdas.toml:3: lambdas.a.sources: 'nope' does not exist",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nlayers = ["common"]\n',
            "lambdas.toml:3: lambdas.a.layers: undefined layer 'common' (defined: none); add a "
            "[layers.common] table",
        ),
        (
            '[layers.x]\n[lambdas.a]\nhandler = "h.f"\nlayers = ["x","x","x","x","x","x"]\n',
            "lambdas.toml:4: lambdas.a.layers: 6 layers listed; Lambda allows at most 5",
        ),
        ('[lambdas.a\nhandler = "h.f"\n', "lambdas.toml:1: invalid TOML"),
        (
            "[defaults]\nruntime = 'python3.13'\n",
            "lambdas.toml:1: lambdas: required key is missing",
        ),
        (
            "[lambdas.a]\nhandler = 3\n",
            "lambdas.toml:2: lambdas.a.handler: Input should be a valid string",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nrequirements = ["six", ""]\n',
            "lambdas.toml:3: lambdas.a.requirements.1: String should have at least 1 character",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nexclude = ["*.md", 3]\n',
            "lambdas.toml:3: lambdas.a.exclude.1: Input should be a valid string",
        ),
        (
            'colour = "red"\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:1: colour: unknown key; expected one of: defaults, lambdas, layers",
        ),
        (
            "lambdas = 3\n",
            "lambdas.toml:1: lambdas: Input should be a valid dictionary",
        ),
        (
            "[lambdas]\na = 1\n",
            "lambdas.toml:2: lambdas.a: Input should be a valid dictionary or instance of "
            "LambdaSpec",
        ),
        (
            '[defaults]\nbuild-image = 1\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:2: defaults.build-image: Input should be a valid string",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nslim = { strp = true }\n',
            "lambdas.toml:3: lambdas.a.slim: unknown key 'strp' in the slim table; expected: strip",
        ),
        (
            '[defaults]\nslim = "yes"\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:2: defaults.slim: expected true, false or { strip = true }, got 'yes'",
        ),
        (
            '[layers.l]\nslim = { strip = "yes" }\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:2: layers.l.slim: expected booleans in the slim table",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\ns3-upload = 1\n',
            "lambdas.toml:3: lambdas.a.s3-upload: expected true or false, got 1",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\ns3upload = true\n',
            "lambdas.toml:3: lambdas.a.s3upload: unknown key; expected one of: architecture, "
            "backend, base-image, build-image, exclude, handler, layers, requirements, "
            "requirements-file, runtime, s3-upload, slim, sources",
        ),
    ],
)
def test_bad_manifests_name_file_line_and_key(text: str, expected: str, tmp_path: Path) -> None:
    problems = problems_of(tmp_path, text)
    assert any(
        p.startswith(str(tmp_path / expected.split(":", 1)[0]) + ":" + expected.split(":", 1)[1])
        for p in problems
    ), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, '[lambdas.a]\nhandler = "x"\n[lambdas.b]\nhandler = "y"\n')
    assert len(problems) == 2


def test_requirements_files_take_requirements_only(project: Path) -> None:
    (project / "requirements" / "common.txt").write_text("-r other.txt\n")
    m = Manifest.load(project / "lambdas.toml")
    with pytest.raises(ManifestError, match=r"common.txt:1: options such as '-r'"):
        m.requirements_of(m.layers["common"])


def test_a_missing_manifest_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such manifest; create it or pass --manifest"):
        Manifest.load(tmp_path / "lambdas.toml")


def test_field_names_are_accepted_as_well_as_keys(tmp_path: Path) -> None:
    (tmp_path / "lambdas.toml").write_text(
        '[lambdas.a]\nhandler = "h.f"\nbuild_image = "localhost/b:1"\n'
    )
    m = Manifest.load(tmp_path / "lambdas.toml")
    assert m.setting(m.lambdas["a"], "build_image") == "localhost/b:1"
    assert m.setting(m.lambdas["a"], "runtime") == "python3.13"  # the default [defaults]
    assert m.setting(m.lambdas["a"], "exclude") == ()


def test_aarch64_and_amd64_in_a_manifest_are_arm64_and_x86_64() -> None:
    m = Manifest.parse(
        '[defaults]\narchitecture = "aarch64"\n[lambdas.a]\nhandler = "h.f"\n'
        '[lambdas.b]\nhandler = "h.f"\narchitecture = "amd64"\n',
        path=Path("lambdas.toml"),
        check_paths=False,
    )
    assert m.setting(m.lambdas["a"], "architecture") == "arm64"
    assert m.setting(m.lambdas["b"], "architecture") == "x86_64"


def test_runtimes_lists_those_of_the_chosen_lambdas_and_their_layers() -> None:
    m = Manifest.parse(
        '[layers.l]\nruntime = "python3.10"\n'
        '[lambdas.a]\nhandler = "h.f"\nlayers = ["l"]\n'
        '[lambdas.b]\nhandler = "h.f"\nruntime = "python3.11"\n',
        path=Path("lambdas.toml"),
        check_paths=False,
    )
    assert m.runtimes() == ("python3.13", "python3.11", "python3.10")
    assert m.runtimes(["a"]) == ("python3.13", "python3.10")


def test_slim_and_s3_upload_in_defaults_a_lambda_and_a_layer() -> None:
    m = Manifest.parse(
        "[defaults]\nslim = true\n"
        '[layers.l]\nslim = false\n[lambdas.a]\nhandler = "h.f"\n'
        '[lambdas.b]\nhandler = "h.f"\nslim = { strip = true }\ns3-upload = true\n',
        path=Path("lambdas.toml"),
        check_paths=False,
    )
    assert m.setting(m.lambdas["a"], "slim") is True
    assert m.setting(m.layers["l"], "slim") is False
    assert m.setting(m.lambdas["b"], "slim") == SlimTable(strip=True)
    assert m.setting(m.lambdas["b"], "s3_upload") is True
    assert m.setting(m.lambdas["a"], "s3_upload") is False  # the default
