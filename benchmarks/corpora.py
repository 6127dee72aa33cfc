"""The five corpora × {vanilla RNN, LSTM, GRU}: validation loss, bits per char, accuracy, time and a sample of each.

Every run is the learner's real path, `char_dls` → `char_rnn_learner` → `fit_one_cycle`, at one documented size and
budget, the same for all fifteen runs so that only the cell and the corpus change:

* text: the first `--chars` characters of each corpus (300,000 by default), split 90/10 with the validation tail
  contiguous (270,000 training / 30,000 validation characters);
* model: one recurrent layer of `--n-hidden` units (128) with embedding input, no dropout; the same hidden size for
  all three cells, so the LSTM and GRU have about 4× and 3× the vanilla RNN's recurrent parameters (the textbook's
  comparison: the same state size, richer cells);
* budget: the same number of training characters for every cell, `fit_one_cycle(--epochs, lr)` = 24 epochs, 6.48 M
  characters, chosen so that the vanilla RNN has stopped improving: on Shakespeare (seed 42, lr 2e-2) its best
  validation loss after 12, 16, 24, 32 and 48 epochs of the same schedule is 1.5285, 1.5163, 1.5013, 1.4974 and
  1.4933 — doubling the budget from 24 epochs gains 0.008. bs 32, seq_len 100, gradients clipped at
  norm 0.5, the library's default random state resets (`StateResets(0.05)`), float32, one torch thread, once per
  seed (`--seeds`, 42, 1 and 2 by default; the table gives mean ± sd). Each cell trains at its own peak learning
  rate (`--lrs`): the best for that cell at this table's size and half its budget (12 epochs) on Shakespeare, seed
  42 (`SWEEP` below: RNN and GRU 2e-2, LSTM 5e-2), so that no cell loses for a learning rate chosen for another;
* reported: the best epoch's validation loss (nats/char) and bits per char (nats / ln 2), its accuracy (the share of
  characters whose most likely prediction is right), the context curve of the kept weights on the validation tail
  (`charrnn_fastai.memory`: the one-stream loss and the memory length), wall-clock training seconds (validation
  included), and a 300-character sample at temperature 0.8 (seed 0, starting after a newline);
* then one model (`--temp_corpus`'s LSTM) sampled at temperatures 0.2, 0.5, 0.8, 1.0 and 1.5, each after a newline.

Outputs, each written atomically: `benchmarks/results/corpora.md` (the table and the samples), `corpora.csv` (one
row per run, samples included) and `temperatures.md`. The trained models are saved as bundles (safetensors + JSON)
under `--bundles` (default: `~/.cache/charrnn_fastai/corpora`, outside the repository); the script prints where.

    CHARRNN_DATA=/path/to/corpora python benchmarks/corpora.py                # ~40 min a seed on one quiet CPU core
    python benchmarks/corpora.py --device cuda --threads 2                     # on a GPU machine
    python benchmarks/corpora.py --corpora shakespeare --archs lstm --epochs 1   # a quick look
    python benchmarks/corpora.py --corpora shakespeare --lrs 'rnn=3e-3 lstm=3e-3 gru=3e-3'   # one point of the sweep
    python benchmarks/corpora.py --seeds 1 --results /tmp/s1                   # runs are seeded: split them over processes,
    python benchmarks/corpora.py --parts '/tmp/s42 /tmp/s1 /tmp/s2'            # then join their tables
    python benchmarks/corpora.py --report-only                                  # rewrite corpora.md from corpora.csv
"""
import io, math, os, time, warnings
from pathlib import Path
import pandas as pd
import torch
from fastcore.script import call_parse
from fastai.torch_core import set_seed
from charrnn_fastai.corpora import load_corpus
from charrnn_fastai.data import char_dls
from charrnn_fastai.learner import char_rnn_learner
import charrnn_fastai.learn_generate # adds learn.generate
from charrnn_fastai.export import save_bundle, atomic_write
from charrnn_fastai.data import split_stream
from charrnn_fastai.memory import context_curve, memory_length, rise

CORPORA = ('shakespeare', 'nietzsche', 'anna_karenina', 'obama', 'trump')
ARCHS = ('rnn', 'lstm', 'gru')
ORDER = {name: i for i, name in enumerate(CORPORA + ARCHS)} # the table's order; seeds stay in the order run
TEMPERATURES = (0.2, 0.5, 0.8, 1.0, 1.5)
RESULTS = Path(__file__).parent/'results'
SWEEP = ('best validation loss on Shakespeare, seed 42, 12 epochs (`--corpora shakespeare --seeds 42 --epochs 12 --lrs CELL=LR`), '
         'at peak lr 1e-2 / 2e-2 / 3e-2 / 5e-2 / 8e-2: RNN 1.5490 / 1.5285 / 1.5362 / not run / not run, LSTM 1.5965 / '
         '1.5329 / 1.5277 / 1.5192 / 1.5261, GRU 1.4630 / 1.4529 / 1.4956 / not run / not run')

def train_one(text, arch, r):
    "Train `arch` on `text` with the settings `r`; the learner and the wall-clock seconds"
    set_seed(r['seed'], reproducible=True)
    dls = char_dls(text, bs=r['bs'], seq_len=r['seq_len'], device=r['device'])
    learn = char_rnn_learner(dls, arch=arch, n_hidden=r['n_hidden'], n_layers=r['n_layers'], progress=False)
    start = time.perf_counter()
    with learn.no_logging(): learn.fit_one_cycle(r['epochs'], r['lr'])
    return learn, time.perf_counter() - start

def sample(learn, temperature, n=300):
    "A seeded sample of `n` characters, starting after a newline"
    with warnings.catch_warnings():
        warnings.simplefilter('ignore') # the empty prime's note
        return learn.generate('', n=n, temperature=temperature, seed=0)

def result_row(corpus, arch, seed, learn, secs, valid_text):
    "One row of the table: the best epoch (the weights the learner kept), and the context curve on the validation tail"
    h = learn.history
    best = h.loc[h.valid_loss.idxmin()]
    curve = context_curve(learn, valid_text)
    return dict(corpus=corpus, arch=arch, seed=seed, params=sum(p.numel() for p in learn.model.parameters()),
                valid_loss=round(float(best.valid_loss), 4), bpc=round(float(best.valid_loss) / math.log(2), 4),
                accuracy=round(float(best.accuracy), 4), best_epoch=int(best.epoch) + 1, train_s=round(secs, 1),
                one_stream=round(float(curve.loss.iloc[-1]), 4), memory=memory_length(curve), rise=round(rise(curve), 4),
                sample=sample(learn, 0.8))

def fenced(text): return '```\n' + text.replace('```', "'''") + '\n```'

def verdict(df):
    "Where LSTM and GRU beat the vanilla RNN on validation loss, and where not"
    loss = df.pivot(index='corpus', columns='arch', values='valid_loss')
    gated = [a for a in ('lstm', 'gru') if a in loss.columns]
    if 'rnn' not in loss.columns or not gated: return '' # nothing to compare
    lose = [f"{c} ({a} {loss.loc[c, a]:.4f} ≥ rnn {loss.loc[c, 'rnn']:.4f})" for c in loss.index for a in gated
            if loss.loc[c, a] >= loss.loc[c, 'rnn']]
    if not lose: return f"{' and '.join(a.upper() for a in gated)} beat the vanilla RNN on validation loss on every corpus."
    return "**Where the vanilla RNN is not beaten:** " + '; '.join(lose) + "."

def md_table(df, places:dict|None=None):
    "`df` as a markdown table: numbers right-aligned, floats to 4 places (or `places[column]`), integers with thousands separators"
    places = places or {}
    def fmt(c, v): return f"{v:,}" if isinstance(v, int) else f"{v:.{places.get(c, 4)}f}" if isinstance(v, float) else str(v)
    right = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    lines = ['| ' + ' | '.join(df.columns) + ' |', '|' + '|'.join('---:' if r else '---' for r in right) + '|']
    return '\n'.join(lines + ['| ' + ' | '.join(fmt(c, v) for c, v in zip(df.columns, row)) + ' |' for row in df.astype(object).itertuples(index=False)])

def seed_means(df):
    "One row per corpus and cell: the mean ± sd over seeds of the losses, the median memory length"
    g = df.groupby(['corpus', 'arch'], sort=False)
    pm = lambda c: g[c].agg(lambda v: f"{v.mean():.4f} ± {v.std(ddof=1):.4f}" if len(v) > 1 else f"{v.mean():.4f}")
    return pd.DataFrame({'params': g.params.first(), 'seeds': g.seed.count(), 'valid loss (nats/char)': pm('valid_loss'),
                         'bits/char': pm('bpc'), 'one stream (nats/char)': pm('one_stream'),
                         'memory (chars)': g.memory.median().astype(int), 'training (s)': g.train_s.mean().round(1)}).reset_index()

def corpora_md(df, header):
    "The table of means over seeds, the verdict and the samples (the first seed's) as markdown"
    means = df.groupby(['corpus', 'arch'], sort=False)[['valid_loss']].mean().reset_index()
    parts = [f"# Five corpora × RNN, LSTM, GRU\n\n{header}\n", md_table(seed_means(df), {'training (s)': 1}),
             f"\n{verdict(means)}\n", "## Samples (temperature 0.8, 300 characters, first seed)\n"]
    parts += [f"### {row.corpus}, {row.arch}\n\n{fenced(row.sample)}\n" for row in df.drop_duplicates(['corpus', 'arch']).itertuples()]
    return '\n'.join(parts)

def temperatures_md(corpus, learn):
    "One model's samples at each temperature, side by side"
    cells = ' | '.join(f"<pre>{sample(learn, t)}</pre>".replace('\n', '<br>').replace('|', '&#124;') for t in TEMPERATURES)
    return (f"# Temperature\n\nThe {corpus} LSTM of `benchmarks/corpora.py`, 300 characters after a newline at each "
            f"temperature (seed 0). Low temperatures repeat the likeliest words; high ones invent spellings.\n\n"
            f"| {' | '.join(f'T = {t}' for t in TEMPERATURES)} |\n|{'---|' * len(TEMPERATURES)}\n| {cells} |\n")

def write_text(folder, name, text): atomic_write(Path(folder)/name, text.encode())

def write_report(df, header, folder)->str:
    "Write corpora.csv and corpora.md from the rows `df` to `folder`; the markdown without the samples"
    buf = io.StringIO(); df.to_csv(buf, index=False)
    write_text(folder, 'corpora.csv', buf.getvalue())
    md = corpora_md(df, header)
    write_text(folder, 'corpora.md', md)
    return md.split('## Samples')[0]

@call_parse
def main(corpora:str=' '.join(CORPORA), # Corpora to run, space-separated
         archs:str=' '.join(ARCHS), # Cells to run, space-separated
         chars:int=300_000, # Characters of each corpus used (its first ones)
         n_hidden:int=128, # Units in the recurrent layer, the same for every cell
         n_layers:int=1, # Recurrent layers
         bs:int=32, # Streams per batch
         seq_len:int=100, # Characters per BPTT step
         epochs:int=24, # Epochs of fit_one_cycle
         lrs:str='rnn=2e-2 lstm=5e-2 gru=2e-2', # Peak learning rate of each cell, `cell=lr` space-separated
         seeds:str='42 1 2', # Random seeds, space-separated: each cell runs once per seed
         threads:int=1, # torch threads
         device:str=None, # Where to train: 'cpu', 'cuda'; default: fastai's default device
         temp_corpus:str='shakespeare', # The corpus whose LSTM is sampled at several temperatures
         bundles:str=str(Path.home()/'.cache'/'charrnn_fastai'/'corpora'), # Where the trained models are saved (bundles)
        results:str=str(RESULTS), # Where corpora.md, corpora.csv and temperatures.md go
        report_only:bool=False, # Train nothing: rewrite corpora.md from the corpora.csv in `results` (after changing the report's text)
        parts:str=None, # Train nothing: join the corpora.csv of these folders (runs split over processes) into `results`
        ):
    "Train a vanilla RNN, an LSTM and a GRU per corpus and seed at one budget; write corpora.md, corpora.csv and temperatures.md (see the module docstring)"
    torch.set_num_threads(threads)
    r = dict(n_hidden=n_hidden, n_layers=n_layers, bs=bs, seq_len=seq_len, epochs=epochs, device=device)
    lr = {a: float(v) for a, v in (o.split('=') for o in lrs.split())}
    n_train, done = chars - chars // 10, None
    if report_only or parts: # the runs are done: read them, and name their seeds in the header
        tables = [pd.read_csv(Path(f)/'corpora.csv', keep_default_na=False) for f in (parts or results).split()]
        done = pd.concat(tables).sort_values(['corpus', 'arch'], key=lambda c: c.map(ORDER.get), kind='stable')
        done, seeds = done.reset_index(drop=True), ' '.join(map(str, done.seed.unique()))
    header = (f"The first {chars:,} characters of each corpus, split 90/10 (contiguous validation tail); {n_layers}×{n_hidden} "
              f"layer, embedding input, no dropout; bs {bs}, seq_len {seq_len}, `fit_one_cycle({epochs}, lr)`: every cell sees "
              f"the same {epochs * n_train / 1e6:.2f} M training characters; lr {', '.join(f'{a} {v:g}' for a, v in lr.items())} "
              f"(each cell's best in a sweep: {SWEEP}), gradients clipped at 0.5, the default random state resets (p = 0.05), float32, {threads} torch "
              f"thread(s), seeds {seeds}, on {os.cpu_count()} shared CPU cores. Validation "
              f"loss and accuracy of the best epoch (mean ± sd over the seeds); 'one stream' is the whole validation tail read "
              f"with the state never reset, and 'memory' the smallest k of its context curve within 0.01 nats/char of the "
              f"minimum (`charrnn_fastai.memory`); training time is wall-clock, validation included. "
              f"Made by `python benchmarks/corpora.py`. The machine is shared: "
              f"training times are wall-clock under whatever else was running (the script prints the load average after each run).")
    if done is not None: return print(write_report(done, header, results))
    print(header, f"\nBundles go to {bundles}", flush=True)
    rows, start = [], time.perf_counter()
    for corpus in corpora.split():
        text = load_corpus(corpus)[:chars]
        for seed in map(int, seeds.split()):
            for arch in archs.split():
                learn, secs = train_one(text, arch, {**r, 'lr': lr[arch], 'seed': seed})
                rows.append(result_row(corpus, arch, seed, learn, secs, split_stream(text)[1]))
                save_bundle(learn, Path(bundles)/f'{corpus}_{arch}_{seed}', corpus=corpus)
                print(f"{corpus:14} {arch:5} seed {seed:3} valid_loss {rows[-1]['valid_loss']:.4f}  one stream "
                      f"{rows[-1]['one_stream']:.4f}  memory {rows[-1]['memory']:6,}  {secs:6.1f} s  "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
                if (corpus, arch, seed) == (temp_corpus, 'lstm', int(seeds.split()[0])):
                    write_text(results, 'temperatures.md', temperatures_md(corpus, learn))
                table = write_report(pd.DataFrame(rows), header, results)
    print(f"\n{table}\nAll runs: {time.perf_counter() - start:.0f} s. Results in {results}; bundles in {bundles}.")
