"""Role evals: declarative conversations that check a role still drives the tools the UI depends on.

    python -m worker eval                      # every roles/evals/*.yaml, offline (the simulator)
    python -m worker eval cooking-guide --live --repeat 5 --report out/evals

Modules: `model` (eval files), `matching` (argument values and patterns, reply words), `scenario`
(the offline simulator scenario and the static checks), `standins` (the page and the app backend),
`runner` (sessions through the worker's own code), `checks` (verdicts), `report`, `cli`.
"""

from worker.evals.checks import CallOutcome, TurnOutcome, Verdict, check
from worker.evals.model import EvalFile, EvalFileError, Expect, LoadedEval, eval_files, load_eval
from worker.evals.runner import EvalResult, ExpectationResult, RunOptions, run_eval

__all__ = [
    "CallOutcome",
    "EvalFile",
    "EvalFileError",
    "EvalResult",
    "Expect",
    "ExpectationResult",
    "LoadedEval",
    "RunOptions",
    "TurnOutcome",
    "Verdict",
    "check",
    "eval_files",
    "load_eval",
    "run_eval",
]
