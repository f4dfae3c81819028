from __future__ import annotations

from pathlib import Path

import pytest

from worker.settings import Settings, SettingsError

pytestmark = pytest.mark.unit

BASE = {"LIVEKIT_URL": "ws://127.0.0.1:7880", "LIVEKIT_API_KEY": "devkey", "LIVEKIT_API_SECRET": "secret"}


def test_defaults_and_required_values() -> None:
    s = Settings.load(BASE, dotenv=None)
    assert s.agent_name == "rolecall"
    assert s.roles_dir == Path("roles")
    # A dispatch whose user never joins holds a model connection and a job slot this long at most.
    assert s.participant_timeout_s == 10.0
    assert s.live_reload_enabled(devmode=True) is True
    assert s.live_reload_enabled(devmode=False) is False
    # Off, and bound to loopback, unless the operator says otherwise.
    assert s.session_host_identity == ""
    assert s.health_host == "127.0.0.1"
    assert s.chat_max_chars == 2000


def test_the_session_host_is_never_given_to_a_user() -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.load({**BASE, "ROLECALL_SESSION_HOST_IDENTITY": "user-1234"}, dotenv=None)
    assert excinfo.value.problems == [
        "ROLECALL_SESSION_HOST_IDENTITY=user-1234: user identities (user-...) cannot be given the session "
        "host; name an operator participant"
    ]
    assert Settings.load({**BASE, "ROLECALL_SESSION_HOST_IDENTITY": "ops"}, dotenv=None).session_host_identity


def test_every_problem_is_reported_by_name_at_once() -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.load(
            {
                "LIVEKIT_URL": "localhost:7880",
                "ROLECALL_PARTICIPANT_TIMEOUT_S": "soon",
                "ROLECALL_WEB_PORT": "-1",
            },
            dotenv=None,
        )
    assert excinfo.value.problems == [
        "ROLECALL_PARTICIPANT_TIMEOUT_S='soon': expected a number of seconds",
        "ROLECALL_WEB_PORT='-1': expected a number >= 0",
        "LIVEKIT_API_KEY is required (see README, 'Settings')",
        "LIVEKIT_API_SECRET is required (see README, 'Settings')",
        "LIVEKIT_URL=localhost:7880: expected a ws://, wss://, http:// or https:// URL",
    ]


def test_secret_values_are_never_echoed() -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.load({**BASE, "ROLECALL_WEBHOOK_URL": "http://app/hook"}, dotenv=None)
    assert "ROLECALL_WEBHOOK_SECRET is required when ROLECALL_WEBHOOK_URL is set" in excinfo.value.problems
    s = Settings.load({**BASE, "OPENAI_API_KEY": "sk-very-secret"}, dotenv=None)
    assert "sk-very-secret" not in repr(s)
    assert "secret" not in repr(s).replace("livekit_api_secret", "").replace("webhook_secret", "")


def test_live_reload_override_and_bool_parsing() -> None:
    assert (
        Settings.load({**BASE, "ROLECALL_LIVE_RELOAD": "false"}, dotenv=None).live_reload_enabled(True)
        is False
    )
    assert (
        Settings.load({**BASE, "ROLECALL_LIVE_RELOAD": "on"}, dotenv=None).live_reload_enabled(False) is True
    )
    with pytest.raises(SettingsError, match="ROLECALL_LIVE_RELOAD='maybe': expected true or false"):
        Settings.load({**BASE, "ROLECALL_LIVE_RELOAD": "maybe"}, dotenv=None)


def test_dotenv_fills_what_the_environment_does_not_set(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("LIVEKIT_URL=ws://from-dotenv:7880\nROLECALL_AGENT_NAME=from-dotenv\n")
    s = Settings.load({**BASE, "ROLECALL_AGENT_NAME": "from-env"}, dotenv=env_file)
    assert s.livekit_url == "ws://127.0.0.1:7880"
    assert s.agent_name == "from-env"


def test_every_setting_documents_its_environment_variable() -> None:
    import dataclasses
    import inspect

    source = inspect.getsource(Settings)
    for f in dataclasses.fields(Settings):
        assert f"Env: `{f.metadata['env']}`" in source.replace("\n    ", " ").replace("Env:\n", "Env: "), (
            f.name
        )


def test_the_settings_reference_documents_every_setting() -> None:
    """The docs' settings page (generated from this class at build time) has a row for every setting."""
    from docs.reference_pages import settings_page

    page = settings_page()
    missing = [env for env in Settings.env_names().values() if f"| `{env}` |" not in page]
    assert not missing, f"docs/reference/settings.md lacks {missing}"


def test_app_url_and_price_table_are_checked_at_start_up(tmp_path: Path) -> None:
    bad_prices = tmp_path / "prices.yaml"
    bad_prices.write_text("gpt-realtime: {text_in: cheap}\n")
    with pytest.raises(SettingsError) as excinfo:
        Settings.load(
            {**BASE, "ROLECALL_APP_URL": "web:8080", "ROLECALL_PRICES_FILE": str(bad_prices)}, dotenv=None
        )
    problems = excinfo.value.problems
    assert (
        problems[0] == "ROLECALL_APP_URL=web:8080: expected an http:// or https:// URL like http://web:8080"
    )
    assert problems[1].startswith(f"ROLECALL_PRICES_FILE: {bad_prices}:1:25: gpt-realtime.text_in: ")
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(
        SettingsError, match=r"ROLECALL_PRICES_FILE: .*nowhere\.yaml: cannot read price table"
    ):
        Settings.load({**BASE, "ROLECALL_PRICES_FILE": str(missing)}, dotenv=None)


def test_http_tool_paths_go_to_the_app_url_and_hosts_can_be_limited() -> None:
    s = Settings.load(
        {
            **BASE,
            "ROLECALL_APP_URL": "http://web:8080/",
            "ROLECALL_HTTP_ALLOWED_HOSTS": " Web, api.example.com ",
        },
        dotenv=None,
    )
    assert s.http_tool_url("/api/recipes/search") == "http://web:8080/api/recipes/search"
    assert s.http_tool_url("https://api.example.com/x") == "https://api.example.com/x"
    assert s.allowed_http_hosts() == frozenset({"web", "api.example.com"})
    base_path = Settings.load({**BASE, "ROLECALL_APP_URL": "https://app.example.com/rolecall"}, dotenv=None)
    assert base_path.http_tool_url("/api/x") == "https://app.example.com/rolecall/api/x"
    assert Settings.load(BASE, dotenv=None).allowed_http_hosts() is None
