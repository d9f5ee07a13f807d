"""Many calls from blocking code: N worker threads sharing one Client, results in input order
(``batch``) or as they finish (``batch_iter``), with bounded memory and a clean Ctrl-C."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Generator, Iterable, Mapping, Optional, Union

from ..client import Client
from ..errors import InvalidRequestError
from ..objects import ChatCompletion, Response
from ..shortcuts import default_model
from ..streaming import ResponseStream
from .files import APIS, Job
from .progress import ProgressBar
from .workers import BatchInterrupted, BatchRun, Progress

Result = Union[ChatCompletion, Response, Exception]  # or what a custom ``call`` returns
Call = Callable[[Client, Any], Any]
DEFAULT_WORKERS = 16
INTERRUPT_TIMEOUT = 10.0


class PoolSizeWarning(UserWarning):
    """More workers than pooled connections: the extra ones open and drop connections."""


def as_request(item: Any, model: Optional[str] = None, api: str = "chat") -> dict[str, Any]:
    """``create`` arguments (of ``chat.completions``, or of ``responses`` for
    ``api="responses"``) for a prompt string or a dict of arguments."""
    if isinstance(item, str):
        if api == "responses":
            return {"model": model or default_model(), "input": item}
        return {"model": model or default_model(), "messages": [{"role": "user", "content": item}]}
    if isinstance(item, Mapping):
        kwargs = dict(item)
        kwargs.setdefault("model", model or default_model())
        return kwargs
    raise InvalidRequestError(
        f"batch inputs must be prompt strings or dicts of create() arguments, "
        f"not {type(item).__name__}"
    )


def complete(
    client: Client, item: Any, model: Optional[str] = None, api: str = "chat"
) -> Union[ChatCompletion, Response]:
    """The default call: one chat completion, or one Response with ``api="responses"`` (a
    ``stream=True`` input is read to the end)."""
    kwargs = as_request(item, model, api)
    responses = api == "responses"
    create = client.responses.create if responses else client.chat.completions.create
    if kwargs.get("stream"):
        with create(**kwargs) as stream:
            if isinstance(stream, ResponseStream):
                return stream.get_final_response()
            return stream.get_final_completion()  # type: ignore[no-any-return]
    result: Union[ChatCompletion, Response] = create(**kwargs)
    return result


def send_job(client: Client, job: Job, model: Optional[str] = None) -> Any:
    """The call one line of a batch file makes: a chat completion or a Response through
    ``complete``, any other path as a plain POST; a line that could not be read raises its
    error unsent."""
    if job.error is not None:
        raise job.error
    if job.path in APIS:
        return complete(client, job.body, model, APIS[job.path])
    return client.post(job.path, json=job.body)


def _start(
    client: Optional[Client],
    inputs: Iterable[Any],
    *,
    workers: int,
    fail_fast: bool,
    progress: Union[Progress, bool, None],
    model: Optional[str],
    call: Optional[Call],
    interrupt_timeout: float,
    api: str = "chat",
    collect_only: bool = False,
) -> tuple[BatchRun, Callable[[], None]]:
    """Check the settings, make a Client if none was given, start the workers."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InvalidRequestError(f"workers must be an integer >= 1, not {workers!r}")
    if api not in ("chat", "responses"):
        raise InvalidRequestError(f"api must be 'chat' or 'responses', not {api!r}")
    if call is not None and api != "chat":
        raise InvalidRequestError(f"call= replaces the {api} call: pass call= or api=, not both")
    own = client is None
    if client is None:
        client = Client(pool_maxsize=workers)
    elif client.pool_maxsize is not None and client.pool_maxsize < workers:
        warnings.warn(
            f"{workers} workers share a Client with pool_maxsize={client.pool_maxsize}: the "
            f"extra workers open and discard connections; use Client(pool_maxsize={workers})",
            PoolSizeWarning,
            stacklevel=3,
        )
    bar = ProgressBar() if progress is True else None
    callback: Optional[Progress] = bar if bar is not None else (
        progress if callable(progress) else None
    )
    used = client

    def run_one(item: Any) -> Any:
        return call(used, item) if call is not None else complete(used, item, model, api)

    run = BatchRun(inputs, run_one, workers, fail_fast, callback, interrupt_timeout, collect_only)

    def finish() -> None:
        if bar is not None:
            bar.close()
        if own:
            used.close()

    return run, finish


def batch_iter(
    client: Optional[Client],
    inputs: Iterable[Any],
    *,
    workers: int = DEFAULT_WORKERS,
    fail_fast: bool = False,
    progress: Union[Progress, bool, None] = None,
    model: Optional[str] = None,
    call: Optional[Call] = None,
    interrupt_timeout: float = INTERRUPT_TIMEOUT,
    api: str = "chat",
) -> Generator[tuple[int, Result], None, None]:
    """Yield ``(input index, result)`` as calls finish; at most ~3×workers inputs are held.

    Arguments are those of ``batch``. Leaving the loop early stops the workers (calls in flight
    finish in the background); Ctrl-C raises BatchInterrupted with the finished results.
    """
    run, finish = _start(
        client, inputs, workers=workers, fail_fast=fail_fast, progress=progress, model=model,
        call=call, interrupt_timeout=interrupt_timeout, api=api,
    )
    try:
        yield from run.results()
    finally:
        finish()


def batch(
    client: Optional[Client],
    inputs: Iterable[Any],
    *,
    workers: int = DEFAULT_WORKERS,
    fail_fast: bool = False,
    progress: Union[Progress, bool, None] = None,
    model: Optional[str] = None,
    call: Optional[Call] = None,
    interrupt_timeout: float = INTERRUPT_TIMEOUT,
    api: str = "chat",
) -> list[Result]:
    """Run every input on ``workers`` threads sharing ``client``; results in input order.

    Inputs are prompt strings or dicts of ``chat.completions.create`` arguments (``model``
    defaults to ``model=`` then CHATMINI_MODEL). Each result is a ChatCompletion or the
    exception its call ended with; ``fail_fast=True`` raises the first one instead.
    ``progress`` is a ``(done, total, errors)`` callback, or True for a stderr bar on a TTY.
    ``call(client, item)`` replaces the chat call; ``api="responses"`` makes it a Responses
    call (inputs: prompt strings or dicts of ``responses.create`` arguments; results:
    Response objects). ``client=None`` makes one from the
    environment with a pool of ``workers`` connections. On Ctrl-C no new call starts, calls in
    flight get ``interrupt_timeout`` seconds, and BatchInterrupted carries the results.
    """
    run, finish = _start(
        client, inputs, workers=workers, fail_fast=fail_fast, progress=progress, model=model,
        call=call, interrupt_timeout=interrupt_timeout, api=api,
        collect_only=not progress and not fail_fast,
    )
    out: dict[int, Result] = {}
    try:
        for index, outcome in run.results():
            out[index] = outcome
    except BatchInterrupted as exc:
        exc.results = {**out, **exc.results}
        raise
    except KeyboardInterrupt:  # landed between two results, outside the generator
        interrupted = run.interrupted()
        interrupted.results = {**out, **interrupted.results}
        raise interrupted from None
    finally:
        finish()
    return [out[i] for i in range(len(out))]
