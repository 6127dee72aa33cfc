"""Training throughput: characters per second of `learn.fit` against a plain PyTorch loop doing the same work.

For each model (a 2×256 LSTM, a 2×256 GRU and a 1×256 RNN, embedding input, at bs=64, seq_len=100 on tiny
Shakespeare) the script builds one `CharRNN` and an exact copy, and trains

* the copy with a hand-written loop: for each batch of `dls.train`, forward (the model carries its hidden state),
  cross-entropy, backward, `clip_grad_norm_`, optimizer step, zero grad; then one pass over `dls.valid` under
  `torch.no_grad()`, as `fit` does at each epoch end;
* the model with `char_rnn_learner(...).fit(1, lr)`, the defaults a user gets: state reset, gradient clipping, the
  divergence guard, the best epoch kept, the history and end-of-epoch snapshot, the recorder and the metrics
  (accuracy, perplexity, bits per char) on the validation batch. No progress bar: a benchmark is not a terminal, so
  the learner prints one line per epoch (silenced here with `no_logging`).

Both use the same batches (the same `DataLoaders`, so batch creation costs the same) and the same optimizer: fastai's
`Adam` (the learner's default) with the same hyper-parameters, constructed directly in the plain loop, so that the
ratio measures what the `Learner` machinery costs and nothing else. The training text is cut so that one epoch is
`--batches` batches (default 30) and validation is one batch. Characters counted are training targets only.

Runs are interleaved after a warm-up of each (plain then learner, then learner then plain, and so on, so neither
always goes first), and the script reports the best characters per second of `--reps` runs of each, as `timeit`
does: on a shared machine other processes only ever slow a run down, so the fastest run is the one that shows what the
code itself costs. The machine may be shared: run it when it is quiet, and read the ratio, which is measured in one
run, rather than the absolute figures.

    python benchmarks/train_throughput.py                   # all three models
    python benchmarks/train_throughput.py --archs lstm --reps 5
"""
import copy, time
import torch
from fastcore.script import call_parse
from fastai.optimizer import Adam
from charrnn_fastai.corpora import load_corpus
from charrnn_fastai.data import char_dls
from charrnn_fastai.learner import char_rnn_learner

CONFIGS = {'lstm': ('lstm', 2), 'gru': ('gru', 2), 'rnn': ('rnn', 1)}

def bench_dls(text, bs, seq_len, n_batches):
    "DataLoaders whose training epoch is `n_batches` batches and whose validation is one batch"
    n_train, n_valid = bs * seq_len * n_batches + 1, bs * seq_len + 1
    total = n_train + n_valid
    return char_dls(text[:total], bs=bs, seq_len=seq_len, valid_pct=(n_valid + 0.5) / total)

def plain_epoch(model, dls, opt, clip):
    "One epoch by hand: train on every batch of `dls.train`, then evaluate `dls.valid`; returns training characters"
    model.train(); model.reset()
    n = 0
    for x, y in dls.train:
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step(); opt.zero_grad()
        n += y.numel()
    model.eval(); model.reset()
    with torch.no_grad():
        for x, y in dls.valid: torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
    return n

def learner_epoch(learn, lr):
    "One epoch of `learn.fit`; returns training characters"
    with learn.no_logging(): learn.fit(1, lr)
    return learn.history.chars.iloc[-1] - (learn.history.chars.iloc[-2] if len(learn.history) > 1 else 0)

def timed(f):
    start = time.perf_counter()
    n = f()
    return n / (time.perf_counter() - start)

@call_parse
def main(archs:str='lstm gru rnn', # Models to time, among lstm, gru, rnn
         bs:int=64, # Streams per batch
         seq_len:int=100, # Characters per BPTT step
         n_hidden:int=256, # Units per layer
         batches:int=30, # Training batches per timed epoch
         reps:int=5, # Timed epochs of each loop, interleaved
         lr:float=1e-3, # Learning rate (constant)
         threads:int=0, # torch threads; 0 leaves torch's default
        ):
    if threads: torch.set_num_threads(threads)
    dls = bench_dls(load_corpus('shakespeare'), bs, seq_len, batches)
    print(f"tiny Shakespeare, bs={bs}, seq_len={seq_len}, {len(dls.train)} training batches + {len(dls.valid)} validation batch "
          f"per epoch, best of {reps} interleaved runs each, torch threads: {torch.get_num_threads()}")
    print(f"{'model':<12}{'plain chars/s':>15}{'learn.fit chars/s':>19}{'ratio':>8}")
    for arch in archs.split():
        cell, n_layers = CONFIGS[arch]
        torch.manual_seed(0)
        learn = char_rnn_learner(dls, arch=cell, n_hidden=n_hidden, n_layers=n_layers, progress=False)
        model = copy.deepcopy(learn.model)
        opt = Adam(list(model.parameters()), lr=lr) # fastai's Adam, as the learner creates it: same defaults
        clip = learn.gradient_clip.max_norm
        plain_epoch(model, dls, opt, clip); learner_epoch(learn, lr) # warm up
        runs = {'plain': (lambda: plain_epoch(model, dls, opt, clip), []), 'learn': (lambda: learner_epoch(learn, lr), [])}
        for i in range(reps):
            for f, speeds in list(runs.values())[::(-1) ** i]: speeds.append(timed(f))
        p, f = max(runs['plain'][1]), max(runs['learn'][1])
        print(f"{f'{n_layers}x{n_hidden} {arch}':<12}{p:>15,.0f}{f:>19,.0f}{f / p:>8.3f}", flush=True)
