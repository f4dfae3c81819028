"""The README's TypeScript for UI events, tool activity and background tools compiles against the library.

Each ```ts block of the "The page talks back" section becomes a module in a scratch folder inside
`frontend/lib` (so `@rolecall/client` and `livekit-client` resolve as they do for a page), compiled by
the workspace's own `tsc` under the library's strict settings.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.compile(r"<!-- page-talks-back:begin -->(.*?)<!-- page-talks-back:end -->", re.S)
TSC = ROOT / "frontend" / "node_modules" / ".bin" / "tsc"
TSCONFIG = """{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "types": ["node"], "noUnusedLocals": false },
  "include": ["*.ts"]
}
"""


def blocks() -> list[str]:
    """The ```ts blocks of the section, in order."""
    found = SECTION.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "the README has no page-talks-back section"
    return re.findall(r"```ts\n(.*?)```", found.group(1), re.S)


def test_the_section_has_its_examples() -> None:
    texts = blocks()
    assert len(texts) >= 4
    joined = "\n".join(texts)
    for name in ("sendEvent", "useSendEvent", "onToolActivity", "trackToolActivity", "useToolActivity"):
        assert name in joined


def test_the_readme_typescript_compiles() -> None:
    if not TSC.is_file():
        raise RuntimeError(f"{TSC} is missing: run `make setup` (npm ci in frontend/)")
    scratch = Path(tempfile.mkdtemp(prefix=".readme-ts-", dir=ROOT / "frontend" / "lib"))
    try:
        for index, text in enumerate(blocks()):
            (scratch / f"example{index}.ts").write_text(text, encoding="utf-8")
        (scratch / "tsconfig.json").write_text(TSCONFIG, encoding="utf-8")
        done = subprocess.run(
            [str(TSC), "--noEmit", "-p", str(scratch)], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"README TypeScript does not compile:\n{done.stdout}{done.stderr}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
