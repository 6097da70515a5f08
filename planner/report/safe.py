"""Text from users made safe for each output: spreadsheets, Word, Markdown, LaTeX.

Scenario names, descriptions, strategy names, titles and overlay sources are a
user's text. A spreadsheet would run a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula (CSV/formula injection,
OWASP); XML (DOCX, XLSX) cannot hold most control characters; Markdown would
render raw HTML; LaTeX would run commands.
"""

from __future__ import annotations

import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet treats as the start of a formula (OWASP CSV
injection). [-]"""

MAX_CELL_CHARACTERS = 32_767
"""Most characters an Excel cell holds (Excel specifications and limits). [-]"""

MAX_SHEET_TITLE = 31
"""Most characters of a worksheet name (Excel specifications and limits). [-]"""

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SHEET_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
}


def xml_text(text: object) -> str:
    r"""Drop the characters XML 1.0 cannot hold (controls, lone surrogates).

    Parameters
    ----------
    text : object
        Any value; converted with ``str``.

    Returns
    -------
    str
        The text without them (tab, newline and carriage return kept).

    Examples
    --------
    >>> xml_text("a\x00b\x1bc")
    'abc'
    """
    return _XML_ILLEGAL.sub("", str(text))


def cell_text(text: object) -> str:
    r"""A string cell a spreadsheet shows as text and never runs as a formula.

    Parameters
    ----------
    text : object
        The user's text.

    Returns
    -------
    str
        XML-safe, at most :data:`MAX_CELL_CHARACTERS` long, and prefixed with
        an apostrophe when it starts with one of :data:`FORMULA_PREFIXES`.

    Examples
    --------
    >>> cell_text("=HYPERLINK(1)"), cell_text("-2+3"), cell_text("plain")
    ("'=HYPERLINK(1)", "'-2+3", 'plain')
    """
    value = xml_text(text)
    if value.startswith(FORMULA_PREFIXES):
        value = "'" + value
    return value[:MAX_CELL_CHARACTERS]


def sheet_title(name: object, taken: set[str]) -> str:
    r"""A valid, unique worksheet name for a strategy (recorded in ``taken``).

    Parameters
    ----------
    name : object
        The strategy name.
    taken : set of str
        Names already used (compared case-insensitively); updated.

    Returns
    -------
    str
        At most 31 characters, without ``[]:*?/\``, not starting or ending
        with an apostrophe, made unique with a number.

    Examples
    --------
    >>> used = set()
    >>> sheet_title("a/b", used), sheet_title("A/B", used)
    ('a b', 'A B 2')
    """
    base = _SHEET_ILLEGAL.sub(" ", xml_text(name)).replace("\n", " ").strip("' ")
    base = base or "Strategy"
    candidate = base[:MAX_SHEET_TITLE].strip("' ") or "Strategy"
    number = 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" {number}"
        candidate = base[: MAX_SHEET_TITLE - len(suffix)].strip("' ") + suffix
    taken.add(candidate.casefold())
    return candidate


def markdown_text(text: object, *, inline: bool = True) -> str:
    r"""Text for Markdown: HTML and table pipes escaped, one line when inline.

    Parameters
    ----------
    text : object
        The user's text.
    inline : bool, default True
        Fold line breaks into spaces (table cells, headings).

    Returns
    -------
    str
        Safe Markdown.

    Examples
    --------
    >>> markdown_text("<b>x</b> | y")
    '&lt;b&gt;x&lt;/b&gt; \\| y'
    """
    value = xml_text(text).replace("<", "&lt;")
    value = value.replace(">", "&gt;").replace("|", "\\|")
    if inline:
        value = " ".join(value.split())
    return value


def latex_text(text: object) -> str:
    r"""Text for LaTeX with every special character escaped.

    Parameters
    ----------
    text : object
        The user's text.

    Returns
    -------
    str
        Safe LaTeX (one line).

    Examples
    --------
    >>> latex_text(r"50% of $x_1 & \input{y}")
    '50\\% of \\$x\\_1 \\& \\textbackslash{}input\\{y\\}'
    """
    value = " ".join(xml_text(text).split())
    return "".join(_LATEX_SPECIAL.get(char, char) for char in value)
