"""YAML files people write (roles, fragments, evals, simulator scenarios, price tables), read safely and
reported precisely.

    from worker.yamlfile import parse, read_text, validation_errors

    doc = parse(read_text(path, display, error=MyError), display, error=MyError)
    try:
        model = MyModel.model_validate(doc.data)
    except ValidationError as exc:
        errors = validation_errors(exc, doc, MyModel, error=MyError)   # file:line:column: field: ...

`parse` refuses what `yaml.safe_load` silently accepts (duplicate keys, tags, merge keys, alias bombs,
YAML 1.1 number surprises) and remembers where every value was; `validation_errors` phrases pydantic's
errors as "expected ..., found ..." at that position, with did-you-mean and quote-it hints. Every error
is a `worker.errors.FileError`, or the subclass the caller passes as `error`.
"""

from worker.yamlfile._document import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_NODES,
    Document,
    Path,
    implicit_surprise,
    parse,
    render_path,
)
from worker.yamlfile._phrasing import HINTED_ERROR, did_you_mean, hinted, validation_errors
from worker.yamlfile._read import MAX_FILE_BYTES, display_path, inside, list_named, read_text

__all__ = [
    "HINTED_ERROR",
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Document",
    "Path",
    "did_you_mean",
    "display_path",
    "hinted",
    "implicit_surprise",
    "inside",
    "list_named",
    "parse",
    "read_text",
    "render_path",
    "validation_errors",
]
