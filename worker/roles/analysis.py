"""A role's post-call analysis (`analysis:`): what the model is asked about a finished conversation.

    analysis:
      summary: {instructions: Summarise the call in two sentences.}
      data:
        instructions: What the user chose.
        schema: {type: object, properties: {dish: {type: string}}, required: [dish]}
      success:
        criteria: [The user chose a recipe., The user started a timer.]

After the session the worker asks the model once, out of band, for a JSON answer with the parts the
role declares (`worker.analysis`), checks it against `answer_schema`, and puts it in the report.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from pydantic import model_validator as _model_validator

from worker.roles._base import FileModel

DEFAULT_SUMMARY = (
    "Summarise the conversation in two or three sentences: what the user wanted and what happened."
)


class SummarySpec(FileModel):
    """A short summary of the conversation, in words."""

    instructions: str = Field(DEFAULT_SUMMARY, min_length=1, max_length=2000)
    """How to summarise (length, focus, language)."""


class DataSpec(FileModel):
    """Structured data taken from the conversation, checked against a JSON Schema."""

    instructions: str = Field("", max_length=2000)
    """What to extract, in words (the schema's descriptions help too)."""
    schema_: dict[str, Any] = Field(alias="schema")
    """JSON Schema (type: object) of the data, limited to what OpenAI function calling accepts."""


class SuccessSpec(FileModel):
    """Criteria the conversation met or not; each is judged on its own."""

    criteria: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(min_length=1, max_length=20)
    """Statements about the conversation, e.g. The user chose a recipe."""


class Analysis(FileModel):
    """Post-call analysis: at least one of `summary`, `data`, `success`."""

    summary: SummarySpec | None = None
    """A summary in words (`summary: {}` takes the default instructions)."""
    data: DataSpec | None = None
    """Structured data with a JSON Schema."""
    success: SuccessSpec | None = None
    """Success criteria."""

    @_model_validator(mode="after")
    def _something(self) -> Analysis:
        if self.summary is None and self.data is None and self.success is None:
            raise ValueError("expected at least one of summary, data or success")
        return self

    def answer_schema(self) -> dict[str, Any]:
        """The JSON Schema of the model's whole answer (what `worker.analysis` checks)."""
        properties: dict[str, Any] = {}
        if self.summary is not None:
            properties["summary"] = {"type": "string", "minLength": 1}
        if self.data is not None:
            properties["data"] = self.data.schema_
        if self.success is not None:
            n = len(self.success.criteria)
            properties["success"] = {
                "type": "array",
                "minItems": n,
                "maxItems": n,
                "items": {
                    "type": "object",
                    "properties": {"met": {"type": "boolean"}, "reason": {"type": "string"}},
                    "required": ["met"],
                },
            }
        return {"type": "object", "properties": properties, "required": list(properties)}
