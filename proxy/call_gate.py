"""Which parts of a streamed answer may leave, and when.

The stream parser (:mod:`wrappers.streaming`) reports everything it reads;
the gate applies the pipeline's checks (step 6) as early as they can be
applied, so a streamed answer holds what the non-streamed one would:

- a call to a function the request did not offer is never sent (nor its
  arguments); nor a second call where ``parallel_tool_calls`` is false, nor a
  call to another function than the one ``tool_choice`` names;
- calls are renumbered among those sent (``index`` 0, 1, ...);
- with ``hold``, nothing leaves until the first call passes those checks:
  when a call is required and no grammar guarantees it, an attempt that
  ends without one is retried silently, which is only possible while
  nothing has been sent. Under ``auto`` content leaves at once.

Argument fragments leave as they are written; the schema check comes at the
end, and a mismatch is then a warning (docs/streaming.md says why).
"""

from __future__ import annotations

from dataclasses import replace

from proxy.dialects import NormalizedRequest
from wrappers.partial_json import closing_suffix
from wrappers.streaming import OutputDelta


class CallGate:
    def __init__(self, request: NormalizedRequest, *, hold: bool) -> None:
        self.request = request
        self.holding = hold
        self._held: list[OutputDelta] = []
        #: The parser's call index -> the index sent to the client.
        self._admitted: dict[int, int] = {}
        #: Arguments sent so far, by sent index.
        self.sent_arguments: list[str] = []
        self.sent_anything = False

    @property
    def calls_sent(self) -> int:
        return len(self._admitted)

    def admit(self, deltas: list[OutputDelta]) -> list[OutputDelta]:
        """The deltas that may leave now (held ones first, once released)."""
        out: list[OutputDelta] = []
        for delta in deltas:
            if delta.kind == "call":
                if not self._acceptable(delta.name):
                    continue
                sent_index = len(self._admitted)
                self._admitted[delta.index] = sent_index
                self.sent_arguments.append("")
                delta = replace(delta, index=sent_index)
                if self.holding:
                    self.holding = False
                    out.extend(self._held)
                    self._held.clear()
            elif delta.kind == "arguments":
                if delta.index not in self._admitted:
                    continue
                sent_index = self._admitted[delta.index]
                self.sent_arguments[sent_index] += delta.text
                delta = replace(delta, index=sent_index)
            if self.holding:
                self._held.append(delta)
            else:
                out.append(delta)
        self.sent_anything = self.sent_anything or bool(out)
        return out

    def release(self) -> list[OutputDelta]:
        """What was held, when the answer turns out to be usable without a call."""
        held, self._held = self._held, []
        self.holding = False
        self.sent_anything = self.sent_anything or bool(held)
        return held

    def close_calls(self, complete: dict[int, str]) -> list[OutputDelta]:
        """Close the arguments of sent calls that the final parse does not hold whole.

        ``complete``: final arguments by sent index. A call whose arguments
        were cut off gets the characters that make its fragments valid JSON.
        """
        out: list[OutputDelta] = []
        for index, sent in enumerate(self.sent_arguments):
            if index in complete and complete[index].startswith(sent):
                continue
            suffix = closing_suffix(sent) if sent else "{}"
            if suffix:
                self.sent_arguments[index] += suffix
                out.append(OutputDelta("arguments", suffix, index=index))
        return out

    def _acceptable(self, name: str) -> bool:
        request = self.request
        if name not in request.function_names:
            return False
        if request.choice.mode == "named" and name != request.choice.name:
            return False
        return request.parallel_calls or not self._admitted
