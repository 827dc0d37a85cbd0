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
            'lambdas.toml:3: lambdas.a.requirements: expected a list, e.g. requirements = ["six"]; '
            "got 'six'",
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
            "lambdas.toml:2: lambdas.a.handler: expected a string, got 3",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nrequirements = ["six", ""]\n',
            "lambdas.toml:3: lambdas.a.requirements[1]: empty string; remove it or give a value",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nexclude = ["*.md", 3]\n',
            "lambdas.toml:3: lambdas.a.exclude[1]: expected a string, got 3",
        ),
        (
            'colour = "red"\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:1: colour: unknown key; expected one of: defaults, lambdas, layers",
        ),
        (
            "lambdas = 3\n",
            "lambdas.toml:1: lambdas: expected a table [lambdas.NAME], got 3",
        ),
        (
            "[lambdas]\na = 1\n",
            "lambdas.toml:2: lambdas.a: expected a table [lambdas.a], got 1",
        ),
        (
            '[defaults]\nbuild-image = 1\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:2: defaults.build-image: expected a string, got 1",
        ),
        # issue 13: every manifest conflict as FILE:LINE: key: problem
        (
            '[defaults]\nruntime = "python3.13"\n\n[lambda.api]\nhandler = "h.f"\n',
            "lambdas.toml:4: lambda: unknown key; expected one of: defaults, lambdas, layers",
        ),
        (
            '[defaults]\nruntime = "python3.13"\n[lambdas.a]\nsources = []\n',
            "lambdas.toml:3: lambdas.a.handler: required key is missing",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nsources = []\nhandler = "h.g"\n',
            "lambdas.toml:4: lambdas.a.handler: set twice (first on line 2); keep one",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\n\n[lambdas.a]\nhandler = "h.g"\n',
            "lambdas.toml:4: lambdas.a: declared twice; keep one [lambdas.a] table",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nsources = "app"\n',
            'lambdas.toml:3: lambdas.a.sources: expected a list, e.g. sources = ["app"]; '
            "got 'app'",
        ),
        (
            '[[layers.x]]\nrequirements = []\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:1: layers.x: expected a table [layers.x], got an array of tables",
        ),
        (
            '[layers.x]\ncolour = 1\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:2: layers.x.colour: unknown key; expected one of: architecture, "
            "build-image, exclude, extras, groups, project, requirements, requirements-file, "
            "runtime, s3-upload, slim, sources",
        ),
        (
            '[layers.x]\nsources = ["nope"]\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:2: layers.x.sources: 'nope' does not exist",
        ),
        (
            '[layers.x]\n[lambdas.a]\nhandler = "h.f"\nlayers = ["x", "x"]\n',
            "lambdas.toml:4: lambdas.a.layers: layer 'x' listed twice",
        ),
        (
            '[layers.x]\nruntime = "python3.12"\n\n[lambdas.a]\nhandler = "h.f"\n'
            'runtime = "python3.13"\nlayers = ["x"]\n',
            "lambdas.toml:7: lambdas.a.layers: layer 'x' sets runtime = 'python3.12' (line 2) "
            "but lambdas.a runs on 'python3.13'; remove the layer's runtime",
        ),
        (
            '[layers.x]\narchitecture = "arm64"\n[lambdas.a]\nhandler = "h.f"\nlayers = ["x"]\n',
            "lambdas.toml:5: lambdas.a.layers: layer 'x' sets architecture = 'arm64' (line 2) "
            "but lambdas.a runs on 'x86_64'",
        ),
        (
            '[layers.x]\nbuild-image = "b:1"\n[lambdas.a]\nhandler = "h.f"\nlayers = ["x"]\n'
            '[lambdas.b]\nhandler = "h.f"\nlayers = ["x"]\narchitecture = "arm64"\n',
            "lambdas.toml:2: layers.x.build-image: one build image for a layer built for several "
            "targets (python3.13/x86_64, python3.13/arm64)",
        ),
        (
            '[layers.x]\nrequirements = []\nbackend = "layer"\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:3: layers.x.backend: not a layer setting (the backend of each Lambda "
            "that lists it builds it); set it on the Lambdas or in [defaults]",
        ),
        (
            '[layers.x]\nbase-image = "b:1"\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:2: layers.x.base-image: not a layer setting",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nsources = ["app", ""]\n',
            "lambdas.toml:3: lambdas.a.sources[1]: empty string; remove it or give a value",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\n\nrequirements-file = "app"\n',
            "lambdas.toml:4: lambdas.a.requirements-file: 'app' is not a file",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nsources = ["a/util.py", "b/util.py"]\n',
            "lambdas.toml:3: lambdas.a.sources: 'a/util.py' and 'b/util.py' both land on 'util.py'",
        ),
        (
            '[layers.x]\nsources = ["libs/shared"]\n[lambdas.a]\nhandler = "h.f"\n'
            'sources = ["shared"]\nlayers = ["x"]\n',
            "lambdas.toml:5: lambdas.a.sources: 'shared' is also in layers.x.sources (line 2)",
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
            "backend, base-image, build-image, deploy, exclude, extras, function-url, groups, "
            "handler, layers, "
            "project, requirements, requirements-file, runtime, s3-upload, slim, sources",
        ),
    ],
)
def test_bad_manifests_name_file_line_and_key(text: str, expected: str, tmp_path: Path) -> None:
    for folder in ("a", "b", "app", "shared", "libs/shared"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / "a" / "util.py").write_text("")
    (tmp_path / "b" / "util.py").write_text("")
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
        '[layers.l]\nruntime = "python3.10"\n[layers.free]\n'
        '[lambdas.a]\nhandler = "h.f"\nlayers = ["l", "free"]\nruntime = "python3.10"\n'
        '[lambdas.b]\nhandler = "h.f"\nruntime = "python3.11"\nlayers = ["free"]\n'
        '[lambdas.c]\nhandler = "h.f"\n',
        path=Path("lambdas.toml"),
        check_paths=False,
    )
    assert m.runtimes() == ("python3.10", "python3.11", "python3.13")
    assert m.runtimes(["b"]) == ("python3.11",)


def test_a_layer_without_a_target_of_its_own_is_built_for_each_lambdas() -> None:
    m = Manifest.parse(
        '[layers.shared]\nsources = ["libs/shared"]\n'
        '[layers.pinned]\narchitecture = "arm64"\n'
        '[lambdas.api]\nhandler = "h.f"\nlayers = ["shared"]\nruntime = "python3.11"\n'
        '[lambdas.data]\nhandler = "h.f"\nlayers = ["shared", "pinned"]\n'
        'runtime = "python3.12"\narchitecture = "arm64"\n'
        '[lambdas.again]\nhandler = "h.f"\nlayers = ["shared"]\nruntime = "python3.11"\n',
        path=Path("lambdas.toml"),
        check_paths=False,
    )
    assert m.layers["shared"].sources == ("libs/shared",)
    assert m.layer_targets("shared") == (("python3.11", "x86_64"), ("python3.12", "arm64"))
    assert m.layer_targets("pinned") == (("python3.12", "arm64"),)


PROJECT_PYPROJECT = """\
[project]
name = "svc"
version = "1"
dependencies = ["six==1.17.0"]
[project.optional-dependencies]
fast = ["attrs==25.3.0"]
[dependency-groups]
prod = ["idna==3.10"]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[lambdas.a]\nhandler = "h.f"\nproject = "nope/pyproject.toml"\n',
            "lambdas.toml:3: lambdas.a.project: {root}/nope/pyproject.toml does not exist; "
            "point project at a pyproject.toml",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nproject = "bare.toml"\n',
            "lambdas.toml:3: lambdas.a.project: {root}/bare.toml has no [project] table",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nproject = "svc/pyproject.toml"\n\nextras = ["gpu"]\n',
            "lambdas.toml:5: lambdas.a.extras: unknown extra 'gpu' of {root}/svc/pyproject.toml "
            "(defined in [project.optional-dependencies]: fast)",
        ),
        (
            '[layers.l]\nproject = "svc/pyproject.toml"\ngroups = ["prod", "docs"]\n'
            '[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:3: layers.l.groups: unknown group 'docs' of {root}/svc/pyproject.toml "
            "(defined in [dependency-groups]: prod)",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nextras = ["fast"]\n',
            'lambdas.toml:3: lambdas.a.extras: needs project = "path/to/pyproject.toml"',
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nrequirements = ["mylib @ file:../libs/mylib"]\n',
            "lambdas.toml:3: lambdas.a.requirements: 'mylib @ file:../libs/mylib': "
            "{parent}/libs/mylib does not exist; fix the path (it is relative to {root})",
        ),
    ],
)
def test_project_problems_name_file_line_and_key(text: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "pyproject.toml").write_text(PROJECT_PYPROJECT)
    (tmp_path / "bare.toml").write_text("[tool.x]\n")
    problems = problems_of(tmp_path, text)
    wanted = f"{tmp_path}/" + expected.format(root=tmp_path, parent=tmp_path.parent)
    assert any(p.startswith(wanted) for p in problems), problems


def test_a_project_gives_its_requirements_and_a_requirements_file_its_paths_rebased(
    tmp_path: Path,
) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "pyproject.toml").write_text(PROJECT_PYPROJECT)
    (tmp_path / "libs" / "mylib").mkdir(parents=True)
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "a.txt").write_text("mylib @ file:../libs/mylib\n")
    text = (
        '[lambdas.a]\nhandler = "h.f"\nrequirements = ["six==1.17.0"]\n'
        'requirements-file = "requirements/a.txt"\n'
        'project = "svc/pyproject.toml"\nextras = ["fast"]\ngroups = ["prod"]\n'
    )
    manifest = Manifest.parse(text, path=tmp_path / "lambdas.toml")
    assert manifest.requirements_of(manifest.lambdas["a"]) == (
        "six==1.17.0",
        "mylib @ file:libs/mylib",
        "attrs==25.3.0",
        "idna==3.10",
    )
    (tmp_path / "requirements" / "a.txt").write_text("# shared\nother @ file:../libs/other\n")
    with pytest.raises(ManifestError, match=r"requirements/a\.txt:2: 'other @ file:"):
        manifest.requirements_of(manifest.lambdas["a"])


def test_a_project_for_another_python_names_the_lambda_line(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "pyproject.toml").write_text(
        PROJECT_PYPROJECT.replace('version = "1"', 'version = "1"\nrequires-python = ">=3.12"')
    )
    text = '[lambdas.a]\nhandler = "h.f"\nruntime = "python3.11"\nproject = "svc/pyproject.toml"\n'
    manifest = Manifest.parse(text, path=tmp_path / "lambdas.toml")
    with pytest.raises(ManifestError) as caught:
        manifest.requirements_of(manifest.lambdas["a"])
    (problem,) = caught.value.problems
    assert problem.startswith(f"{tmp_path}/lambdas.toml:4: lambdas.a.project: ")
    assert "requires Python >=3.12, but this runs python3.11" in problem


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


DEPLOY = """\
[defaults.deploy]
name-prefix = "prod-"
role = "arn:aws:iam::123456789012:role/lambda"
memory = 256
environment = { STAGE = "prod", LOG_LEVEL = "INFO" }

[lambdas.api]
handler = "h.f"
function-url = { auth = "AWS_IAM", cors = { allow-origins = ["https://x.example"], max-age = 60 } }

[lambdas.api.deploy]
timeout = 20
environment = { LOG_LEVEL = "DEBUG" }
smoke-event = "events/health.json"
alias = "prod"

[lambdas.worker]
handler = "h.g"

[lambdas.worker.deploy]
function-name = "the-worker"
"""


def test_deploy_tables_merge_over_the_defaults() -> None:
    m = Manifest.parse(DEPLOY, path=Path("/p/lambdas.toml"), check_paths=False)
    api = m.deploy_settings("api")
    assert api.function_name == "prod-api"
    assert api.role == "arn:aws:iam::123456789012:role/lambda"
    assert (api.memory, api.timeout, api.alias) == (256, 20, "prod")
    assert api.environment == {"STAGE": "prod", "LOG_LEVEL": "DEBUG"}
    assert api.smoke_event == Path("/p/events/health.json")
    assert api.function_url is not None and api.function_url.auth == "AWS_IAM"
    assert api.function_url.cors is not None
    assert api.function_url.cors.allow_origins == ("https://x.example",)
    assert api.function_url.cors.max_age == 60
    worker = m.deploy_settings("worker")
    assert worker.function_name == "the-worker"  # a name of its own takes no prefix
    assert (worker.function_url, worker.smoke_event, worker.alias) == (None, None, "live")
    assert worker.environment == {"STAGE": "prod", "LOG_LEVEL": "INFO"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[lambdas.a]\nhandler = "h.f"\n[lambdas.a.deploy]\nmemry = 512\n',
            "lambdas.toml:4: lambdas.a.deploy.memry: unknown key; expected one of: alias, "
            "environment, function-name, function-url, memory, name-prefix, role, smoke-event, "
            "timeout",
        ),
        (
            '[defaults.deploy]\ntimeout = 901\n[lambdas.a]\nhandler = "h.f"\n',
            "lambdas.toml:2: defaults.deploy.timeout: ",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\n[lambdas.a.deploy]\nrole = "lambda-role"\n',
            "lambdas.toml:4: lambdas.a.deploy.role: expected an IAM role ARN",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\n[lambdas.a.deploy]\n'
            'environment = { AWS_REGION = "x" }\n',
            "lambdas.toml:4: lambdas.a.deploy.environment: 'AWS_REGION' is reserved by Lambda",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nfunction-url = { cors = { origins = ["*"] } }\n',
            "lambdas.toml:3: lambdas.a.function-url.cors.origins: unknown key; expected one "
            "of: allow-credentials, allow-headers",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nfunction-url = "yes"\n',
            "lambdas.toml:3: lambdas.a.function-url: expected true, false or {",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\nfunction-url = true\n'
            '[lambdas.a.deploy]\nfunction-url = { auth = "NONE" }\n',
            "lambdas.toml:3: lambdas.a.function-url: also set in the deploy table; keep one",
        ),
        (
            '[lambdas.a]\nhandler = "h.f"\n[lambdas.a.deploy]\nalias = "7"\n',
            "lambdas.toml:4: lambdas.a.deploy.alias: '7' is a version number",
        ),
    ],
)
def test_bad_deploy_tables_name_file_line_and_key(text: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        Manifest.parse(text, path=tmp_path / "lambdas.toml", check_paths=False)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{tmp_path}/{expected}"), problem
