"""The conversation of a retry: the model sees its previous answer and what was wrong.

A retry that sends the same prompt again mostly gets the same mistake back
(at temperature 0, exactly the same). So a retry appends the failed answer
as the assistant's turn and a user turn naming the problem, the way a person
would correct it::

    [..., {"role": "assistant", "content": '{"name": "Ada", "age": "forty"}'},
     {"role": "user", "content": "That answer could not be used: the answer does not
      match the schema: at $.age: 'forty' is not of type 'integer'. Answer again with
      only the JSON value, fixed."}]

The wrapper renders it like any conversation, so every format gets it.
"""

from __future__ import annotations

from wrappers.base import FunctionSchema, Message

#: The failed answer shown back is cut here: the model needs its start to see
#: the mistake, and a runaway answer must not crowd the context window.
MAX_SHOWN_CHARS = 2000


def reask_messages(
    messages: list[Message],
    previous_output: str,
    problem: str,
    *,
    functions: list[FunctionSchema],
    call_required: bool,
    wants_json: bool,
) -> list[Message]:
    """``messages`` plus the failed answer and the correction request."""
    shown = previous_output.strip()
    if len(shown) > MAX_SHOWN_CHARS:
        shown = shown[:MAX_SHOWN_CHARS] + " ..."
    return [
        *messages,
        {"role": "assistant", "content": shown or "(no answer)"},
        {"role": "user", "content": correction(problem, functions, call_required, wants_json)},
    ]


def correction(
    problem: str, functions: list[FunctionSchema], call_required: bool, wants_json: bool
) -> str:
    """The user turn that says what was wrong and what to do instead."""
    names = ", ".join(f["name"] for f in functions)
    if call_required:
        todo = f"Call one of the functions ({names}) again, with arguments that match its schema."
    elif functions and wants_json:
        todo = (
            f"Either call one of the functions ({names}) with arguments that match its "
            "schema, or answer with only the JSON value the system prompt asks for."
        )
    elif functions:
        todo = f"Call one of the functions ({names}) correctly, or answer in plain text."
    else:
        todo = "Answer again with only the JSON value the system prompt asks for, fixed."
    return f"That answer could not be used: {problem}. {todo}"
