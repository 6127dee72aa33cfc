"""How long building character-stream DataLoaders takes, and how much memory, per MB of text.

`char_dls` builds the DataLoaders for a big text (tiny Shakespeare repeated to `size_mb`, 100 MB by default), and for a
1 MB slice of it; fastai's default language-model path, `TextBlock(is_lm=True)` (spaCy word tokenizer, fastai rules,
`Numericalize`), builds them for the same 1 MB slice. The script prints seconds and peak memory, per MB, and the ratio
of fastai's figures to `char_dls`'s.

How it measures: each case runs in its own fresh process (multiprocessing, spawn), so no case inherits another's
memory. That process imports everything first and reads its resident memory (`VmRSS` in /proc/self/status) as the
baseline; then it reads the text file with `load_corpus`, builds the DataLoaders and fetches one training batch. Peak
memory is the process's high-water mark (`VmHWM`, what `getrusage` reports as `ru_maxrss`) minus the baseline, so it
counts the text itself, the encoded stream and every temporary. fastai's tokenizer runs in worker processes of its own
(`defaults.cpus`), whose memory is not included, so its peak is a lower bound; their time is included.
Seconds are wall-clock `time.perf_counter`; the machine may be shared, so run it when it is quiet.

Run from the repository root with the package installed (`pip install -e .`):

    python benchmarks/data_prep.py                 # 100 MB
    python benchmarks/data_prep.py --size-mb 20    # quicker
"""
import multiprocessing as mp, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from fastcore.script import call_parse
from procmem import vm

def _build_char_dls(text, bs, seq_len):
    "This library's DataLoaders: the text as one character stream"
    from charrnn_fastai.data import char_dls
    return char_dls(text, bs=bs, seq_len=seq_len)

def _build_textblock(text, bs, seq_len):
    "fastai's default language-model DataLoaders: paragraphs as documents, word tokens, a random 10% split"
    import pandas as pd
    from fastai.text.all import DataBlock, TextBlock, ColReader, RandomSplitter
    df = pd.DataFrame({'text': text.split('\n\n')})
    dblock = DataBlock(blocks=TextBlock.from_df('text', is_lm=True, seq_len=seq_len), get_x=ColReader('text'),
                       splitter=RandomSplitter(0.1, seed=42))
    return dblock.dataloaders(df, bs=bs, seq_len=seq_len)

def _measure(build, path, bs, seq_len):
    "In a fresh process: load `path`, build its DataLoaders with `build`, fetch a batch; seconds and peak bytes above baseline"
    import fastai.text.all, charrnn_fastai.data  # imports are part of the baseline, not of the figures
    from charrnn_fastai.corpora import load_corpus
    base = vm('VmRSS')
    t0 = time.perf_counter()
    text = load_corpus(path)
    t1 = time.perf_counter()
    dls = build(text, bs, seq_len)
    dls.train.one_batch()
    t2 = time.perf_counter()
    return dict(load_s=t1 - t0, build_s=t2 - t1, peak=vm('VmHWM') - base)

def _run(build, path, bs, seq_len):
    "`_measure` in a process of its own"
    with ProcessPoolExecutor(1, mp_context=mp.get_context('spawn')) as ex: return ex.submit(_measure, build, path, bs, seq_len).result()

@call_parse
def main(size_mb:float=100, # Size of the big text, in MB (10^6 characters)
         slice_mb:float=1, # Size of the slice both paths are compared on
         corpus:str='shakespeare', # Registry corpus repeated to make the text
         bs:int=64, # Batch size
         seq_len:int=100, # BPTT length
        ):
    from charrnn_fastai.corpora import load_corpus
    base = load_corpus(corpus)
    with tempfile.TemporaryDirectory() as d:
        big, small = Path(d)/'big.txt', Path(d)/'slice.txt'
        with open(big, 'w', encoding='utf-8') as f:
            for _ in range(-(-int(size_mb * 1e6) // len(base))): f.write(base)
        small.write_text((base * -(-int(slice_mb * 1e6) // len(base)))[:int(slice_mb * 1e6)], encoding='utf-8')
        cases = [(f'char_dls, {size_mb:g} MB', _build_char_dls, big),
                 (f'char_dls, {slice_mb:g} MB slice', _build_char_dls, small),
                 (f'fastai TextBlock(is_lm=True), {slice_mb:g} MB slice', _build_textblock, small)]
        rows = []
        for name, build, path in cases:
            mb = path.stat().st_size / 1e6
            r = _run(build, str(path), bs, seq_len)
            rows.append((name, mb, r))
            print(f"{name:45} {mb:7.1f} MB  load {r['load_s']:6.2f} s  build {r['build_s']:7.2f} s = {r['build_s']/mb:6.3f} s/MB"
                  f"  peak +{r['peak']/1e6:7.1f} MB = {r['peak']/1e6/mb:5.2f}x the text", flush=True)
    (_, mb_big, big_r), (_, mb_small, small_r), (_, mb_fa, fa_r) = rows
    print(f"\nfastai TextBlock / char_dls per MB: {fa_r['build_s']/mb_fa / (big_r['build_s']/mb_big):.0f}x the time at {size_mb:g} MB, "
          f"{fa_r['build_s']/mb_fa / (small_r['build_s']/mb_small):.0f}x at {slice_mb:g} MB; "
          f"{fa_r['peak']/mb_fa / (big_r['peak']/mb_big):.1f}x the peak memory per MB")
    print(f"targets at {size_mb:g} MB: build <= 5 s ({big_r['build_s']:.2f} s), peak <= 3x the text ({big_r['peak']/1e6/mb_big:.2f}x)")
