"""A role's version: a content hash over the files it was built from.

The role file, its prompt files and the fragments it includes (with their prompt files), each named by
its path inside the roles directory, so the same files give the same version on every machine and a
renamed or moved prompt gives a new one. Twelve hex digits of SHA-256, like a short git hash: what a
prompt author matches against the report's `role_versions` and the worker's log.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping

VERSION_CHARS = 12


def role_version(roles_dir: str, files: Iterable[str], contents: Mapping[str, str]) -> str:
    """The version of a role built from `files` (absolute paths), whose text `contents` holds as read.

    A file the loader did not keep is read now (the role file's folder entries never are: only files).
    """
    digest = hashlib.sha256()
    for path in sorted(set(files), key=lambda p: os.path.relpath(p, roles_dir)):
        text = contents.get(path)
        if text is None:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        name = os.path.relpath(path, roles_dir).replace(os.sep, "/")
        data = text.encode()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:VERSION_CHARS]
