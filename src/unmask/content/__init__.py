"""Content analysis: propaganda techniques in articles, transcripts and posts.

Not implemented yet (a separate issue). Modules here will register checks the same way
:mod:`unmask.checks` does, and read posts through the case like every other stage.
"""
