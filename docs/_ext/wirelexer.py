"""Sphinx extension: highlight the lessons' HTTP "wire contract" blocks.

The lessons fence request/response sketches as ``http`` but write them as templates
(``POST {base_url}/studies``, ``→ 200 OK``, ``<blue-circle.dcm>``), which Pygments'
strict HTTP lexer rejects and would mark as errors. This lexer highlights the parts
those sketches have: request and status lines, headers and multipart boundaries.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Keyword, Name, Number, Operator, String, Text
from sphinx.application import Sphinx

_METHODS = r"(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH)"


class WireContractLexer(RegexLexer):
    """HTTP messages with placeholders, as written in the lessons."""

    name = "HTTP wire contract"
    aliases = ["http"]

    tokens = {
        "root": [
            (rf"^{_METHODS}( +)(\S+)((?: +HTTP/\d(?:\.\d)?)?)(\n)",
             bygroups(Name.Function, Text, Name.Namespace, Keyword.Reserved, Text)),
            (r"^(HTTP/\d(?:\.\d)?)( +)(\d{3})(.*\n)", bygroups(Keyword.Reserved, Text, Number, Name.Exception)),
            (r"^(→|->)([ \t]*)(\d{3})?(.*\n)", bygroups(Operator, Text, Number, Name.Exception)),
            (r"^([A-Za-z][\w-]*)(:)([ \t]*)(.*\n)", bygroups(Name.Attribute, Operator, Text, String)),
            (r"^--\S*\n", Comment),
            (r".*\n", Text),
        ]
    }


def setup(app: Sphinx) -> dict[str, object]:
    app.add_lexer("http", WireContractLexer)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
