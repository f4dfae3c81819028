"""Kitchen unit conversion: parameters from type hints, and a failure the model may speak about.

- kind: python
  name: convert_units
  description: Convert an amount between kitchen units (g, kg, oz, lb, ml, l, cup, tbsp, tsp).
  function: examples.kitchen_tools.units:convert
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from worker.tools.python import ToolFailure

Unit = Literal["g", "kg", "oz", "lb", "ml", "l", "cup", "tbsp", "tsp"]

GRAMS = {"g": 1.0, "kg": 1000.0, "oz": 28.349523125, "lb": 453.59237}
MILLILITRES = {"ml": 1.0, "l": 1000.0, "cup": 236.5882365, "tbsp": 14.78676478125, "tsp": 4.92892159375}


async def convert(
    amount: Annotated[float, Field(ge=0, le=100_000, description="How much, in from_unit.")],
    from_unit: Unit,
    to_unit: Unit,
) -> dict[str, float | str]:
    """The amount in `to_unit`, rounded to what a kitchen measures."""
    for table in (GRAMS, MILLILITRES):
        if from_unit in table and to_unit in table:
            converted = amount * table[from_unit] / table[to_unit]
            return {"amount": round(converted, 2), "unit": to_unit}
    # A ToolFailure's text reaches the model (then the role's error_message): say what to do instead.
    raise ToolFailure(
        f"{from_unit} is a {'weight' if from_unit in GRAMS else 'volume'} and {to_unit} is not: "
        "converting between them depends on the ingredient"
    )
