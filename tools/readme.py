"""Write README.md from nbs/index.ipynb without quarto: markdown cells as they are, code cells and their saved
outputs as fenced blocks, `#| hide` cells left out. `--check` only says whether README.md is current."""
import sys, re
from pathlib import Path
from fastcore.script import call_parse
from fastcore.nbio import read_nb

root = Path(__file__).resolve().parent.parent
header = "<!-- Generated from nbs/index.ipynb by `python tools/readme.py`; edit the notebook, not this file. -->\n\n"

def _directives(src): return dict(re.findall(r'^#\|\s*([\w-]+):?\s*(.*)$', src, flags=re.M))
def _code(src): return '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()

def _render_output(o):
    "Markdown outputs as they are; text outputs fenced"
    data = o.get('data', {})
    if 'text/markdown' in data: return ''.join(data['text/markdown']).strip()
    text = ''.join(o.get('text', '') if o.get('output_type') == 'stream' else data.get('text/plain', '')).rstrip()
    return f"```\n{text}\n```" if text.strip() else ''

def _render_cell(c):
    if c.cell_type == 'markdown': return c.source.strip()
    d = _directives(c.source)
    if 'hide' in d or d.get('echo') == 'false' and d.get('output') == 'false': return ''
    parts = [] if d.get('echo') == 'false' else [f"```python\n{_code(c.source)}\n```"]
    parts += [_render_output(o) for o in c.get('outputs', [])]
    return '\n\n'.join(p for p in parts if p)

def render_readme(nb_path=root/'nbs'/'index.ipynb'):
    "The README text for the notebook at `nb_path`"
    cells = [_render_cell(c) for c in read_nb(nb_path).cells]
    return header + '\n\n'.join(c for c in cells if c) + '\n'

@call_parse
def main(check:bool=False): # Only check that README.md is current; exit 1 if not
    readme, text = root/'README.md', render_readme()
    if not check: return readme.write_text(text)
    if not readme.exists() or readme.read_text() != text:
        sys.exit("README.md is out of date with nbs/index.ipynb: run `python tools/readme.py` and commit it.")
