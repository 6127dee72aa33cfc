"""Does the shipped model pay off? Fine-tuning it vs training the same architecture from scratch, at equal time.

For each text and seed the script makes one `DataLoaders` (the union of the model's and the text's characters, the
text's last 10% for validation, batches of 32 streams × 100 characters) and trains two learners on it for the same
seconds of training batches (`TimeBudget`; validation not counted):

- **fine-tune**: `char_rnn_learner_from(dls, bundle)`, frozen (only the embedding and the decoder train) for the first
  --freeze-seconds, then everything, with discriminative learning rates `slice(lr / --lr-mult, lr)`. The defaults
  (no freezing, one rate) are what the fine-tuning notebook's experiment favours for text unlike the pretraining;
  `--freeze-seconds 10 --lr-mult 10` tries fastai's way;
- **scratch**: `char_rnn_learner(dls, **arch_options(bundle's config))`, fresh weights, learning rate --lr-scratch.

Both use Adam at constant learning rates (no schedule), so each point of a curve is what a user stopping there gets.
Each learner's validation loss (nats/char, the whole validation tail, state carried) is measured when its training time
passes each of --points seconds. The texts (each its first --n-chars characters):

- `obama`, `trump`: corpora of the registry the pretrained model never read;
- `python`: the standard library's own modules (`*.py` beside `os.py`, sorted by name), source code with characters
  the model has never seen (`{`, `}`, `|`, `~`, ...).

The issue's target: fine-tuning at least 0.20 nats/char better than scratch after 60 s, and still ahead at 300 s.

    CHARRNN_DATA=/path/to/corpora python benchmarks/fine_tune.py                    # ~35 min: 3 texts × 2 × 300 s
    python benchmarks/fine_tune.py --seeds '0 1 2'                                    # three seeds, ~1 h 45 min
    python benchmarks/fine_tune.py --points '2 5' --texts obama --bundle /tmp/tiny    # a smoke test, ~1 min

Seeds can run in separate processes (each needs a core of its own for its seconds to mean the same), then be joined:

    python benchmarks/fine_tune.py --seeds 0 --threads 1 --csv /tmp/ft0.csv &
    python benchmarks/fine_tune.py --seeds 1 --threads 1 --csv /tmp/ft1.csv
    python benchmarks/fine_tune.py --parts '/tmp/ft0.csv /tmp/ft1.csv'

Outputs (atomically): `benchmarks/results/fine_tune_runs.csv` (`--csv`: one row per text, seed, method and point),
`fine_tune.csv` and `fine_tune.md` (the mean over seeds, both curves side by side, the gain and its spread).
"""
import os, platform, time
from pathlib import Path
import pandas as pd
import torch
import torch.nn.functional as F
from fastcore.basics import noop
from fastcore.script import call_parse
from fastai.torch_core import set_seed
from charrnn_fastai.core import atomic_write
from charrnn_fastai.corpora import load_corpus
from charrnn_fastai.data import char_dls
from charrnn_fastai.export import load_bundle
from charrnn_fastai.finetune import TimeBudget, arch_options, char_rnn_learner_from, union_vocab
from charrnn_fastai.generate import evaluating
from charrnn_fastai.learner import EpochLines, char_rnn_learner
from memory import write_results

def python_source(n:int)->str:
    "The first `n` characters of the standard library's modules, `*.py` beside `os.py` sorted by name"
    files = sorted(Path(os.__file__).parent.glob('*.py'))
    text = ''
    for f in files:
        text += f.read_text(encoding='utf-8', errors='replace') + '\n'
        if len(text) >= n: break
    return text[:n]

def bench_text(name:str, n:int)->str:
    "The first `n` characters of a corpus of the registry, or of the standard library's source for 'python'"
    return python_source(n) if name == 'python' else load_corpus(name)[:n]

def valid_loss(model, dl)->float:
    "Cross-entropy of `model` over all of `dl` (nats/char), its state carried from zero; its own state is kept"
    hidden, total, n = model.hidden, 0., 0
    model.reset()
    with evaluating(model):
        for x, y in dl:
            total += F.cross_entropy(model(x).flatten(0, 1).float(), y.flatten(), reduction='sum').item()
            n += y.numel()
    model.hidden = hidden
    return total / n

class Curve(TimeBudget):
    "`TimeBudget` up to the last of `points` seconds, measuring the validation loss as training time passes each"
    def __init__(self, points:list, unfreeze_at:float|None=None):
        super().__init__(max(points))
        self.points, self.unfreeze_at, self.rows = sorted(points), unfreeze_at, []
    def after_batch(self):
        super().after_batch()
        if self.unfreeze_at is not None and self.spent >= self.unfreeze_at:
            self.learn.unfreeze(); self.unfreeze_at = None
        while len(self.rows) < len(self.points) and self.spent >= self.points[len(self.rows)]:
            self.rows.append(dict(seconds=self.points[len(self.rows)], trained_s=round(self.spent, 1), chars=self.chars,
                                  valid_loss=valid_loss(self.model, self.dls.valid)))

def run(method:str, dls, bundle, points:list, seed:int, lr:float, lr_mult:float, freeze_seconds:float)->list:
    "The validation curve of one learner"
    set_seed(seed, reproducible=True)
    opts = dict(keep_best=False, progress=False)
    if method == 'fine-tune':
        learn = char_rnn_learner_from(dls, bundle, **opts)
        if freeze_seconds: learn.freeze()
        lr, curve = slice(lr / lr_mult, lr), Curve(points, unfreeze_at=freeze_seconds or None)
    else: learn, curve = char_rnn_learner(dls, **arch_options(bundle.model.config), **opts), Curve(points)
    learn.remove_cb(EpochLines); learn.logger = noop # the curve is the report
    learn.fit(10_000, lr, cbs=curve)
    return curve.rows

def train(bundle, texts, n_chars, points, seeds, lr, lr_mult, freeze_seconds, lr_scratch, bs, seq_len)->list:
    "Both curves for every text and seed: one row per text, seed, method and point"
    b, pts = load_bundle(bundle), [float(p) for p in points.split()]
    c = b.model.config
    print(f"{bundle}: {c['n_layers']}×{c['n_hidden']} {c['cell']}, {len(b.vocab)} characters; "
          f"{torch.get_num_threads()} threads", flush=True)
    rows = []
    for i, name in enumerate(texts.split()):
        text = bench_text(name, n_chars)
        dls = char_dls(text, bs=bs, seq_len=seq_len, vocab=union_vocab(b.vocab, text))
        print(f"{name}: {len(text):,} characters, {len(dls.vocab) - len(b.vocab)} the model has not seen", flush=True)
        if i == 0: # torch's first batches in a process are slow (one-time set-up): pay for them untimed
            for method in ('scratch', 'fine-tune'): run(method, dls, b, [min(pts)], 0, lr, lr_mult, 0)
        for seed in map(int, seeds.split()):
            for method in ('scratch', 'fine-tune'):
                start = time.perf_counter()
                rate = lr if method == 'fine-tune' else lr_scratch
                curve = run(method, dls, b, pts, seed, rate, lr_mult, freeze_seconds)
                rows += [dict(text=name, seed=seed, method=method, **r) for r in curve]
                shown = ', '.join(f"{r['seconds']:g} s {r['valid_loss']:.4f}" for r in curve)
                print(f"  seed {seed} {method:9}: {shown}  ({time.perf_counter() - start:.0f} s wall)", flush=True)
    return rows

@call_parse
def main(bundle:str='pretrained', # The pretrained bundle: a folder, or a shipped bundle's name
         texts:str='obama trump python', # Registry corpora, or 'python' (the standard library's source)
         n_chars:int=100_000, # Characters of each text
         points:str='15 30 60 120 300', # Seconds of training at which to measure; the last is the budget
         seeds:str='0', # Seeds, space-separated
         lr:float=3e-3, # Fine-tuning: the learning rate of the embedding and decoder (the top group)
         lr_mult:float=1., # Fine-tuning: the bottom layer's learning rate is lr / lr_mult (fastai's fine_tune: 100)
         freeze_seconds:float=0., # Fine-tuning: train only the embedding and decoder for this long first
         lr_scratch:float=3e-3, # From scratch: the learning rate
         bs:int=32, # Streams per batch
         seq_len:int=100, # Characters per BPTT step
         threads:int=0, # CPU threads for torch; 0: torch's default
         csv:str=str(Path(__file__).parent/'results'/'fine_tune_runs.csv'), # Where every seed's rows go
         parts:str=None, # Train nothing: join these CSVs (seeds split over processes) into the table
        ):
    "Validation loss against training seconds, fine-tuning vs from scratch, written to benchmarks/results/fine_tune.*"
    if threads: torch.set_num_threads(threads)
    if parts:
        df = pd.concat([pd.read_csv(f) for f in parts.split()], ignore_index=True)
        seeds = ' '.join(map(str, df.seed.unique()))
    else:
        df = pd.DataFrame(train(bundle, texts, n_chars, points, seeds, lr, lr_mult, freeze_seconds, lr_scratch, bs, seq_len))
        atomic_write(Path(csv), df.to_csv(index=False).encode())
    runs = df.pivot_table(index=['text', 'seconds', 'seed'], columns='method', values='valid_loss', sort=False)
    runs['gain'] = runs['scratch'] - runs['fine-tune']
    by = runs.groupby(level=['text', 'seconds'], sort=False)
    mean = by.mean().reset_index().assign(gain_sd=by.gain.std(ddof=1).values) # sd over seeds: NaN for one seed
    mean['seconds'] = mean.seconds.map('{:g}'.format)
    load = ' '.join(f'{l:.2f}' for l in os.getloadavg())
    note = (f"`python benchmarks/fine_tune.py --seeds '{seeds}' --points '{points}'` ({platform.machine()}, "
            f"{threads or torch.get_num_threads()} threads a process, load average {load} at the end): "
            f"validation loss (nats/char) after `seconds` of training, mean over seeds; `gain` = scratch − fine-tune, "
            f"`gain_sd` its standard deviation over the seeds "
            f"(the target: ≥ 0.20 at 60 s, > 0 at 300 s). Fine-tuning {bundle}: frozen for {freeze_seconds:g} s, "
            f"lr slice({lr / lr_mult:g}, {lr:g}); scratch lr {lr_scratch:g}; bs {bs}, seq_len {seq_len}, "
            f"first {n_chars:,} characters of each text, its last 10% for validation.")
    write_results(mean[['text', 'seconds', 'scratch', 'fine-tune', 'gain', 'gain_sd']], 'fine_tune', note)
