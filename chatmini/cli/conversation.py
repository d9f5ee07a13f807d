"""One chat: the model, the system message and the messages so far, sent a turn at a time
through an API (``apis``), printed as they arrive (``terminal``) and kept in the conversation
log (``store``).

A turn ends one of three ways. Done: prompt and reply join the conversation. Cancelled
(Ctrl-C): the stream is closed at once, its connection with it, and the reply so far is kept,
as a chat app keeps a stopped answer (nothing kept when nothing had arrived). Failed (an
error): the turn is forgotten, so the prompt can simply be sent again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from ..errors import ChatminiError
from ..jsoncodec import without_surrogates
from ..streaming.pieces import StreamPiece as Piece
from .connect import credentials
from .report import report
from .store import ConversationLog, turn_record
from .terminal import CancelGuard, Printer, json_text

if TYPE_CHECKING:
    from .apis import API

DONE, CANCELLED, FAILED = "done", "cancelled", "failed"


class Settings(NamedTuple):
    """How turns are sent and shown: streamed or not, the whole response as JSON, reasoning
    shown or hidden, and the body parameters of every call."""

    stream: bool
    json: bool
    reasoning: bool
    params: dict[str, Any]


class Session:
    """A conversation being had; ``turn(prompt)`` sends one prompt and prints the reply."""

    def __init__(self, api: API, printer: Printer, settings: Settings,
                 model: str, system: Optional[str] = None,
                 log: Optional[ConversationLog] = None) -> None:
        self.api = api
        self.printer = printer
        self.settings = settings
        self.model = model
        self.system = system or None
        self.log = log
        self.messages: list[dict[str, str]] = []

    def turn(self, prompt: str) -> str:
        """Send ``prompt`` with the conversation so far, print the reply as it arrives, and
        return how the turn ended: DONE, CANCELLED or FAILED (reported on stderr)."""
        prompt = without_surrogates(prompt)
        messages = [*self.messages, {"role": "user", "content": prompt}]
        text: list[str] = []
        reasoning: list[str] = []
        outcome, error, reply = DONE, None, None
        with CancelGuard() as guard:
            try:
                guard.arm()
                if self.settings.stream and not self.settings.json:
                    reply = self.api.stream(self.model, self.system, messages,
                                            self.settings.params)
                    for piece in reply:
                        self._show(piece, text, reasoning)
                else:
                    self._complete(messages, text, reasoning)
                guard.disarm()
            except KeyboardInterrupt:  # the guard disarmed itself: no second one comes now
                outcome = CANCELLED
            except ChatminiError as exc:
                outcome, error = FAILED, exc
            finally:
                guard.disarm()
                if reply is not None:
                    reply.close()  # at once: a cancelled reply's connection is not reused
        self.printer.end_line()
        if error is not None:
            report(str(error), credentials())
        elif outcome == DONE or text or reasoning:
            self._keep(prompt, "".join(text), "".join(reasoning), outcome == CANCELLED)
        return outcome

    def _show(self, piece: Piece, text: list[str], reasoning: list[str]) -> None:
        clean = self.printer.clean(piece.text)
        (reasoning if piece.reasoning else text).append(clean)
        if self.settings.reasoning or not piece.reasoning:
            self.printer.piece(clean, piece.reasoning)

    def _complete(self, messages: list[dict[str, str]], text: list[str],
                  reasoning: list[str]) -> None:
        answer = self.api.complete(self.model, self.system, messages, self.settings.params)
        if self.settings.json:  # exact, surrogates escaped; the conversation keeps clean text
            self.printer.write(json_text(answer.data) + "\n")
            text.append(without_surrogates(answer.text))
            reasoning.append(without_surrogates(answer.reasoning))
            return
        for piece in (Piece(answer.reasoning, True), Piece(answer.text)):
            if piece.text:
                self._show(piece, text, reasoning)

    def _keep(self, prompt: str, reply: str, reasoning: str, cancelled: bool) -> None:
        self.messages.append({"role": "user", "content": prompt})
        if reply:
            self.messages.append({"role": "assistant", "content": reply})
        if self.log is None:
            return
        try:
            self.log.append(turn_record(self.model, self.system, prompt, reply, reasoning,
                                        cancelled))
        except OSError as exc:
            self.printer.warn_once("log", f"cannot keep the conversation in {self.log.path}: "
                                   f"{exc.strerror or exc} (--no-log turns the log off)")

    def reset(self) -> None:
        """Forget the conversation; later turns start a new one in the log."""
        self.messages.clear()
        if self.log is not None:
            self.log.restart()

    def save(self, path: Path) -> None:
        """Write the conversation to ``path``: a request body (model and messages) when it
        ends in ``.json``, else a Markdown transcript. Raises OSError."""
        if path.suffix.lower() == ".json":
            system = [{"role": "system", "content": self.system}] if self.system else []
            text = json_text({"model": self.model, "messages": system + self.messages}) + "\n"
        else:
            parts = [f"# Conversation with {self.model}\n"]
            if self.system:
                parts.append(f"## System\n\n{self.system}\n")
            titles = {"user": "You", "assistant": self.model}
            parts += [f"## {titles.get(m['role'], m['role'])}\n\n{m['content']}\n"
                      for m in self.messages]
            text = "\n".join(parts)
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)

