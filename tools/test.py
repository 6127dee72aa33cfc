"Run every notebook's tests with nbdev, one line per notebook, closing with `N passed, N failed`."
import sys
from pathlib import Path
from fastcore.parallel import parallel
from fastcore.script import call_parse
from fastcore.xtras import working_directory
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.test import test_nb

@call_parse
def main(
    path:str=None, # A notebook or folder to test (default: all of `nbs/`)
    flags:str='', # Space-separated flags of cells that are skipped by default, e.g. "slow"
    n_workers:int=2, # Notebooks tested at once
):
    cfg = get_config()
    files = sorted(Path(f).absolute() for f in nbglob(path or cfg.nbs_path, as_path=True))
    with working_directory(cfg.nbs_path):
        results = parallel(test_nb, files, skip_flags=cfg.tst_flags.split(), force_flags=flags.split(), n_workers=n_workers,
                           basepath=cfg.config_path, cell_timeout=cfg.cell_timeout)
    for f,(ok,secs) in zip(files, results): print(f"{'passed' if ok else 'FAILED':6}  {f.name}  ({secs:.0f}s)")
    n_ok = sum(ok for ok,_ in results)
    print(f"{n_ok} passed, {len(files)-n_ok} failed")
    sys.exit(int(n_ok != len(files)))
