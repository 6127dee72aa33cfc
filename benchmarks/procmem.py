"Memory figures of the running process, for the benchmarks (Linux: read from /proc/self/status)."
from pathlib import Path

def vm(field:str)->int:
    "The figure `field` of /proc/self/status (VmRSS, VmHWM, RssAnon, ...), in bytes"
    line = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith(field + ':'))
    return int(line.split()[1]) * 1024
