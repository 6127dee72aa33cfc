"""How fast `charrnn-serve` streams a generation to its page, against `charrnn-sample` on the same bundle.

All on the CPU, with the 2-layer, 256-unit LSTM `CharRNN` of `char_rnn_learner` over tiny Shakespeare's 65 characters,
saved as a bundle (untrained: the weights change nothing about speed, and a trained bundle can be given with
`--bundle`), prime "ROMEO:", temperature 1, the same seed in every case, `--n` characters. Two figures per case: the
time to the first new character, and the rate of the characters after it (characters 2..n over the time from the
first to the last).

- `bundle.generate`, in this process: generating without streaming (64 steps between decodes; nothing is seen
  before the end, so it has no time to the first character): the cost of the steps themselves.
- `bundle.stream`, in this process: what `charrnn-sample` runs, without starting a process: the baseline for
  streaming. Time to first character: the prime read in one pass and one step.
- `charrnn-sample`, the console script, in a process of its own, its standard output read as it is written. Its time to
  the first character counts from the launch, so it includes starting Python, importing torch and loading the bundle;
  the rate is its own.
- `charrnn-serve`, the console script, started once (the time until it serves its page is reported apart), then:
  - over HTTP, from this process: `POST /generate`, the NDJSON lines read as they arrive. Time to first character:
    from sending the request to reading the first character's line.
  - the page in headless Chromium (Debian's `chromium`, driven by `playwright`; skipped when either is missing): the
    parameters set, Generate clicked, and the page's own figures read from its status line, which counts from the click
    to the first character drawn, and the characters drawn after it.

Each case runs `--rounds` times, interleaved so that a busy moment hurts all alike, after one untimed warm-up of the
server and the page, and the median is reported. Beside the wall-clock rate, a CPU-time rate where it can be measured
alone: characters per CPU-second of this process for `bundle.stream`, and of the server's process for `charrnn-serve`
(the client's and the browser's work left out), which is steadier than wall-clock on a shared machine. Every case must
produce the same text (the same seed: the same characters), so all do the same work. Every process uses `--threads`
torch threads (1 by default: batch-1 steps gain nothing from more), the commands through `OMP_NUM_THREADS`.

Run from the repository root with the package installed with its serve extra (`pip install -e ".[serve]"`; the dev
extra has it, and playwright), with tiny Shakespeare where `load_corpus` finds it (e.g. `CHARRNN_DATA=/path/to/folder`):

    python benchmarks/serve.py              # 2,000 characters, 3 rounds: about a minute
    python benchmarks/serve.py --n 5000 --rounds 5
"""
import json, os, shutil, signal, statistics, subprocess, sysconfig, tempfile, time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlparse
from fastcore.script import call_parse
import torch

_scripts = Path(sysconfig.get_path('scripts'))

def rate(first, last, n):
    "Characters per second after the first: n-1 characters from `first` to `last`"
    return (n - 1) / (last - first) if n > 1 and last > first else float('nan')

def cpu_seconds(pid):
    "CPU time a process has used so far (user + system, from /proc)"
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

def whole(bundle, prime, n, seed):
    "`bundle.generate`, the text at once: (nan: nothing arrives early, chars/s, text, chars per CPU-s)"
    t0, c0 = time.perf_counter(), time.process_time()
    text = bundle.generate(prime, n=n, temperature=1., seed=seed)[len(prime):]
    return float('nan'), n / (time.perf_counter() - t0), text, n / (time.process_time() - c0)

def in_process(bundle, prime, n, seed):
    "`bundle.stream` as charrnn-sample drives it: (s to the first character, chars/s after it, text, chars per CPU-s)"
    t0, c0, stamps, out = time.perf_counter(), time.process_time(), [], []
    for piece in bundle.stream(prime, n=n, temperature=1., seed=seed):
        stamps.append(time.perf_counter()); out.append(piece)
    return stamps[0] - t0, rate(stamps[0], stamps[-1], len(stamps)), ''.join(out), n / (time.process_time() - c0)

def sample_command(path, prime, n, seed, env):
    "charrnn-sample in its own process, its output read as written: (s from launch to the 1st character, rate, text)"
    t0 = time.perf_counter()
    args = [str(path), '--prime', prime, '-n', str(n), '--temperature', '1', '--seed', str(seed)]
    p = subprocess.Popen([str(_scripts/'charrnn-sample'), *args], stdout=subprocess.PIPE, env=env)
    raw, stamps, skip = b'', [], len(prime.encode())
    while chunk := os.read(p.stdout.fileno(), 65536):
        now = time.perf_counter()
        new = len((raw + chunk)[skip:].decode('utf-8', 'ignore')) - len(raw[skip:].decode('utf-8', 'ignore'))
        stamps += [now] * max(new, 0)
        raw += chunk
    assert p.wait() == 0, 'charrnn-sample failed'
    text = raw.decode()[len(prime):].removesuffix('\n')
    stamps = stamps[:len(text)]
    return stamps[0] - t0, rate(stamps[0], stamps[-1], len(stamps)), text, float('nan')

def over_http(url, body, pid):
    "POST /generate, reading lines as they arrive: (s to the first character's line, rate, text, per server CPU-s)"
    u = urlparse(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=300)
    t0, c0 = time.perf_counter(), cpu_seconds(pid)
    conn.request('POST', '/generate', json.dumps(body), {'Content-Type': 'application/json'})
    res = conn.getresponse()
    assert res.status == 200, res.read()
    stamps, out = [], []
    while line := res.readline():
        msg = json.loads(line)
        if 'c' in msg: stamps.append(time.perf_counter()); out.append(msg['c'])
    conn.close()
    return stamps[0] - t0, rate(stamps[0], stamps[-1], len(stamps)), ''.join(out), len(out) / (cpu_seconds(pid) - c0)

def page_case(page, prime, n, seed, pid):
    "Generate on the page: (its s from the click to the first character drawn, its rate, text, per server CPU-s)"
    c0 = cpu_seconds(pid)
    page.fill('#prime', prime); page.fill('#length', str(n)); page.fill('#seed', str(seed))
    page.eval_on_selector('#temperature', 'e => e.value = "1"'); page.eval_on_selector('#top_p', 'e => e.value = "1"')
    page.click('#go')
    page.wait_for_function("document.getElementById('status').dataset.state === 'done'", timeout=120_000)
    status = page.eval_on_selector('#status', 'e => ({...e.dataset})')
    text = page.eval_on_selector_all('#out span:not(.prime)', 'ss => ss.map(s => s.textContent).join("")')
    return float(status['firstMs']) / 1000, float(status['rate'] or 'nan'), text, n / (cpu_seconds(pid) - c0)

def start_server(path, n, env):
    "charrnn-serve on a free port: the process, the page's URL, and the seconds until it served the page"
    t0 = time.perf_counter()
    p = subprocess.Popen([str(_scripts/'charrnn-serve'), str(path), '--port', '0', '--max-chars', str(n)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env=env)
    line = p.stdout.readline()
    assert line.startswith('Serving '), (line, p.stderr.read() if p.poll() is not None else '')
    url = line.split(' at ')[1].split()[0]
    u = urlparse(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request('GET', '/'); conn.getresponse().read(); conn.close()
    return p, url, time.perf_counter() - t0

def stop_server(p):
    "Ctrl-C the server, as a terminal would; show its standard error unless it said only that it stopped"
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=30)
    if p.returncode != 130 or err.strip() != 'charrnn-serve: Stopped.': print(err)

def browser_page(pw, url):
    "The page open in headless Chromium, or None when Chromium is not installed"
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    if exe is None: return None
    page = pw.chromium.launch(executable_path=exe, args=['--no-sandbox', '--disable-gpu']).new_page()
    page.goto(url)
    return page

def untrained_lstm(corpus, folder):
    "The 2x256 LSTM `char_rnn_learner` builds over `corpus`, untrained, saved as a bundle in `folder`"
    from charrnn_fastai.corpora import load_corpus
    from charrnn_fastai.data import char_dls
    from charrnn_fastai.export import save_bundle
    from charrnn_fastai.learner import char_rnn_learner
    torch.manual_seed(0)
    dls = char_dls(load_corpus(corpus), bs=64, seq_len=100)
    model = char_rnn_learner(dls, 'lstm', n_hidden=256, n_layers=2, progress=False).model
    return save_bundle(model, Path(folder)/'lstm', vocab=dls.vocab)

@call_parse
def main(n:int=2000, # Characters to generate
         rounds:int=3, # Repeats of each case (the median is reported)
         corpus:str='shakespeare', # Corpus whose vocabulary the model uses
         prime:str='ROMEO:', # Text to start from
         seed:int=0, # The seed of every case
         threads:int=1, # torch CPU threads in every process
         bundle:str=None, # A trained bundle to use instead of the untrained 2x256 LSTM
        ):
    from charrnn_fastai.export import load_bundle
    torch.set_num_threads(threads)
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads)}
    with tempfile.TemporaryDirectory() as d:
        bundle = bundle or untrained_lstm(corpus, d)
        b = load_bundle(bundle)
        print(f"{b}, {n:,} characters after {prime!r}, temperature 1, seed {seed}; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {threads} torch thread(s); "
              f"torch {torch.__version__}")
        server, url, start_s = start_server(bundle, n, env)
        body, pid = {'prime': prime, 'length': n, 'temperature': 1, 'seed': seed}, server.pid
        try:
            try:
                from playwright.sync_api import sync_playwright
                pw = sync_playwright().start()
            except ImportError: pw = None
            page = browser_page(pw, url) if pw else None
            cases = {'bundle.generate (no streaming), this process': lambda: whole(b, prime, n, seed),
                     'bundle.stream (what charrnn-sample runs), this process': lambda: in_process(b, prime, n, seed),
                     'charrnn-sample, new process (first: from launch)':
                         lambda: sample_command(bundle, prime, n, seed, env),
                     'charrnn-serve, HTTP client (first: from request)': lambda: over_http(url, body, pid)}
            whole(b, prime, 50, seed); in_process(b, prime, 50, seed) # warm-ups, untimed
            over_http(url, {**body, 'length': 50}, pid)
            if page:
                cases['charrnn-serve, page in Chromium (first: from click)'] = \
                    lambda: page_case(page, prime, n, seed, pid)
                page_case(page, prime, 50, seed, pid)
            else: print("(no page in Chromium: install chromium and playwright for that case)")
            results = {k: [] for k in cases}
            for _ in range(rounds):
                for k, f in cases.items(): results[k].append(f())
            if pw: pw.stop()
        finally: stop_server(server)
    texts = {r[2] for rs in results.values() for r in rs}
    assert len(texts) == 1 and len(texts.pop()) == n, "every case should produce the same text"
    first, speed, cpu = ({k: statistics.median(r[i] for r in rs) for k, rs in results.items()} for i in (0, 1, 3))
    print(f"charrnn-serve served its page {start_s:.1f} s after its launch\n")
    print(f"{'':58} {'first character':>16} {'chars/s after':>14} {'chars/CPU-s':>12}")
    shown = lambda x, fmt: '—' if x != x else format(x, fmt) # nan: not measured
    for k in results:
        print(f"{k:58} {shown(first[k] * 1000, '.1f'):>13} ms {speed[k]:14,.0f} {shown(cpu[k], ',.0f'):>12}")
    whole_, base, sample = list(results)[:3]
    print("\nratios of characters per second (wall-clock; per CPU-second of the generating process), and the "
          "difference in time to the first character")
    for k in list(results)[3:]:
        print(f"{k:52} {speed[k] / speed[base]:5.2f}x bundle.stream, {speed[k] / speed[sample]:5.2f}x charrnn-sample; "
              f"per CPU-second {cpu[k] / cpu[base]:5.2f}x bundle.stream, {cpu[k] / cpu[whole_]:5.2f}x bundle.generate; "
              f"first character {1000 * (first[k] - first[base]):+.1f} ms")
