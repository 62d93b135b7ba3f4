"""Plain `str`, `int` and `bool` options without Pydantic: keeps start-up at typer's own floor.

Typer 0.29 coerces every non-flag parameter through a Pydantic TypeAdapter,
built on first use; that imports Pydantic (about as costly as typer itself)
in every command that has a `str` option — `--data-dir` included. For plain
`str`, `bool` and `int` (with or without min/max) this gives typer the same coercion
and the same error wording without it. Anything else (paths, choices, lists,
custom parsers, clamping) still goes through typer's own adapters, and if
typer's internals differ (other versions) nothing is changed.
"""

from __future__ import annotations


def install() -> None:
    try:
        from typer import core
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam
    except ImportError:  # pragma: no cover - another typer: leave it alone
        return
    original = getattr(core._TyperParameter, "get_runtime_param", None)
    if original is None or getattr(original, "_chatkit_fast", False):
        return

    class StrParam(RuntimeParam):
        def _coerce_value(self, value, param, ctx):
            if isinstance(value, bytes):
                return value.decode("utf-8", "replace")
            return str(value)

    class IntParam(RuntimeParam):
        def _coerce_value(self, value, param, ctx):
            if isinstance(value, bool):
                value = int(value)
            try:
                number = value if isinstance(value, int) else int(str(value).strip())
            except ValueError:
                raise BadParameter("Input should be a valid integer, unable to parse string as an integer",
                                   ctx=ctx, param=param) from None
            info = self.parameter_info
            if info.min is not None and number < info.min:
                raise BadParameter(f"Input should be greater than or equal to {info.min}", ctx=ctx, param=param)
            if info.max is not None and number > info.max:
                raise BadParameter(f"Input should be less than or equal to {info.max}", ctx=ctx, param=param)
            return number

    truthy = {"1", "on", "t", "true", "y", "yes"}
    falsy = {"0", "off", "f", "false", "n", "no", ""}

    class BoolParam(RuntimeParam):
        def _coerce_value(self, value, param, ctx):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in truthy:
                return True
            if text in falsy:
                return False
            raise BadParameter("Input should be a valid boolean, unable to interpret input",
                               ctx=ctx, param=param)

    def fast(descriptor):
        info = descriptor.parameter_info
        if (descriptor.is_list or descriptor.is_tuple or descriptor.is_file or descriptor.is_path
                or descriptor.is_choice or getattr(info, "parser", None) is not None
                or getattr(info, "click_type", None) is not None):
            return None
        if descriptor.annotation is str:
            return StrParam(parameter_info=info, annotation=str)
        if descriptor.annotation is bool:
            return BoolParam(parameter_info=info, annotation=bool)
        if descriptor.annotation is int and not getattr(info, "clamp", False):
            return IntParam(parameter_info=info, annotation=int)
        return None

    def get_runtime_param(self):
        if self._runtime_param is None:
            try:
                self._runtime_param = fast(self.type_descriptor)
            except AttributeError:  # pragma: no cover - a typer whose descriptors differ
                self._runtime_param = None
        return original(self)

    get_runtime_param._chatkit_fast = True
    core._TyperParameter.get_runtime_param = get_runtime_param
