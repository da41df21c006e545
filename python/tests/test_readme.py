"""The README's Python snippets run as pasted."""

import re

from conftest import ROOT


def test_readme_python_snippets_run():
    text = (ROOT / "README.md").read_text()
    snippets = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(snippets) >= 2
    for snippet in snippets:
        exec(compile(snippet, "README.md", "exec"), {})
