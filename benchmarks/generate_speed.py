"""How fast `generate` produces characters, against fastai's `LMLearner.predict` and a bare PyTorch loop.

All on the CPU, with the same weights: the 2-layer, 256-unit LSTM `CharRNN` of `char_rnn_learner` over tiny
Shakespeare's 65 characters (untrained: the weights change nothing about speed), prime "ROMEO:", plain sampling
(temperature 1). Each figure is characters produced per second, priming included.

- `generate`, batch 1: `generate(model, vocab, prime, n)` as a user calls it (one `model.step` per character).
- fastai's `predict`, batch 1. `LMLearner.predict` (fastai/text/learner.py) produces each new token by calling
  `self.get_preds(dl=[(idxs[None],)])` on the whole text so far, and fastai's `ModelResetter` callback resets the
  model before each of those validation passes: every character re-reads the entire prefix from a zero state and keeps
  only the last position's prediction, O(n²) steps for n characters. `predict` itself needs a fastai `TextBlock`
  vocabulary and numericalizer, so it is measured two ways on the same weights:
  - "fastai predict algorithm": its computation alone, `model.reset()`, `model(prefix)` under `no_grad`, softmax of
    the last logits, `torch.multinomial`, append; no fastai machinery, so this is the conservative baseline;
  - "fastai predict loop (get_preds)": its loop line for line, `learn.get_preds` on the whole text per character, on a
    `char_rnn_learner` (which has `ModelResetter`) holding the same model; it adds fastai's per-call overhead.
- bare loop, batch 1: the loop a PyTorch user writes by hand, calling the model's own modules directly, one character
  at a time: embedding, the two `nn.LSTM` layers with their (h, c) carried, the decoder, softmax, `torch.multinomial`;
  ids kept in a list and decoded once at the end. Measured twice: with torch's default CPU settings, and with oneDNN
  switched off as `generate` does for its steps (torch's oneDNN LSTM kernel is several times slower for one step at a
  time). The second is the like-for-like comparison: same kernels, so the ratio measures `generate`'s own overhead
  (including `CharRNN.step`'s, over calling the `nn.LSTM`s directly). A third version steps the LSTMs through
  `torch.lstm_cell` on the same weights, the fused single-step function `generate` itself uses: the fastest loop a
  careful user can write, so the ratio against it is all overhead.
- 32 samples in one batch: `generate(..., n_samples=32)` and the bare loop at batch 32 (oneDNN off), in characters per
  second summed over the 32 samples.

The fast cases are repeated (`--rounds`, interleaved so a busy moment hurts all of them alike) and the median is
reported, in wall-clock and in CPU time (`time.process_time`: with one thread, the time the process actually ran, which
is steadier than wall-clock when other jobs share the machine); the O(n²) baselines run once each, at the full length.
`generate` and the bare loop are checked to produce the same text from the same seed, so they do the same work. Torch
uses `--threads` threads (1 by default: steadier on a shared machine, and batch-1 steps gain nothing from more).

Run from the repository root with the package installed (`pip install -e .`), with tiny Shakespeare where
`load_corpus` finds it (e.g. `CHARRNN_DATA=/path/to/folder`):

    python benchmarks/generate_speed.py              # 1,000 characters; the O(n²) baselines take a minute or two
    python benchmarks/generate_speed.py --n 300      # quicker
"""
import statistics, time
from fastcore.script import call_parse
import torch

def _seeded(seed): return torch.Generator().manual_seed(seed)

def predict_style(model, vocab, prime, n, seed):
    "fastai `LMLearner.predict`'s algorithm: for each new character, reset the model and run the whole text through it"
    g, ids = _seeded(seed), torch.tensor(vocab.encode(prime)).long()
    with torch.no_grad():
        for _ in range(n):
            model.reset()
            probs = model(ids[None])[0, -1].softmax(-1)
            ids = torch.cat([ids, torch.multinomial(probs, 1, generator=g)])
    return vocab.decode(ids)

def fastai_predict_loop(learn, vocab, prime, n, seed):
    "The loop of fastai's `LMLearner.predict`, run on a learner holding the same model: `get_preds` over the whole text per character"
    g, ids = _seeded(seed), torch.tensor(vocab.encode(prime)).long()
    learn.model.reset()
    with learn.no_bar():
        for _ in range(n):
            preds, _ = learn.get_preds(dl=[(ids[None],)]) # fastai's ModelResetter resets the model before each pass
            ids = torch.cat([ids, torch.multinomial(preds[0][-1], 1, generator=g)])
    return vocab.decode(ids)

def bare_loop(model, vocab, prime, n, seed, bs=1):
    "A hand-written sampling loop over the model's own embedding, LSTM layers and decoder, one character per step"
    g, out = _seeded(seed), []
    emb, lstms, dec = model.encoder, [l.rnn for l in model.layers], model.decoder
    with torch.inference_mode():
        x, hs = torch.tensor(vocab.encode(prime)).long()[None].expand(bs, -1), [None] * len(lstms)
        for _ in range(n):
            h = emb(x)
            for i, lstm in enumerate(lstms): h, hs[i] = lstm(h, hs[i])
            x = torch.multinomial(dec(h[:, -1]).softmax(-1), 1, generator=g)
            out.append(x)
    ids = torch.cat(out, 1)
    return [prime + vocab.decode(row) for row in ids]

def bare_cell_loop(model, vocab, prime, n, seed):
    "The same loop with the LSTM layers stepped through `torch.lstm_cell` on their weights: the fastest hand-written loop"
    g, out = _seeded(seed), []
    emb, lstms, dec = model.encoder, [l.rnn for l in model.layers], model.decoder
    ws = [(l.weight_ih_l0, l.weight_hh_l0, l.bias_ih_l0, l.bias_hh_l0) for l in lstms]
    with torch.inference_mode():
        x, h = torch.tensor(vocab.encode(prime)).long()[None], emb(torch.tensor(vocab.encode(prime)).long()[None])
        hs = []
        for lstm in lstms: h, (hn, cn) = lstm(h); hs.append((hn[0], cn[0]))
        x = torch.multinomial(dec(h[:, -1]).softmax(-1), 1, generator=g); out.append(x)
        for _ in range(n - 1):
            h = emb(x[:, 0])
            for i, w in enumerate(ws): hs[i] = torch.lstm_cell(h, hs[i], *w); h = hs[i][0]
            x = torch.multinomial(dec(h).softmax(-1), 1, generator=g)
            out.append(x)
    return prime + vocab.decode(torch.cat(out, 1)[0])

def without_onednn(f):
    "`f` run with torch's oneDNN CPU kernels switched off, as `generate` runs its steps"
    def _f(*args, **kwargs):
        was = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False
        try: return f(*args, **kwargs)
        finally: torch.backends.mkldnn.enabled = was
    return _f

def timed(f, *args, **kwargs):
    "Wall-clock and CPU seconds `f(*args, **kwargs)` takes, and its result"
    t, c = time.perf_counter(), time.process_time()
    res = f(*args, **kwargs)
    return (time.perf_counter() - t, time.process_time() - c), res

@call_parse
def main(n:int=1000, # Characters to generate
         rounds:int=5, # Repeats of the fast cases (the median is reported)
         corpus:str='shakespeare', # Corpus whose vocabulary the model uses
         prime:str='ROMEO:', # Text to start from
         threads:int=1, # torch CPU threads
        ):
    from charrnn_fastai.corpora import load_corpus
    from charrnn_fastai.data import char_dls
    from charrnn_fastai.learner import char_rnn_learner
    from charrnn_fastai.generate import generate
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    dls = char_dls(load_corpus(corpus), bs=64, seq_len=100)
    learn = char_rnn_learner(dls, 'lstm', n_hidden=256, n_layers=2, progress=False)
    model, vocab = learn.model.eval(), dls.vocab
    print(f"2x256 LSTM, vocabulary {len(vocab)}, {n:,} characters after {prime!r}, CPU, {torch.get_num_threads()} thread(s), torch {torch.__version__}")

    ours = lambda: generate(model, vocab, prime, n, seed=0)
    assert ours() == bare_loop(model, vocab, prime, n, 0)[0], "generate and the bare loop should sample the same text"
    assert ours() == without_onednn(bare_cell_loop)(model, vocab, prime, n, 0), "... and so should the lstm_cell loop"
    assert generate(model, vocab, prime, n, seed=0, n_samples=32) == bare_loop(model, vocab, prime, n, 0, bs=32)
    cases = {'generate, batch 1': (ours, n),
             'bare loop, batch 1, torch defaults': (lambda: bare_loop(model, vocab, prime, n, 0), n),
             'bare loop, batch 1, oneDNN off': (lambda: without_onednn(bare_loop)(model, vocab, prime, n, 0), n),
             'bare loop, batch 1, torch.lstm_cell': (lambda: without_onednn(bare_cell_loop)(model, vocab, prime, n, 0), n),
             'generate, 32 samples in one batch': (lambda: generate(model, vocab, prime, n, seed=0, n_samples=32), 32 * n),
             'bare loop, batch 32, oneDNN off': (lambda: without_onednn(bare_loop)(model, vocab, prime, n, 0, bs=32), 32 * n)}
    secs = {k: [] for k in cases}
    for _ in range(rounds):
        for k, (f, _) in cases.items(): secs[k].append(timed(f)[0])
    chars = {k: c for k, (_, c) in cases.items()}
    slow_secs, slow_text = timed(predict_style, model, vocab, prime, n, 0)
    secs['fastai predict algorithm, batch 1'], chars['fastai predict algorithm, batch 1'] = [slow_secs], n
    secs['fastai predict loop (get_preds), batch 1'], chars['fastai predict loop (get_preds), batch 1'] = [timed(fastai_predict_loop, learn, vocab, prime, n, 0)[0]], n
    wall = {k: chars[k] / statistics.median(s for s, _ in v) for k, v in secs.items()}
    cpu = {k: chars[k] / statistics.median(c for _, c in v) for k, v in secs.items()}
    print(f"{'':42} {'chars/s (wall)':>15} {'chars/s (CPU)':>15}")
    for k in wall: print(f"{k:42} {wall[k]:15,.0f} {cpu[k]:15,.0f}")

    same = sum(a == b for a, b in zip(slow_text, ours()))
    print(f"\n(the O(n²) baseline drew the same text for {same:,} of {len(slow_text):,} characters: full passes and single steps "
          "agree to float rounding, so a draw rarely differs)")
    print("\nratios (wall-clock; CPU time, steadier on a busy machine):")
    ratio = lambda a, b: f"{wall[a] / wall[b]:7.2f}x {cpu[a] / cpu[b]:7.2f}x"
    g = 'generate, batch 1'
    print(f"generate vs fastai predict algorithm, batch 1:  {ratio(g, 'fastai predict algorithm, batch 1')}  (target >= 100x)")
    print(f"generate vs fastai predict loop (get_preds):    {ratio(g, 'fastai predict loop (get_preds), batch 1')}")
    print(f"generate vs bare loop, batch 1, oneDNN off:     {ratio(g, 'bare loop, batch 1, oneDNN off')}  (target >= 0.9x)")
    print(f"generate vs bare loop, batch 1, lstm_cell:      {ratio(g, 'bare loop, batch 1, torch.lstm_cell')}")
    print(f"generate vs bare loop, batch 1, torch defaults: {ratio(g, 'bare loop, batch 1, torch defaults')}")
    print(f"generate, 32 samples vs batch 1:                {ratio('generate, 32 samples in one batch', g)}  (characters per second)")
    print(f"generate vs bare loop, batch 32, oneDNN off:    {ratio('generate, 32 samples in one batch', 'bare loop, batch 32, oneDNN off')}")
