"""How low the validation loss gets on tiny Shakespeare within a wall-clock budget: the documented recipes.

Tiny Shakespeare with the standard split (the first 1,003,854 characters train, the last 111,540 validate), loss in
nats per character on the whole validation tail. The script trains one recipe with `fit_one_cycle` for each seed
(`--seeds`), prints one line per epoch (validation loss and bits per character against wall-clock seconds, training
and validation included) and the best validation loss with the time it took, then the seeds' mean and spread.
The budget (`--budget`, 600 s by default) is a hard stop: if the next epoch would end past it (judged by the last
epoch's time), training stops at the end of this one.

Recipes (`--recipe`):

* `cpu` (the default): a 2×256 LSTM, embedding input, dropout 0.15 on each layer's output, bs 32, seq_len 100,
  `fit_one_cycle(16, 4e-3)`, gradients clipped at norm 0.5, fastai's Adam (wd 0.01), bfloat16 autocast on the CPU.
  Sixteen epochs of 31-38 s on a 2-core AMD EPYC (Zen 4, native bfloat16). Measured on the shared 2-core machine
  (load average 2-3 from other jobs): best validation loss 1.4523 nats/char (2.095 bpc) at epoch 15 of 16, after
  520 s; the whole run 554 s (9.2 min). What got it there, against the calibration run (the same LSTM, float32, bs 64,
  no dropout, `fit_one_cycle(10, 3e-3)`: 1.480 in 9.8 min): bfloat16 autocast trains this LSTM about 1.6× as fast on
  a CPU with native bfloat16 (16 epochs instead of 10); bs 32 runs as many characters per second as bs 64 on a CPU
  and makes twice the updates; dropout 0.15 pays for the extra fitting. (The same recipe in float32 with dropout 0.1,
  `fit_one_cycle(10, 4e-3)`: 1.4775 in 8.9 min.) On a CPU without native bfloat16 autocast is slower, not faster:
  there, use `cpu_fp32`.
* `cpu_fp32`: the `cpu` recipe in float32 for CPUs without native bfloat16: 11 epochs at peak lr 8e-3, with AWD-LSTM's
  momentum cycle (Adam's beta1 0.8 → 0.7 → 0.8; fastai's default is 0.95 → 0.85 → 0.95). On a 2-core AMD EPYC with AVX2
  (no native bfloat16), quiet, 2 threads: 11 epochs of 49-57 s: 1.4465 / 1.4455 / 1.4503 nats/char with seeds 42 / 1 / 2
  (mean 1.4474 ± 0.0026), best at 538-570 s, each run over by 594 s (`--recipe cpu_fp32 --threads 2 --seeds '42 1 2'`);
  with fastai's momentum the same run gave 1.4572 / 1.4494 / 1.4612 (mean 1.4559 ± 0.0060). What was tried, seed 42, against that 1.4572 (the logs are
  in results/quality.md): beta1 0.8 → 0.7 → 0.8 1.4462 (at one thread), 0.7 → 0.6 → 0.7 1.4518, 0.8 → 0.7 → 0.8 with
  dropout 0.2 1.4601; peak lr 4e-3 1.4686, 1.2e-2 1.4650; seq_len 50 (twice the updates) 1.4631; dropout 0.1 1.4543;
  weight dropout 0.2 1.4749 (and 8% slower); a 3×192 LSTM for 13 epochs 1.4732. A 2×256 GRU (lr 4e-3) was cut by the
  budget at epoch 8 of 12, at 1.4850, in epochs of 60-76 s; measured alone the GRU is as fast as the LSTM here
  (about 20,000 characters a second each at bs 32, 2 threads), so that run shared the machine.
* `quick`: the `cpu` recipe for 4 epochs, for the README's quick start: 1.630 nats/char in 140 s (2.3 min) here.
* `gpu`: a 3×512 LSTM, dropout 0.25, bs 128, seq_len 200, `fit_one_cycle(30, 3e-3)`, bf16 autocast: aims at
  ≤ 1.40 nats per character on one GPU; run it with `--budget 3600` where a GPU is available (not run yet).

Any field of a recipe can be overridden from the command line, e.g. `--epochs 6 --lr 5e-3`; `--weight-dropout`,
`--input-dropout`, `--tie-weights` and `--wd` set the library's other regularisers, `--moms '0.95 0.85 0.95'` the
momentum cycle.

`--gpt 'nanogpt wide'` then trains small transformers (`gpt.py`: nanoGPT's model and training loop in brief) for the
same wall-clock budget on the same split, evaluated on the whole validation tail, and prints the recurrent model's
validation loss at each of its epoch ends beside the best each transformer had reached by then, and last ('end')
each model's best within the whole budget. `nanogpt` is nanoGPT's own CPU configuration (4 layers, 4 heads, 128 wide,
block 64, bs 12); `wide` is ours (192 wide, block 128, bs 32).

    CHARRNN_DATA=/path/to/corpora python benchmarks/quality.py                 # the CPU recipe, under 10 minutes
    python benchmarks/quality.py --recipe quick                               # about 2.5 minutes
    python benchmarks/quality.py --recipe cpu_fp32 --threads 2 --seeds '42 1 2'   # without native bf16: three seeds
    python benchmarks/quality.py --out /tmp/cpu && python benchmarks/memory.py --bundles /tmp/cpu/42   # and its context curve
    python benchmarks/quality.py --recipe gpu --budget 3600                   # on a GPU machine
    python benchmarks/quality.py --recipe cpu_fp32 --threads 2 --gpt 'nanogpt wide'  # then two transformers

The machine may be shared: the script prints the load average before and after, and the seconds per epoch, so a busy
machine shows. Epoch counts are fixed, so the same seed gives the same losses on the same hardware, however busy;
only the clock varies.
"""
import math, os, time
import torch
from fastcore.script import call_parse
from fastai.callback.core import Callback
from fastai.learner import CancelFitException
from fastai.torch_core import set_seed, default_device
from charrnn_fastai.corpora import load_corpus
from charrnn_fastai.data import char_dls, encode_stream, split_stream
from charrnn_fastai.learner import char_rnn_learner
from charrnn_fastai.export import save_bundle

RECIPES = {
    'cpu':   dict(arch='lstm', n_hidden=256, n_layers=2, dropout=0.15, bs=32, seq_len=100, epochs=16, lr=4e-3, clip=0.5, bf16=True),
    'cpu_fp32': dict(arch='lstm', n_hidden=256, n_layers=2, dropout=0.15, bs=32, seq_len=100, epochs=11, lr=8e-3, clip=0.5, bf16=False,
                     moms=(0.8, 0.7, 0.8)),
    'quick': dict(arch='lstm', n_hidden=256, n_layers=2, dropout=0.15, bs=32, seq_len=100, epochs=4, lr=4e-3, clip=0.5, bf16=True),
    'gpu':   dict(arch='lstm', n_hidden=512, n_layers=3, dropout=0.25, bs=128, seq_len=200, epochs=30, lr=3e-3, clip=0.5, bf16=True),
}

EXTRAS = ('weight_dropout', 'input_dropout', 'tie_weights', 'wd') # more of the library's regularisers, 0 unless set

class WallClock(Callback):
    "Print validation loss against wall-clock seconds at each epoch end; stop when the next epoch would end past `budget`"
    order = 100 # after the learner has recorded the epoch
    def __init__(self, budget): self.budget = budget
    def before_fit(self): self.start, self.last, self.points = time.perf_counter(), 0., []
    def after_epoch(self):
        now = time.perf_counter() - self.start
        row = self.learn.history.iloc[-1]
        self.points.append((now, row.valid_loss))
        print(f"{now:8.1f} s  epoch {self.epoch + 1:>3}/{self.n_epoch}  train_loss {row.train_loss:.4f}  "
              f"valid_loss {row.valid_loss:.4f}  bpc {row.bpc:.4f}  ({now - self.last:.1f} s)", flush=True)
        if self.epoch + 1 < self.n_epoch and now + (now - self.last) > self.budget:
            print(f"Stopping: another epoch would end past the {self.budget:.0f} s budget.")
            raise CancelFitException()
        self.last = now

def load_average(): return ' '.join(f'{x:.2f}' for x in os.getloadavg())

def race(rnn_points, text, vocab, budget, configs, seed):
    "Train each GPT of `configs` for `budget` seconds on the same split; print both curves side by side"
    from gpt import CONFIGS, train_gpt
    ids = [torch.as_tensor(part, dtype=torch.long) for part in split_stream(encode_stream(vocab, text))]
    curves = {c: train_gpt(*ids, len(vocab), budget, **CONFIGS[c], seed=seed) for c in configs}
    at = lambda pts, t: min((l for s, l in pts if s <= t), default=float('nan')) # the best loss reached by time t
    print(f"\n{'seconds':>8} {'recurrent':>10} " + ' '.join(f"{c:>10} {'gap':>7}" for c in configs))
    row = lambda label, t: print(f"{label:>8} {at(rnn_points, t):10.4f} " + ' '.join(
        f"{at(p, t):10.4f} {at(p, t) - at(rnn_points, t):+7.4f}" for p in curves.values()))
    for t, _ in rnn_points: row(f'{t:.0f}', t)
    row('end', math.inf) # each model's best within the whole budget

def train_recipe(r:dict, seed:int, budget:float):
    "Train recipe `r` with `seed` under the `budget`; print its epochs and its best; return the learner and the clock"
    set_seed(seed, reproducible=True)
    text = load_corpus('shakespeare')
    dls = char_dls(text, bs=r['bs'], seq_len=r['seq_len'])
    learn = char_rnn_learner(dls, arch=r['arch'], n_hidden=r['n_hidden'], n_layers=r['n_layers'], dropout=r['dropout'],
                             clip=r['clip'], bf16=r['bf16'], progress=False, **{k: r[k] for k in EXTRAS if k in r})
    n_params = sum(p.numel() for p in learn.model.parameters())
    print(f"\nseed {seed}: {n_params:,} parameters on {default_device()}, {torch.get_num_threads()} threads; "
          f"{dls.train.n_chars:,} training / {dls.valid.n_chars:,} validation characters; load average {load_average()}")
    start = time.perf_counter()
    clock = WallClock(budget)
    with learn.no_logging(): learn.fit_one_cycle(r['epochs'], r['lr'], moms=r.get('moms'), cbs=clock)
    secs = time.perf_counter() - start
    h = learn.history
    best = h.valid_loss.idxmin()
    print(f"seed {seed}: best valid_loss {h.valid_loss[best]:.4f} nats/char ({h.valid_loss[best] / math.log(2):.4f} bpc) "
          f"at epoch {best + 1}, {h.seconds[best]:.0f} s; {len(h)} epochs in {secs:.0f} s ({secs / 60:.1f} min); "
          f"load average {load_average()}")
    return learn, clock

@call_parse
def main(recipe:str='cpu', # 'cpu', 'cpu_fp32', 'quick' or 'gpu'
         budget:float=600., # Wall-clock seconds for training and validation
         arch:str=None, n_hidden:int=None, n_layers:int=None, dropout:float=None, bs:int=None, seq_len:int=None,
         epochs:int=None, lr:float=None, clip:float=None, # Override the recipe's fields
         weight_dropout:float=None, input_dropout:float=None, tie_weights:bool=False, wd:float=None, # and set these
         moms:str=None, # Adam's beta1 through the cycle, e.g. '0.8 0.7 0.8' (AWD-LSTM's); default fastai's 0.95 0.85 0.95
         fp32:bool=False, # Train in float32, without bfloat16 autocast (for CPUs without native bfloat16)
         seeds:str='42', # Random seeds, space-separated: one run each, then their mean and spread
         threads:int=0, # torch threads; 0 leaves torch's default
         out:str=None, # Save each trained model as a bundle in OUT/SEED (its context curve: benchmarks/memory.py --bundles OUT/SEED)
         gpt:str='', # Then train these transformers (`gpt.CONFIGS`, space-separated, e.g. 'nanogpt wide') for the same budget
        ):
    given = dict(arch=arch, n_hidden=n_hidden, n_layers=n_layers, dropout=dropout, bs=bs, seq_len=seq_len, epochs=epochs,
                 lr=lr, clip=clip, weight_dropout=weight_dropout, input_dropout=input_dropout, tie_weights=tie_weights, wd=wd)
    if moms: given['moms'] = tuple(float(m) for m in moms.split())
    r = {**RECIPES[recipe], **{k: v for k, v in given.items() if v is not None and v is not False}} # flags left off stay out
    if fp32: r['bf16'] = False
    if threads: torch.set_num_threads(threads)
    print(f"recipe {recipe}: {r}")
    runs = {int(s): train_recipe(r, int(s), budget) for s in seeds.split()}
    bests = torch.tensor([learn.history.valid_loss.min() for learn, _ in runs.values()])
    if len(bests) > 1:
        print(f"\nseeds {seeds}: " + ', '.join(f'{b:.4f}' for b in bests) +
              f"; mean {bests.mean():.4f} ± {bests.std():.4f} (sd) nats/char, range {bests.max() - bests.min():.4f}")
    if out:
        for seed, (learn, _) in runs.items(): print(f"Saved {save_bundle(learn, f'{out}/{seed}', corpus='shakespeare')}")
    if gpt:
        seed, (learn, clock) = next(iter(runs.items()))
        race(clock.points, load_corpus('shakespeare'), learn.dls.vocab, budget, gpt.split(), seed)
