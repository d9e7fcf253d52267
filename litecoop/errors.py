"""The one exception type that the command line turns into a one-line error and exit code 2."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class UserError(Exception):
    """A mistake in what the user asked for (bad workload, target, file, option), not a bug."""


# What a failing TVM pass, build or schedule primitive raises: TVM 0.27's FFI raises RuntimeError (its InternalError
# and ScheduleError are RuntimeErrors); there is no `tvm.TVMError` any more.
TVMError = RuntimeError


def validated(model: type[Model], data: dict, what: str, names: dict[str, str] | None = None) -> Model:
    """`model` (a pydantic model) built from `data`. Raises UserError naming `what` and the first bad field
    (as `names` maps it, e.g. to a command-line option), in one line, where pydantic raises a multi-line
    ValidationError."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join((names or {}).get(str(part), str(part)) for part in first["loc"])
        problem = f"{field}: {first['msg']}" if field else first["msg"]
        raise UserError(f"{what}: {problem} ({err.error_count()} problem{'s' * (err.error_count() > 1)})") from None
