"""The ``jinja`` wrapper's name and errors, without the template engine.

Kept apart from wrappers/jinja_template.py so that the pipeline and the router
can name them without importing Jinja and its sandbox (3-4 MB of a serving
process's memory) when no model uses its own chat template.
"""

from __future__ import annotations

JINJA_WRAPPER_NAME = "jinja"


class ChatTemplateError(ValueError):
    """The chat template cannot render (this conversation, or at all).

    Raised at construction for a template that does not compile or cannot
    render a one-message conversation, and by ``JinjaTemplateWrapper.render``
    when the template rejects a request (its ``raise_exception``: "roles must
    alternate", "only single tool-calls", ...). The message says which.
    """


class TemplateSourceError(ValueError):
    """A template file or URL could not be read, or holds no template."""
