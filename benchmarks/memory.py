"""Does the default model's memory help on unseen text, whatever the machine? Context curves across seeds and threads.

For every (seed, threads, precision) asked for, the script runs the README's main command as a user would,
`charrnn-train --seed S --threads T --precision P --out DIR` (tiny Shakespeare, the default 2×256 LSTM and schedule),
then reads the first 100,000 characters of the validation tail with the model's state reset every k characters,
k = 10, 30, 100, … 30,000 and 100,000 (one stream), every character scored at every k (`context_curve`). It prints
and writes, one row per run: the learner's validation loss (32 fresh streams of 3,485 characters), the curve, the
memory length (the smallest k within 0.01 nats/char of the curve's minimum) and the rise (the one-stream loss minus
the minimum: 0 when the memory never turns against the model; the target is <= 0.01).

bf16 runs only where the CPU computes in bfloat16 natively (`native_bf16`); elsewhere the script says it skipped it.
Runs are seeded and deterministic for a given thread count and precision, so `--jobs 2` (two runs at once) changes
the seconds, not the losses.

    CHARRNN_DATA=/path/to/corpora python benchmarks/memory.py --jobs 2     # 3 seeds × 1, 2 threads × precisions
    python benchmarks/memory.py --seeds '42' --threads '2'                # one run
    python benchmarks/memory.py --bundles models/shakespeare other/bundle  # only the curves of trained bundles
    python benchmarks/memory.py --clock models/shakespeare                 # has the model learnt a clock?
    python benchmarks/memory.py --only-done                                # the table of the finished runs only

The clock test (`--clock`): a model trained with every epoch's streams starting at the same characters (fastai's
`LMDataLoader` on one text; `char_dls(text, shuffle=False)` here) can count characters since the start of its stream
and memorise what comes where. The test reads 10,000 characters of a training stream (bs 32) twice from the zero
state: from the stream's own start, and from 11,111 characters later (still 8,889 characters of context before the
scored ones). A model without a clock scores both alike; one with a clock scores the first far better.

Outputs (atomically): `benchmarks/results/memory.csv` (one row per run) and `memory.md`; with `--bundles`,
`memory_bundles.csv`/`.md`. Bundles go under `--runs` (default `~/.cache/charrnn_fastai/memory`); a run whose bundle
is there already is read, not trained again, so an interrupted table finishes where it stopped. `train_s` is the
training time the bundle records (wall-clock, validation included, under whatever else the machine was running).
"""
import os, subprocess, sys, time
from pathlib import Path
import pandas as pd
import torch
from fastcore.script import call_parse
from charrnn_fastai.corpora import load_corpus
from charrnn_fastai.data import split_stream
from charrnn_fastai.export import load_bundle
from charrnn_fastai.fastai_internals import native_bf16
from charrnn_fastai.memory import context_curve, context_losses, memory_length, rise
from charrnn_fastai.vocab import atomic_write

RESULTS = Path(__file__).parent/'results'
N_CHARS = 100_000

def curve_row(bundle:Path)->dict:
    "The context curve of `bundle` on the first 100,000 validation characters, flattened into one row"
    b = load_bundle(bundle)
    c = context_curve(b, split_stream(load_corpus('shakespeare'))[1][:N_CHARS + 1])
    return {'valid_loss': b.info['valid_loss'], 'train_s': round(b.info['summary']['train_seconds']),
            **{f'k={k:,}': v for k, v in zip(c.k, c.loss)}, 'memory': memory_length(c), 'rise': rise(c)}

def clock_test(bundle:Path, rows=(3, 17), bs:int=32)->pd.DataFrame:
    "Characters 20,000 to 30,000 of training streams `rows`, read from the stream's start and from 11,111 later"
    b, (train, _) = load_bundle(bundle), split_stream(load_corpus('shakespeare'))
    bl = (len(train) - 1) // bs
    def loss(start, row): return context_losses(b, train[start:row * bl + 30_001], row * bl + 30_000 - start)[-10_000:].mean()
    return pd.DataFrame([{'bundle': str(bundle), 'row': r, 'from the stream start': loss(r * bl, r),
                          'from 11,111 later': loss(r * bl + 11_111, r)} for r in rows])

def train_cmd(seed:int, threads:int, precision:str, out:Path)->list:
    "The README's main command with the run's seed, threads and precision"
    exe = Path(sys.executable).with_name('charrnn-train')
    return [str(exe), '--seed', str(seed), '--threads', str(threads), '--precision', precision, '--out', str(out)]

def run_all(runs:list, jobs:int, folder:Path, only_done:bool=False)->list:
    "Train every `(seed, threads, precision)` of `runs`, `jobs` at a time, unless its bundle is there; their folders"
    out_of = lambda r: folder/f"seed{r[0]}_t{r[1]}_{r[2]}"
    pending = [r for r in runs if not (out_of(r)/'bundle.json').is_file()]
    if only_done: runs, pending = [r for r in runs if r not in pending], []
    if len(pending) < len(runs): print(f"Reading {len(runs) - len(pending)} finished run(s) from {folder}.")
    active = {}
    while pending or active:
        while pending and len(active) < jobs:
            r = pending.pop(0)
            out = out_of(r)
            log = open(f"{out}.log", 'w')
            active[r] = subprocess.Popen(train_cmd(*r, out), stdout=log, stderr=subprocess.STDOUT)
            print(f"started seed {r[0]}, {r[1]} thread(s), {r[2]}: log {out}.log", flush=True)
        for r, p in list(active.items()):
            if p.poll() is None: continue
            del active[r]
            if p.returncode: sys.exit(f"charrnn-train failed for {r}: see {out_of(r)}.log")
        time.sleep(1)
    return [(r, out_of(r)) for r in runs]

def write_results(df:pd.DataFrame, name:str, note:str):
    "Write `df` as results/NAME.csv and a markdown table with `note` above it"
    RESULTS.mkdir(exist_ok=True)
    atomic_write(RESULTS/f'{name}.csv', df.to_csv(index=False).encode())
    fmt = df.copy()
    for c in fmt.columns:
        if fmt[c].dtype == float: fmt[c] = fmt[c].map(lambda v: f'{v:+.4f}' if c == 'rise' else f'{v:.4f}')
    table = [' | '.join(map(str, r)) for r in [fmt.columns, ['---'] * len(fmt.columns), *fmt.values.tolist()]]
    atomic_write(RESULTS/f'{name}.md', (note + '\n\n' + '\n'.join(f'| {r} |' for r in table) + '\n').encode())
    print(fmt.to_string(index=False))

@call_parse
def main(seeds:str='42 1 2', # Seeds, space-separated
         threads:str='1 2', # torch thread counts, space-separated
         precisions:str='fp32 bf16', # Precisions; bf16 is skipped where the CPU has no native bfloat16
         jobs:int=1, # Runs at once
         runs:str=None, # Folder for the bundles; default ~/.cache/charrnn_fastai/memory
         bundles:str=None, # Instead of training: space-separated bundle folders to read the curves of
         clock:str=None, # Instead of training: space-separated bundle folders to run the clock test on
         only_done:bool=False, # Train nothing: the table of the runs whose bundles are there
        ):
    torch.set_num_threads(1)
    machine = f"{os.cpu_count()} CPU cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    if clock: return print(pd.concat([clock_test(Path(b)) for b in clock.split()]).to_string(index=False))
    if bundles:
        rows = [{'bundle': b, **curve_row(Path(b))} for b in bundles.split()]
        return write_results(pd.DataFrame(rows), 'memory_bundles', f"Context curves of given bundles ({machine}).")
    precs = [p for p in precisions.split() if p != 'bf16' or native_bf16(torch.device('cpu'))]
    if len(precs) < len(precisions.split()): print("Skipping bf16: this CPU has no native bfloat16 (AVX-512 BF16 or AMX).")
    folder = Path(runs or Path.home()/'.cache'/'charrnn_fastai'/'memory')
    folder.mkdir(parents=True, exist_ok=True)
    grid = [(int(s), int(t), p) for p in precs for t in threads.split() for s in seeds.split()]
    rows = [{'seed': s, 'threads': t, 'precision': p, **curve_row(out)} for (s, t, p), out in run_all(grid, jobs, folder, only_done)]
    write_results(pd.DataFrame(rows), 'memory',
                  f"`python benchmarks/memory.py{' --only-done' if only_done else f' --jobs {jobs}'}` ({machine} at the end): `charrnn-train` with each seed, "
                  f"thread count and precision; the learner's valid_loss (32 fresh streams), then the loss on the first "
                  f"{N_CHARS:,} validation characters with the state reset every k characters (nats/char).")
