"""Preparing a corpus larger than memory: time and peak memory of `corpus_memmap` and of `char_dls` over its file.

The script writes a 1 GB text (10^9 bytes by default) into a temporary folder: the lines of the registry corpora, shuffled
afresh for each pass and written until the size is reached. Then, each in a fresh process (multiprocessing, spawn):

1. `corpus_memmap` prepares it: hashes the text, collects its characters, encodes it into a file of ids (cold);
2. `corpus_memmap` again: the file is found by the text's hash and only the text is hashed (warm);
3. `char_dls` over the memory map, and one training batch drawn.

Each process imports everything first and reads its resident memory (`VmRSS` in /proc/self/status) as the baseline;
the peak is its high-water mark (`VmHWM`, what `getrusage` reports as `ru_maxrss`), printed whole and above the
baseline. At the end of each stage the script also prints the process's private memory above the baseline (`RssAnon`)
and how much of the memory map is resident (from /proc/self/smaps). Pages of the map that a process touches count in
its resident memory although they are the kernel's page cache, clean and dropped under memory pressure; with the
disk's read-ahead (`/sys/block/*/queue/read_ahead_kb`) a touched page brings its neighbours, so one batch, whose 64 rows
lie far apart in the file, can map far more of it than the 64 x 100 bytes it reads. Seconds are wall-clock `time.perf_counter`; the machine may be shared, so run
it when it is quiet. The temporary folder, text and file of ids included, is deleted at the end.

Run from the repository root with the package installed (`pip install -e .`) and the corpora at hand (`CHARRNN_DATA`):

    python benchmarks/big_corpus.py                 # 1 GB
    python benchmarks/big_corpus.py --size-mb 100   # quicker
"""
import multiprocessing as mp, random, shutil, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from fastcore.script import call_parse
from procmem import vm

def _mapped(suffix='.ids'):
    "Resident bytes of this process's mappings of files whose name ends with `suffix`"
    rss, inside = 0, False
    for l in Path('/proc/self/smaps').read_text().splitlines():
        if l[:1] in '0123456789abcdef' and '-' in l.split(' ')[0]: inside = l.rstrip().endswith(suffix)
        elif inside and l.startswith('Rss:'): rss += int(l.split()[1]) * 1024
    return rss

def _prepare(path, cache_dir):
    "`corpus_memmap` on `path`"
    from charrnn_fastai.memmap import corpus_memmap
    ids, vocab = corpus_memmap(path, cache_dir)
    return f"{len(ids):,} ids of {len(vocab)} characters, {ids.dtype}"

def _dls(path, cache_dir):
    "`char_dls` over the memory map of `path`'s ids, and one training batch"
    from charrnn_fastai.memmap import corpus_memmap
    from charrnn_fastai.data import char_dls
    ids, vocab = corpus_memmap(path, cache_dir)
    dls = char_dls(ids, bs=64, seq_len=100, vocab=vocab, device='cpu')
    x, y = dls.train.one_batch()
    _dls.keep = dls  # measured while the loaders and the map are alive
    return f"{dls.train.n_chars:,} + {dls.valid.n_chars:,} characters, a batch of {tuple(x.shape)}"

def _measure(stage, path, cache_dir):
    "In a fresh process: run `stage`; its result, seconds, peak memory (whole and above the baseline), private memory and mapped file at the end"
    import charrnn_fastai.distributed, charrnn_fastai.data  # imports are part of the baseline, not of the figures
    base, base_anon = vm('VmRSS'), vm('RssAnon')
    t0 = time.perf_counter()
    what = stage(path, cache_dir)
    return dict(what=what, s=time.perf_counter() - t0, peak=vm('VmHWM'), above=vm('VmHWM') - base,
                private=vm('RssAnon') - base_anon, mapped=_mapped())

def _run(stage, path, cache_dir):
    "`_measure` in a process of its own"
    with ProcessPoolExecutor(1, mp_context=mp.get_context('spawn')) as ex: return ex.submit(_measure, stage, path, cache_dir).result()

def write_big_text(path, size, corpora, seed=0):
    "Write at least `size` bytes to `path`: the lines of `corpora`, shuffled afresh for each pass"
    from charrnn_fastai.corpora import load_corpus
    lines = [l for c in corpora for l in load_corpus(c).split('\n')]
    rng, written = random.Random(seed), 0
    with open(path, 'w', encoding='utf-8') as f:
        while written < size:
            rng.shuffle(lines)
            written += f.write('\n'.join(lines) + '\n')  # characters; the file's bytes are at least as many
    return Path(path).stat().st_size

@call_parse
def main(size_mb:float=1000, # Size of the text, in MB (10^6 bytes)
         corpora:str='shakespeare nietzsche anna_karenina obama trump', # Registry corpora whose lines make the text
        ):
    with tempfile.TemporaryDirectory() as d:
        path, cache = Path(d)/'big.txt', Path(d)/'cache'
        t0 = time.perf_counter()
        size = write_big_text(path, int(size_mb * 1e6), corpora.split())
        print(f"wrote {size/1e6:,.0f} MB of text in {time.perf_counter() - t0:.1f} s", flush=True)
        for name, stage in [('corpus_memmap, cold', _prepare), ('corpus_memmap, warm', _prepare), ('char_dls + one batch', _dls)]:
            r = _run(stage, str(path), str(cache))
            print(f"{name:22} {r['s']:6.1f} s  peak RSS {r['peak']/1e6:6.1f} MB (+{r['above']/1e6:6.1f} MB above the imports); at the end "
                  f"{r['private']/1e6:+6.1f} MB private, {r['mapped']/1e6:6.1f} MB of the map resident  ({r['what']})", flush=True)
        ids_mb = sum(f.stat().st_size for f in cache.iterdir()) / 1e6
        print(f"file of ids: {ids_mb:,.0f} MB; free disk left in {d}: {shutil.disk_usage(d).free/1e9:,.1f} GB")
