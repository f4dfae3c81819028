"""Eval files: what is accepted, and errors that name the file, line and field."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path

import pytest

from worker.errors import FileError, RoleCallError
from worker.evals import EvalFileError, load_eval
from worker.evals.model import eval_files

pytestmark = pytest.mark.unit


def write(tmp_path: Path, text: str, name: str = "cooking-guide.yaml") -> str:
    evals = tmp_path / "evals"
    evals.mkdir(exist_ok=True)
    path = evals / name
    path.write_text(text)
    return str(path)


def wav(channels: int = 1, rate: int = 24000) -> bytes:
    """A tenth of a second of silence as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * (channels * rate // 10))
    return out.getvalue()


GOOD = """\
ui: {show_recipe: {shown: true}}
conversations:
  - name: shows a recipe
    turns:
      - user: show me carbonara
        expect:
          - tool: show_recipe
            arguments: {recipe_id: spaghetti-carbonara}
          - reply_contains: carbonara
          - max_turns: 2
      - audio: clips/yes.wav
        transcript: "yes, please"
        expect:
          - no_tool: true
"""


def test_a_valid_file_loads_with_the_role_from_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "evals" / "clips").mkdir(parents=True)
    (tmp_path / "evals" / "clips" / "yes.wav").write_bytes(wav())
    loaded = load_eval(write(tmp_path, GOOD))
    assert loaded.role == "cooking-guide"
    turn = loaded.spec.conversations[0].turns[0]
    assert [e.kind for e in turn.expect] == ["tool", "reply_contains", "max_turns"]
    assert turn.expect[1].reply_contains == ["carbonara"]  # one word is a list of one
    assert turn.expect[0].describe() == 'tool show_recipe (recipe_id="spaghetti-carbonara")'
    assert loaded.position(0, 0, 1).endswith("cooking-guide.yaml:9")


def test_unknown_key_names_file_line_and_field(tmp_path: Path) -> None:
    text = GOOD.replace("          - max_turns: 2\n", "          - max_turn: 2\n")
    with pytest.raises(EvalFileError) as info:
        load_eval(write(tmp_path, text))
    message = str(info.value)
    assert "cooking-guide.yaml:10:" in message
    assert "conversations[0].turns[0].expect[2].max_turn: unknown key 'max_turn'" in message
    assert "did you mean 'max_turns'?" in message


def test_an_expectation_needs_exactly_one_kind(tmp_path: Path) -> None:
    text = GOOD.replace("          - max_turns: 2\n", "          - {max_turns: 2, no_tool: true}\n")
    with pytest.raises(EvalFileError, match=r"exactly one of tool, no_tool.*found: no_tool, max_turns"):
        load_eval(write(tmp_path, text))


def test_arguments_only_go_with_tool_or_handoff(tmp_path: Path) -> None:
    text = GOOD.replace("          - max_turns: 2\n", "          - {max_turns: 2, arguments: {a: 1}}\n")
    with pytest.raises(EvalFileError, match="arguments only go with tool or handoff"):
        load_eval(write(tmp_path, text))


def test_bad_regex_is_refused_at_load(tmp_path: Path) -> None:
    text = GOOD.replace("arguments: {recipe_id: spaghetti-carbonara}", "patterns: {recipe_id: '(unclosed'}")
    with pytest.raises(EvalFileError, match=r"patterns.*recipe_id: not a valid regular expression"):
        load_eval(write(tmp_path, text))


def test_audio_must_stay_inside_the_evals_directory(tmp_path: Path) -> None:
    text = GOOD.replace("clips/yes.wav", "../../etc/passwd")
    with pytest.raises(EvalFileError) as info:
        load_eval(write(tmp_path, text))
    assert "turns[1].audio" in str(info.value)
    assert "'..' is not allowed" in str(info.value)


def test_missing_audio_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        EvalFileError, match=r":11:\d+: conversations\[0\]\.turns\[1\]\.audio: audio file not found"
    ):
        load_eval(write(tmp_path, GOOD))


def test_a_turn_needs_user_or_audio_not_both(tmp_path: Path) -> None:
    text = "conversations:\n  - name: x\n    turns:\n      - {user: hi, audio: a.wav}\n"
    with pytest.raises(EvalFileError, match="exactly one of user"):
        load_eval(write(tmp_path, text))


def test_unsafe_yaml_is_refused_like_role_files(tmp_path: Path) -> None:
    text = "conversations: []\nconversations: []\n"
    with pytest.raises(EvalFileError, match="duplicate key 'conversations'"):
        load_eval(write(tmp_path, text))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(EvalFileError, match="expected a mapping"):
        load_eval(write(tmp_path, ""))


def test_eval_files_lists_yaml_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    assert sorted(eval_files(str(tmp_path))) == ["a", "b"]


def test_the_shipped_evals_load() -> None:
    files = eval_files("roles")
    assert set(files) >= {"cooking-guide", "sommelier", "concierge"}
    for path in files.values():
        load_eval(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not audio at all", "not a WAV stream"),
        (wav(channels=2), "2 channels"),
        (b"RIFF\x24\x00\x00\x00WAVE", "WAV stream without data"),
    ],
)
def test_an_unusable_clip_is_an_error_naming_the_turn(tmp_path: Path, content: bytes, problem: str) -> None:
    path = write(tmp_path, GOOD)
    clip = Path(path).parent / "clips" / "yes.wav"
    clip.parent.mkdir(parents=True, exist_ok=True)
    clip.write_bytes(content)
    with pytest.raises(EvalFileError) as info:
        load_eval(path)
    message = str(info.value)
    assert re.search(r":11:\d+: conversations\[0\]\.turns\[1\]\.audio: clips/yes.wav: ", message), message
    assert problem in message and "(expected a PCM16 mono WAV file)" in message


def test_an_eval_file_error_is_a_file_error_located_at_its_first_problem(tmp_path: Path) -> None:
    text = GOOD.replace("          - max_turns: 2\n", "          - max_turn: 2\n").replace("ui:", "iu:")
    with pytest.raises(FileError) as info:
        load_eval(write(tmp_path, text))
    err = info.value
    assert isinstance(err, EvalFileError) and isinstance(err, RoleCallError)
    assert [type(e) for e in err.errors] == [FileError, FileError]  # an eval file is not a role
    assert (err.file, err.line, err.column, err.field) == (err.errors[0].file, 1, 1, "iu")
    assert str(err) == "\n".join(str(e) for e in err.errors)
    assert "the evals directory" in str(_audio_error(tmp_path))


def _audio_error(tmp_path: Path) -> EvalFileError:
    with pytest.raises(EvalFileError) as info:
        load_eval(write(tmp_path, GOOD.replace("clips/yes.wav", "/etc/passwd")))
    return info.value
