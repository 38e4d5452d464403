"""Anthropic's Messages API (``POST /v1/messages``, ``/v1/messages/count_tokens``).

A dialect layer on the shared pipeline: :mod:`.request` turns a Messages
request into a Chat Completions request, the pipeline answers it as it
answers every request, and :mod:`.message` / :mod:`.events` write the answer
in Anthropic's wire format; :mod:`.errors` gives errors Anthropic's envelope.
"""
