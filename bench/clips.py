"""Clips for the benchmarks: real UCF101 clips (the test assets, repeated, or a UCF101 folder you name) or generated ones."""
import shutil, tempfile
from pathlib import Path
from ucf_seq.frames import avi2frames, FrameExtractionError
from ucf_seq.synth import make_ucf101_sample

ASSETS = Path(__file__).resolve().parents[1]/'testdata'/'ucf101'/'UCF-101'

def extractable(videos) -> tuple:
    "(videos `avi2frames` accepts, [(video, reason)] for those it refuses), tried once into a scratch folder."
    ok, bad, tmp = [], [], Path(tempfile.mkdtemp(prefix='ucf_seq_bench_try_'))
    try:
        for v in videos:
            try: avi2frames(v, tmp); ok.append(v)
            except FrameExtractionError as e: bad.append((v, e.reason))
    finally: shutil.rmtree(tmp, ignore_errors=True)
    return ok, bad

def repeated_tree(dest:Path, sources, n:int) -> list:
    "`n` copies of the clips `sources`, in turn, as `dest/<Class>/v_<Class>_gXX_cYY.avi` (class = the source's folder)."
    out = []
    for i in range(n):
        src = Path(sources[i % len(sources)])
        cls, k = src.parent.name, i // len(sources)
        fn = Path(dest)/cls/f'v_{cls}_g{k//7 + 1:02d}_c{k%7 + 1:02d}.avi'
        fn.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, fn)
        out.append(fn)
    return sorted(out)

def bench_clips(dest:Path, source:str='real', n:int=28, videos:str=None, n_frames:int=170) -> tuple:
    """(clips, description): `n` clips in the tree `dest/UCF101` (or a folder of `videos`): `real` repeats the test
    assets (and `videos`, if given, is a UCF101 folder, `n` clips of which, spread over it, are copied), `synth` generates them."""
    dest = Path(dest)
    if source == 'synth':
        per_group = -(-n // 100)                                   # 4 classes x 25 groups x `per_group` clips
        groups = tuple(range(1, -(-n // (4*per_group)) + 1))
        make_ucf101_sample(dest, groups=groups, clips_per_group=(per_group, per_group), n_frames=(n_frames-20, n_frames+20))
        vs = sorted((dest/'UCF101').rglob('*.avi'))
        for v in vs[n:]: v.unlink()                                # the tree holds exactly the clips timed
        return vs[:n], f'{n} generated clips (ucf_seq.synth, 320x240 MPEG-4, 25 fps, {n_frames-20}-{n_frames+20} frames)'
    if source != 'real': raise ValueError(f'source must be real or synth, not {source!r}')
    found = sorted(Path(videos).rglob('*.avi')) if videos else sorted(ASSETS.rglob('*.avi'))
    ok, bad = extractable(found if videos is None else found[::max(1, len(found)//n)][:n])   # spread over the classes
    for v, r in bad: print(f'Left out (avi2frames refuses it): {v}: {r}')
    if not ok: raise SystemExit('No clip that avi2frames accepts')
    if videos: vs, what = repeated_tree(dest/'UCF101', ok, min(n, len(ok))), f'{min(n, len(ok))} real clips from {videos}'
    else: vs, what = repeated_tree(dest/'UCF101', ok, n), f'{n} real clips: the {len(ok)} UCF101 test assets repeated'
    return vs, what
