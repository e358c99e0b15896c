#!/usr/bin/env python
"""Time frame extraction on the same clips: the fastai tutorial's method against `ucf_seq`'s.

    python bench/extract.py [--source real|synth] [--videos UCF101_DIR] [--clips 84] [--procs 2] [--repeats 3] [--out /dev/shm]

Two comparisons, each at equal process counts, the methods taking turns `--repeats` times, each run into a new folder:
- **tree**: the whole folder of clips, `--procs` processes on each side: the tutorial's `avi2frames` under fastcore's
  `parallel` (as the tutorial runs it) against `videos2frames` (full size, and `size=128`);
- **one process**: clip after clip in this process (`--no-one-process` leaves it out).
Clips: `real` (default) repeats the three real UCF101 clips of `testdata/` (or copies clips of `--videos`, a UCF101
folder); `synth` generates them with `ucf_seq.synth`. Results are recorded in BENCHMARKS.md.
"""
import os, shutil, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # so it runs from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))
import av, simplejpeg
from fastcore.script import call_parse
from fastcore.parallel import parallel, defaults
from ucf_seq.frames import avi2frames, videos2frames
from clips import bench_clips

# The baseline: the fastai "Image sequences" tutorial's code, as published (every frame, full size, PIL's JPEG
# quality 75). Note its `extract_frames` never closes the container; kept as is.
def extract_frames(video_path):
    "convert video to PIL images "
    video = av.open(str(video_path))
    for frame in video.decode(0):
        yield frame.to_image()

def tutorial_avi2frames(video_path, path_frames, force=False):
    "Extract frames from avi file to jpgs"
    dest_path = path_frames/video_path.relative_to(video_path.parent.parent).with_suffix('')
    if not dest_path.exists() or force:
        dest_path.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(extract_frames(video_path)):
            frame.save(dest_path/f'{i}.jpg')

def tree_methods(procs, n_threads=(None,)):
    "name -> function(videos, out) for the whole-tree comparison, `procs` processes each."
    def ours(size, nt):
        kw = {} if nt is None else dict(n_threads=nt)
        return lambda vs, out: videos2frames(vs[0].parent.parent, out, n_workers=procs, progress=False, size=size, quality=75, **kw)
    ms = {f'(A) tutorial under parallel, {procs} proc.': lambda vs, out: parallel(tutorial_avi2frames, vs, path_frames=out, n_workers=procs)}
    for nt in n_threads:
        t = '' if nt is None else f', n_threads={nt}'
        ms[f'(B) videos2frames, full size{t}'] = ours(None, nt)
        ms[f'(C) videos2frames, size=128{t}'] = ours(128, nt)
    return ms

def one_methods(n_threads=(None,)):
    "name -> function(videos, out) for the one-process comparison, clip after clip."
    ms = {'(a) tutorial: to_image().save()': lambda vs, out: [tutorial_avi2frames(v, out) for v in vs]}
    for nt in n_threads:
        kw, t = ({}, '') if nt is None else (dict(n_threads=nt), f', n_threads={nt}')
        ms[f'(b) avi2frames, full size{t}'] = lambda vs, out, kw=kw: [avi2frames(v, out, quality=75, **kw) for v in vs]
        ms[f'(c) avi2frames, size=128{t}'] = lambda vs, out, kw=kw: [avi2frames(v, out, size=128, quality=75, **kw) for v in vs]
    return ms

def cpu_model() -> str:
    "The CPU's model name, as Linux reports it (ratios differ between CPUs)."
    try: return next(l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name'))
    except (OSError, StopIteration): return 'CPU model unknown'

def cpu_secs():
    "CPU seconds used so far by this process, all its threads and its finished child processes."
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system

def run(f, videos, out):
    "Wall and CPU seconds `f(videos, out)` takes, and the number of JPEGs it wrote into the new folder `out`."
    os.sync()                                                        # start each run with no writes pending
    t0, c0 = time.perf_counter(), cpu_secs()
    f(videos, out)
    return time.perf_counter() - t0, cpu_secs() - c0, sum(1 for _ in out.rglob('*.jpg'))

def create_cost(folder, n=2000):
    "Milliseconds to create one empty file in the new folder `folder` (kept until the end, like the frames)."
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    for i in range(n): os.close(os.open(folder/f'{i}.jpg', os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    return (time.perf_counter() - t0)/n*1e3

def time_methods(ms, videos, dest, repeats):
    "Wall seconds, CPU seconds (lists over `repeats`) and JPEGs written, for each method in `ms`."
    wall, cpu, n = {k: [] for k in ms}, {k: [] for k in ms}, {}
    for r in range(repeats):                                         # methods take turns, so load changes hit all
        for i, (k, f) in enumerate(ms.items()):
            # A new folder each run, nothing deleted until the end: on ext4 without a journal, creating a file soon
            # (<30 s) after many deletions costs ~1 ms (the allocator skips each recently deleted inode).
            w, c, n[k] = run(f, videos, dest/f'{r}-{i}')
            wall[k].append(w); cpu[k].append(c)
    if len(set(n.values())) != 1: raise SystemExit(f'The methods wrote different numbers of frames: {n}')
    return wall, cpu, n

def report(title, wall, cpu, n):
    "Print frames/s (wall) and frames per CPU-second of each method, their ratios to the first, and each run's ratio."
    med, a = statistics.median, next(iter(n))
    fps, fpc = {k: n[k]/med(wall[k]) for k in n}, {k: n[k]/med(cpu[k]) for k in n}
    print(f"\n{title}\n{'method':48s} {'frames':>7s} {'wall s':>7s} {'frames/s':>9s} {'vs (a)':>7s} {'frames/CPU-s':>13s} {'vs (a)':>7s}  wall ratio per run")
    for k in n:
        per_run = ' '.join(f'{wa/wk:.2f}' for wa, wk in zip(wall[a], wall[k]))
        print(f'{k:48s} {n[k]:7d} {med(wall[k]):7.2f} {fps[k]:9.0f} {fps[k]/fps[a]:6.2f}x {fpc[k]:13.0f} {fpc[k]/fpc[a]:6.2f}x  {per_run}')

@call_parse
def main(
    source:str='real', # `real`: UCF101 clips (the test assets repeated, or from `--videos`); `synth`: generated clips
    videos:str=None, # A UCF101 folder (class folders of .avi) to take real clips from, instead of the test assets
    clips:int=84, # Number of clips (84: a whole-tree run of `ucf_seq` then takes about 2 s, long enough to time)
    frames:int=170, # `synth` only: mean frames per clip (+-20)
    procs:int=defaults.cpus, # Processes on each side in the whole-tree comparison (0: skip it)
    one_process:bool=True, # Also compare in one process, clip after clip
    n_threads:str='', # Comma-separated `n_threads` values of `avi2frames` to time (default: its default)
    repeats:int=3, # Runs of each method; the table shows the median
    out:str=None, # Folder to write frames into (default: the temporary folder), e.g. /dev/shm to leave the disk out
):
    "Time the tutorial's frame extraction and ucf_seq's on the same clips, at equal process counts."
    nts = tuple(int(t) for t in n_threads.split(',')) if n_threads else (None,)
    tmp = Path(tempfile.mkdtemp(prefix='ucf_seq_bench_'))
    dest = Path(tempfile.mkdtemp(prefix='ucf_seq_bench_frames_', dir=out))
    try:
        vs, what = bench_clips(tmp, source, clips, videos, frames)
        ms_file = create_cost(dest/'probe')
        if ms_file > 0.1: print(f'Warning: creating a file under {dest.parent} takes {ms_file:.2f} ms, which will dominate the times. '
                                'On ext4 without a journal that happens for a minute or so after many files were deleted '
                                'nearby (a previous run of this script deletes its frames when it ends): wait, or pass --out.')
        print(f'{what}, written under {dest.parent} (creating a file: {ms_file:.3f} ms); {os.cpu_count()} CPUs ({cpu_model()}), '
              f'load average {os.getloadavg()[0]:.1f} before; PyAV {av.__version__}, simplejpeg {simplejpeg.__version__}; '
              f'median of {repeats} runs')
        if procs:
            w, c, n = time_methods(tree_methods(procs, nts), vs, dest/'tree', repeats)
            report(f'Whole tree, {procs} processes each ({n[next(iter(n))]} frames):', w, c, n)
        if one_process:
            w, c, n = time_methods(one_methods(nts), vs, dest/'one', repeats)
            report(f'One process ({n[next(iter(n))]} frames):', w, c, n)
        print(f'load average after: {os.getloadavg()[0]:.1f}')
    finally:
        for d in (tmp, dest): shutil.rmtree(d, ignore_errors=True)
