"""Train the model that ships with charrnn_fastai, from public-domain text only, and write it into the package.

    python tools/pretrain.py --epochs 2 --threads 1   # the shipped model: 2 epochs, 6.7M characters, 61 min on one core
    python tools/pretrain.py --minutes 120            # or one cycle over a time budget instead of whole epochs
    python tools/pretrain.py --minutes 0.1 --hidden 16 --layers 1 --out /tmp/tiny     # a smoke test, ~20 s

The corpora are the three public-domain ones of the registry (see shared/data/SOURCES.md for their provenance):
Shakespeare, Nietzsche (Zimmern's and Harvey's translations) and Anna Karenina (Garnett's). Obama and Trump are left
out: their licences are unclear. Each corpus is split 90/10 at its tail, as `char_dls` splits one; the stream is the
three training heads followed by the three validation tails, so the validation loss covers all three authors and no
validation text is trained on (Shakespeare's split is the standard 1,003,854 / 111,540).

The recipe (every option below is recorded): a 2×384 LSTM over a 384-wide embedding, dropout 0.1, batches of 32
streams × 100 characters, Adam, fastai's one-cycle shape (warm-up over the first quarter, cosine down to lr/1e5). With
--minutes the cycle runs over that much training time (`TimeBudget`; validation not counted), with --epochs over whole
epochs. The seed fixes the initial weights and the batch order; under a time budget the number of batches also depends
on the machine's speed, so the minutes, the machine and the characters trained are recorded with the model.

It writes, through `save_bundle` (atomically), OUT/bundle.json and OUT/model-<sha256>.safetensors, the weights in
bfloat16 (half the size; they load as float32). bundle.json's `weights_sha256` is checked on every load, `valid_loss`
is the loss of the bfloat16 weights as shipped, and `meta` holds the recipe, the seed, the corpora with their SHA-256,
the library, torch and fastai versions, the training time and characters, and a sample. OUT defaults to the package's
charrnn_fastai/bundles/pretrained, which `load_bundle('pretrained')` and `pretrained_models()` read.
"""
import hashlib, platform, sys, time
from pathlib import Path
import torch
import fastai
from fastcore.script import call_parse
from fastai.callback.schedule import combined_cos
from fastai.torch_core import set_seed
from charrnn_fastai import __version__
from charrnn_fastai.corpora import load_corpus
from charrnn_fastai.data import char_dls, split_stream, split_sizes
from charrnn_fastai.export import save_bundle
from charrnn_fastai.finetune import TimeBudget
from charrnn_fastai.generate import generate
from charrnn_fastai.learner import char_rnn_learner
from charrnn_fastai.models import CharRNN

PACKAGE_BUNDLE = Path(__file__).resolve().parent.parent/'charrnn_fastai'/'bundles'/'pretrained'
PUBLIC_DOMAIN = ('shakespeare', 'nietzsche', 'anna_karenina')

def split_corpora(names:list, sep:str='\n\n')->tuple:
    "The text `train heads + valid tails` of the corpora `names`, and the fraction `valid_pct` that cuts it there"
    heads, tails = zip(*(split_stream(load_corpus(n)) for n in names))
    train, valid = sep.join(heads), sep.join(tails)
    text, pct = train + sep + valid, (len(sep) + len(valid)) / (len(train) + len(sep) + len(valid))
    assert abs(split_sizes(len(text), pct)[0] - len(train)) <= 1, 'the split falls elsewhere'
    return text, pct

def bf16_rounded(model:CharRNN)->CharRNN:
    "A copy of `model` with its weights in bfloat16: what the bundle stores"
    shipped = CharRNN(**model.config)
    shipped.load_state_dict(model.state_dict())
    return shipped.to(torch.bfloat16)

@call_parse
def main(minutes:float=0, # Train for this many minutes (one cycle over them); 0: use --epochs
         epochs:int=0, # Or: one cycle over this many epochs
         arch:str='lstm', # Cell: 'lstm', 'gru', 'rnn'...
         layers:int=2, # Recurrent layers
         hidden:int=384, # Units per layer (and the embedding's width)
         dropout:float=0.1, # Dropout on each layer's output
         bs:int=32, # Streams per batch
         seq_len:int=100, # Characters per BPTT step
         lr:float=3e-3, # Peak learning rate of the cycle
         seed:int=42, # Random seed
         corpora:str=' '.join(PUBLIC_DOMAIN), # Registry names, space-separated: public-domain text only
         threads:int=0, # CPU threads for torch; 0: torch's default
         out:str=str(PACKAGE_BUNDLE), # The bundle folder to write
        ):
    "Train the shipped model and write its bundle"
    if (minutes > 0) == (epochs > 0): sys.exit('Give either --minutes or --epochs (a positive number), not both.')
    if threads: torch.set_num_threads(threads)
    names = corpora.split()
    set_seed(seed, reproducible=True)
    text, valid_pct = split_corpora(names)
    dls = char_dls(text, bs=bs, seq_len=seq_len, valid_pct=valid_pct)
    learn = char_rnn_learner(dls, arch, n_hidden=hidden, n_layers=layers, dropout=dropout, keep_best=not minutes,
                             progress=False)
    print(f"{layers}×{hidden} {arch}, {sum(p.numel() for p in learn.model.parameters()):,} parameters; "
          f"{dls.train.n_chars:,} training and {dls.valid.n_chars:,} validation characters of {', '.join(names)}; "
          f"{len(dls.vocab)} characters; {torch.get_num_threads()} threads", flush=True)
    start = time.perf_counter()
    if minutes:
        budget = TimeBudget(minutes * 60, {'lr': combined_cos(0.25, lr/25, lr, lr/1e5),
                                           'mom': combined_cos(0.25, 0.95, 0.85, 0.95)})
        learn.fit(10_000, lr, cbs=budget)
        chars = budget.chars
    else:
        learn.fit_one_cycle(epochs, lr)
        chars = learn.chars_seen
    seconds = time.perf_counter() - start
    learn.model.load_state_dict(bf16_rounded(learn.model).float().state_dict()) # validate what ships
    valid_loss = float(learn.validate()[0])
    sample = generate(learn.model, dls.vocab, 'The ', n=300, temperature=0.8, seed=seed)
    recipe = dict(minutes=minutes, epochs=epochs, arch=arch, layers=layers, hidden=hidden, dropout=dropout, bs=bs,
                  seq_len=seq_len, lr=lr,
                  schedule='one cycle (fastai combined_cos, pct_start 0.25, div 25, div_final 1e5)',
                  optimizer='fastai Adam, wd 0.01', seed=seed, threads=torch.get_num_threads())
    meta = dict(script='tools/pretrain.py', recipe=recipe, seed=seed, weights_dtype='bfloat16',
                corpora={n: hashlib.sha256(load_corpus(n).encode('utf-8')).hexdigest() for n in names},
                split='each corpus 90/10 at its tail; train heads, then valid tails',
                train_seconds=round(seconds, 1), chars_trained=chars, machine=platform.machine(),
                versions=dict(charrnn_fastai=__version__, torch=torch.__version__, fastai=fastai.__version__,
                              python=platform.python_version()), sample=sample)
    path = save_bundle(bf16_rounded(learn.model), out, vocab=dls.vocab, corpus=names, summary=learn.train_summary,
                       valid_loss=valid_loss, meta=meta)
    size = sum(f.stat().st_size for f in path.iterdir()) / 2**20
    print(f"valid loss {valid_loss:.4f} nats/char (bfloat16 weights), {seconds:.0f} s, {chars:,} characters "
          f"trained; wrote {path} ({size:.1f} MB)\n\n{sample}")
