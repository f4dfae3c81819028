"""docker-compose.yml, the Dockerfile, deploy/livekit.yaml and .env.example, checked against the compose
schema and against the code they drive (commands, settings, ports, health URLs)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.support.livekit_server import DEFAULT_BINARY, ROOT
from worker.cli import build_parser
from worker.settings import Settings

HERE = Path(__file__).parent
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"
OUR_SERVICES = ("worker", "web", "simulator")
# Variables livekit-server reads (`livekit-server --help`), and the image's own.
LIVEKIT_VARS = {"LIVEKIT_KEYS", "LIVEKIT_CONFIG", "NODE_IP", "UDP_PORT", "REDIS_HOST", "REDIS_PASSWORD"}
COMPOSE_ONLY_VARS = {"ROLECALL_WEB_PUBLISH_PORT", "ROLECALL_PROMETHEUS_PUBLISH_PORT"}
# Who may start sessions and how many: the web backend's alone.
WEB_ADMISSION = {
    "ROLECALL_WEB_AUTH",
    "ROLECALL_WEB_ALLOW_ANONYMOUS",
    "ROLECALL_WEB_API_KEYS",
    "ROLECALL_WEB_JWT_SECRET",
    "ROLECALL_WEB_JWT_JWKS_URL",
    "ROLECALL_WEB_JWT_ISSUER",
    "ROLECALL_WEB_JWT_AUDIENCE",
    "ROLECALL_WEB_SESSIONS_PER_MINUTE",
    "ROLECALL_WEB_SESSION_BURST",
    "ROLECALL_WEB_MAX_SESSIONS",
    "ROLECALL_WEB_REDISPATCH_INTERVAL_S",
    "ROLECALL_TRUSTED_PROXIES",
}
# The web backend's metrics listener.
WEB_METRICS = {"ROLECALL_WEB_METRICS_PORT", "ROLECALL_WEB_METRICS_HOST"}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def services() -> dict[str, Any]:
    result: dict[str, Any] = compose()["services"]
    return result


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def schema_validator() -> Draft202012Validator:
    raw = (HERE / "compose-spec.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "compose-spec.json differs from the vendored one"
    return Draft202012Validator(json.loads(raw))


def interpolated(text: str) -> set[str]:
    """Names used as ${NAME}, ${NAME:-default} or ${NAME:?message}."""
    return set(re.findall(r"\$\{([A-Z0-9_]+)", text))


def env_example_names() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if m:
            names.add(m.group(1))
    return names


def entrypoint() -> list[str]:
    m = re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile(), re.M)
    assert m, "the Dockerfile has no exec-form ENTRYPOINT"
    argv: list[str] = json.loads(m.group(1))
    return argv


# --- the compose file itself ----------------------------------------------------------------------


@pytest.mark.unit
def test_compose_file_matches_the_compose_spec_schema() -> None:
    errors = sorted(schema_validator().iter_errors(compose()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.unit
def test_the_schema_catches_mistakes() -> None:
    broken = compose()
    broken["services"]["worker"]["stop_grace_priod"] = "10s"
    broken["services"]["web"]["depends_on"] = 5
    assert len(list(schema_validator().iter_errors(broken))) >= 2


@pytest.mark.unit
def test_services_and_images_are_pinned() -> None:
    s = services()
    assert set(s) == {"livekit", "redis", "worker", "web", "simulator", "prometheus"}
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", s["prometheus"]["image"])
    assert s["prometheus"]["profiles"] == ["observability"]
    assert s["livekit"]["image"] == "livekit/livekit-server:v1.13.5"
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+(-alpine)?", s["redis"]["image"])
    assert s["simulator"]["profiles"] == ["simulator"]
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile(), re.M))
    for name in OUR_SERVICES:
        assert s[name]["build"]["target"] in targets


@pytest.mark.unit
@pytest.mark.parametrize("service", OUR_SERVICES)
def test_service_commands_are_real_cli_commands(service: str) -> None:
    argv = entrypoint() + services()[service]["command"]
    assert argv[:3] == ["python", "-m", "worker"]
    args = build_parser(only=argv[3]).parse_args(argv[3:])  # argparse exits on anything it does not accept
    assert callable(args.func)


@pytest.mark.unit
def test_dockerfile_default_commands_are_real_cli_commands() -> None:
    for cmd in re.findall(r"^CMD (\[.*\])$", dockerfile(), re.M):
        argv: list[str] = json.loads(cmd)
        assert callable(build_parser(only=argv[0]).parse_args(argv).func)


@pytest.mark.unit
@pytest.mark.parametrize("service", ("worker", "web"))
def test_every_variable_passed_is_a_documented_setting(service: str) -> None:
    settings = set(Settings.env_names().values())
    passed = set(services()[service]["environment"])
    assert passed - settings == set()
    # The settings a service needs to start are all there.
    assert {"LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "ROLECALL_AGENT_NAME"} <= passed


@pytest.mark.unit
def test_worker_passes_every_worker_setting() -> None:
    web_only = {
        "ROLECALL_WEB_HOST",
        "ROLECALL_WEB_PORT",
        "ROLECALL_PUBLIC_LIVEKIT_URL",
        "ROLECALL_TOKEN_TTL_S",
    }
    web_only.add("ROLECALL_WEB_STATIC_DIR")
    web_only |= WEB_ADMISSION | WEB_METRICS
    expected = set(Settings.env_names().values()) - web_only
    assert expected - set(services()["worker"]["environment"]) == set()


@pytest.mark.unit
def test_livekit_gets_only_variables_it_reads() -> None:
    assert set(services()["livekit"]["environment"]) <= LIVEKIT_VARS


@pytest.mark.unit
def test_env_example_lists_every_setting_and_every_compose_variable() -> None:
    listed = env_example_names()
    assert set(Settings.env_names().values()) - listed == set()
    assert interpolated((ROOT / "docker-compose.yml").read_text()) - listed == set()
    known = set(Settings.env_names().values()) | COMPOSE_ONLY_VARS
    assert listed - known == set(), "a variable in .env.example that nothing reads"


@pytest.mark.unit
def test_worker_drains_within_the_stop_grace_period() -> None:
    worker = services()["worker"]
    drain_s = int(worker["environment"]["ROLECALL_DRAIN_TIMEOUT_S"])
    grace = re.fullmatch(r"(\d+)s", worker["stop_grace_period"])
    assert grace, worker["stop_grace_period"]
    assert drain_s + 10 <= int(grace.group(1)), "Docker would SIGKILL the worker before its drain ends"
    assert worker["init"] is True  # SIGTERM reaches the worker, job processes are reaped
    assert worker["deploy"]["replicas"] >= 2


@pytest.mark.unit
def test_roles_are_mounted_read_only() -> None:
    for name in ("worker", "web"):
        svc = services()[name]
        assert "./roles:/app/roles:ro" in svc["volumes"]
        assert svc["environment"]["ROLECALL_ROLES_DIR"] == "/app/roles"


@pytest.mark.unit
def test_healthchecks_poll_the_ports_the_services_listen_on() -> None:
    s = services()
    worker_check = " ".join(s["worker"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{s['worker']['environment']['ROLECALL_HEALTH_PORT']}/'" in worker_check
    web_check = " ".join(s["web"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{s['web']['environment']['ROLECALL_WEB_PORT']}/api/health'" in web_check
    assert s["web"]["environment"]["ROLECALL_WEB_HOST"] == "0.0.0.0"  # inside the container
    assert s["web"]["ports"] == ["127.0.0.1:${ROLECALL_WEB_PUBLISH_PORT:-8080}:8080"]
    sim_cmd = s["simulator"]["command"]
    assert sim_cmd[sim_cmd.index("--port") + 1] == "8765" and "8765" in " ".join(
        s["simulator"]["healthcheck"]["test"]
    )


@pytest.mark.unit
def test_the_web_port_is_published_on_loopback_only_and_auth_is_explicit() -> None:
    """Docker publishes `HOST:CONTAINER` on every host interface (past host firewalls such as ufw):
    an anonymous session API must only be reachable from this machine, e.g. by a TLS proxy."""
    web = services()["web"]
    for mapping in web["ports"]:
        assert isinstance(mapping, str) and mapping.startswith("127.0.0.1:"), mapping
    env = web["environment"]
    assert set(env) >= WEB_ADMISSION
    assert _default(env["ROLECALL_WEB_AUTH"], "ROLECALL_WEB_AUTH") == "none"
    # The one thing that lets `none` bind 0.0.0.0 inside the container is the loopback publish above.
    assert env["ROLECALL_WEB_ALLOW_ANONYMOUS"] == "true"
    from worker.web.config import problems

    settings = Settings(
        livekit_url="ws://x",
        livekit_api_key="k",
        livekit_api_secret="s",
        web_allow_anonymous=env["ROLECALL_WEB_ALLOW_ANONYMOUS"] == "true",
    )
    assert problems(settings, env["ROLECALL_WEB_HOST"]) == []
    assert problems(Settings(livekit_url="ws://x"), env["ROLECALL_WEB_HOST"])  # without it: refused
    # The global cap counts a session as pending for as long as the worker waits for its user.
    worker_wait = services()["worker"]["environment"]["ROLECALL_PARTICIPANT_TIMEOUT_S"]
    assert env["ROLECALL_PARTICIPANT_TIMEOUT_S"] == worker_wait


@pytest.mark.unit
def test_web_backend_serves_the_healthcheck_path() -> None:
    from worker.web.app import create_app

    app = create_app(Settings(livekit_url="ws://x", livekit_api_key="k", livekit_api_secret="s"))
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert "/api/health" in paths


# --- the Dockerfile and its context ---------------------------------------------------------------


@pytest.mark.unit
def test_base_images_are_pinned_by_version() -> None:
    text = dockerfile()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    external = [args[f[2:-1]] if f.startswith("${") else f for f in froms if f not in ("base",)]
    assert len(external) == 2, froms
    for image in external:
        assert re.search(r":\d+\.\d+\.\d+-", image), f"{image} is not pinned to an exact version"
        assert "latest" not in image


@pytest.mark.unit
def test_image_runs_as_a_non_root_user_with_pinned_packages() -> None:
    text = dockerfile()
    assert "pip install --quiet -c constraints.txt ." in text
    assert "npm ci" in text and "npm run build" in text
    scripts = json.loads((ROOT / "frontend" / "package.json").read_text())["scripts"]
    assert "build" in scripts
    # Every stage that is run ends as the unprivileged user.
    for stage in re.split(r"^FROM ", text, flags=re.M)[2:]:
        users = re.findall(r"^USER (\S+)$", stage, re.M)
        assert not users or users[-1] == "rolecall"
    assert "USER rolecall" in text
    # The web backend's default static dir is where the Dockerfile puts the built page.
    assert "COPY --from=frontend /src/frontend/demo/dist ./frontend/demo/dist" in text


@pytest.mark.unit
def test_dockerignore_keeps_secrets_and_builds_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*") :]  # deny by default
    for needed in (
        "pyproject.toml",
        "constraints.txt",
        "README.md",
        "worker/",
        "roles/",
        "scenarios/",
        "frontend/",
    ):
        assert f"!{needed}" in lines
    assert "!.env" not in lines and "frontend/node_modules" in lines


# --- LiveKit's config -------------------------------------------------------------------------------


@pytest.mark.unit
def test_livekit_config_uses_redis_and_published_ports() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "livekit.yaml").read_text())
    assert config["redis"]["address"] == "redis:6379"
    assert "keys" not in config  # from LIVEKIT_KEYS
    published = services()["livekit"]["ports"]
    assert f"{config['port']}:{config['port']}" in published
    assert f"{config['rtc']['tcp_port']}:{config['rtc']['tcp_port']}" in published
    assert f"{config['rtc']['udp_port']}:{config['rtc']['udp_port']}/udp" in published
    assert services()["worker"]["environment"]["LIVEKIT_URL"] == f"ws://livekit:{config['port']}"


@pytest.mark.integration
def test_livekit_server_accepts_the_config() -> None:
    # `ports` parses the config strictly (an unknown key is an error) without starting a server.
    out = subprocess.run(
        [str(DEFAULT_BINARY), "--config", str(ROOT / "deploy" / "livekit.yaml"), "ports"],
        env={"LIVEKIT_KEYS": "key: 0123456789abcdef0123456789abcdef"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "could not parse" not in out.stdout + out.stderr
    assert "7880 - HTTP service" in out.stdout and "7881 - ICE/TCP" in out.stdout


def _default(value: str, name: str) -> str:
    m = re.fullmatch(r"\$\{" + name + r":-(.+)\}", value)
    assert m, f"{name} should be ${{{name}:-default}}, found {value}"
    return m.group(1)


@pytest.mark.unit
def test_http_tools_of_the_roles_reach_the_web_service_in_compose() -> None:
    """Inside the worker's container `localhost` is the worker itself: role URLs must not point there."""
    from urllib.parse import urlsplit

    from worker.roles import HttpTool, RoleRegistry
    from worker.web.app import create_app

    s = services()
    env = s["worker"]["environment"]
    app_url = urlsplit(_default(env["ROLECALL_APP_URL"], "ROLECALL_APP_URL"))
    assert app_url.hostname in s, "ROLECALL_APP_URL should name a compose service"
    assert str(app_url.port) == s[app_url.hostname]["environment"]["ROLECALL_WEB_PORT"]
    allowed = _default(env["ROLECALL_HTTP_ALLOWED_HOSTS"], "ROLECALL_HTTP_ALLOWED_HOSTS").split(",")
    assert app_url.hostname in allowed

    settings = Settings(
        livekit_url="ws://x", livekit_api_key="k", livekit_api_secret="s", app_url=app_url.geturl()
    )
    routes = {
        (r.method, r.resource.canonical)
        for r in create_app(settings).router.routes()
        if r.resource is not None
    }
    registry = RoleRegistry(ROOT / "roles")
    checked = 0
    for name in registry.names():
        for tool in registry.get(name).tools:
            if not isinstance(tool, HttpTool):
                continue
            url = urlsplit(settings.http_tool_url(tool.url))
            assert url.hostname not in ("localhost", "127.0.0.1", "::1"), f"{name}.{tool.name}: {tool.url}"
            assert url.hostname in allowed, f"{name}.{tool.name}: not in ROLECALL_HTTP_ALLOWED_HOSTS"
            if url.hostname == app_url.hostname:
                assert ("POST", url.path) in routes, (
                    f"{name}.{tool.name}: the web backend has no POST {url.path}"
                )
            checked += 1
    assert checked >= 1  # the cooking guide's find_recipes
