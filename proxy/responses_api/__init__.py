"""OpenAI's Responses API (``POST /v1/responses``, ``GET /v1/responses/{id}``).

A dialect layer on the shared pipeline: :mod:`.request` turns input items
(and the stored conversation a ``previous_response_id`` names) into a Chat
Completions request; :mod:`.output` and :mod:`.events` write the pipeline's
answer as a ``response`` object or its event stream; :mod:`.store` keeps
stored responses for chaining and ``GET``.
"""
