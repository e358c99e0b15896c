"""Loading speed: the fastai "Image sequences" tutorial's data pipeline vs `ucf_seq.data`, on the same clips.

Run from the repository root: `python bench/loader.py` (`--help` for options). It takes real UCF101 clips (the three
test assets of `testdata/`, repeated, or clips of a UCF101 folder given with `--videos`), or with `--source synth` a
generated UCF101-like sample (clips of 150-190 frames); extracts them three times with `ucf_seq.frames` (full size
for the tutorial, short side 64 and 128 for `ucf_seq`), checks that both pipelines give the same frames, and prints
clips/s as a markdown table.
"""
import atexit, importlib, shutil, sys, tempfile, time, statistics, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark this checkout's ucf_seq
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch
from fastcore.script import call_parse
from fastai.vision.all import *
from ucf_seq.frames import videos2frames  # also patches `Path.ls_sorted`, which the tutorial's code needs
from ucf_seq.data import get_action_dataloaders, get_instances
from clips import bench_clips

# ---- The tutorial's pipeline, copied from its "Data pipeline" section --------------------------------------
# Only change: `Path.ls_sorted` is `ucf_seq.frames`'s, which skips the hidden `.frames.json` that `ucf_seq.frames`
# writes in each clip folder (the tutorial's version would try `int('.frames')`); it lists and sorts the folder
# on every call, as the tutorial's does.

class ImageTuple(fastuple):
    "A tuple of PILImages"
    def show(self, ctx=None, **kwargs):
        n = len(self)
        img0, img1, img2 = self[0], self[n//2], self[n-1]
        if not isinstance(img1, Tensor):
            t0, t1, t2 = tensor(img0), tensor(img1), tensor(img2)
            t0, t1, t2 = t0.permute(2,0,1), t1.permute(2,0,1), t2.permute(2,0,1)
        else: t0, t1, t2 = img0, img1, img2
        return show_image(torch.cat([t0, t1, t2], dim=2), ctx=ctx, **kwargs)

class ImageTupleTfm(Transform):
    "A wrapper to hold the data on path format"
    def __init__(self, seq_len=20): store_attr()
    def encodes(self, path: Path):
        "Get a list of images files for folder path"
        frames = path.ls_sorted()
        n_frames = len(frames)
        s = slice(0, min(self.seq_len, n_frames))
        return ImageTuple(tuple(PILImage.create(f) for f in frames[s]))

def tutorial_get_action_dataloaders(files, bs=8, image_size=64, seq_len=20, val_idxs=None, **kwargs):
    "Create a dataloader with `val_idxs` splits"
    splits = RandomSplitter()(files) if val_idxs is None else IndexSplitter(val_idxs)(files)
    itfm = ImageTupleTfm(seq_len=seq_len)
    ds = Datasets(files, tfms=[[itfm], [parent_label, Categorize]], splits=splits)
    dls = ds.dataloaders(bs=bs, after_item=[Resize(image_size), ToTensor],
                         after_batch=[IntToFloatTensor, Normalize.from_stats(*imagenet_stats)], drop_last=True, **kwargs)
    return dls

# ---- Measuring ------------------------------------------------------------------------------------------------

def clips_per_s(dl, min_time:float, clock=time.process_time) -> float:
    "Clips per second of `clock` over whole passes of `dl`, repeated for at least `min_time` seconds."
    n, start = 0, clock()
    while True:
        for xb, yb in dl: n += len(yb)
        if (dt := clock() - start) >= min_time: return n/dt

def as_clips(xb) -> torch.Tensor:
    "A batch as one (B, T, C, H, W) tensor: the tutorial's is a tuple of T (B, C, H, W) tensors."
    return torch.stack(list(xb), dim=1) if isinstance(xb, (tuple, list)) else xb.as_subclass(torch.Tensor)

def import_copy(pkg:str):
    "`ucf_seq.data` of the package folder `pkg` (another version of `ucf_seq`), imported beside this one."
    tmp = Path(tempfile.mkdtemp(prefix='ucf_seq_compared_'))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    shutil.copytree(pkg, tmp/'ucf_seq_compared')  # its relative imports find its own modules
    sys.path.insert(0, str(tmp))
    patched = (Path, DataLoaders)                  # the classes ucf_seq adds methods to (`@patch`)
    before = [dict(vars(c)) for c in patched]
    data = importlib.import_module('ucf_seq_compared.data')
    for c, d in zip(patched, before):              # its methods must not replace this version's
        for k, v in d.items():
            if vars(c).get(k) is not v: setattr(c, k, v)
    return data

def frames_bytes(root:Path) -> float:
    "Mean size of a frame file under `root`, in bytes."
    fs = list(Path(root).rglob('*.jpg'))
    return sum(f.stat().st_size for f in fs)/len(fs)

@call_parse
def main(
    source:str='real', # `real`: UCF101 clips (the test assets repeated, or from `--videos`); `synth`: generated clips
    videos:str=None, # A UCF101 folder (class folders of .avi) to take real clips from, instead of the test assets
    clips:int=24, # Number of clips
    dest:str='/tmp/ucf_seq_bench', # Folder for the clips and their frames (made anew)
    bs:int=16, # Batch size
    num_workers:int=0, # DataLoader workers, the same for both pipelines (0: this process)
    threads:int=1, # torch threads in this process (fastai's workers use 1)
    min_time:float=1.0, # Seconds per measurement, at least
    reps:int=3, # Measurements per pipeline, interleaved; the table shows medians
    wall:bool=False, # Time with the wall clock; default this process's CPU time (steady on a shared machine; wall with workers)
    compare:str=None, # Another version's `ucf_seq` package folder (e.g. from `git archive`), timed in turn with this one
):
    "Time the tutorial's loader against `ucf_seq.data` on the same clips and print a markdown table."
    torch.set_num_threads(threads)
    other = import_copy(compare) if compare else None
    clock = time.perf_counter if wall or num_workers else time.process_time
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    vs, what = bench_clips(dest, source, clips, videos)
    root = dest
    trees = {s: dest/f'frames-{s or "full"}' for s in (None, 64, 128)}
    for s, t in trees.items(): videos2frames(root/'UCF101', t, size=s, n_workers=2, progress=False)
    items = {s: get_instances(t) for s, t in trees.items()}
    assert all([o.relative_to(trees[s]) for o in items[s]] == [o.relative_to(trees[None]) for o in items[None]] for s in trees)
    # validation: every clip but the first of each class (the tutorial's `Categorize` takes its classes from the training set)
    n, val = len(items[None]), [i for i, o in enumerate(items[None]) if i and o.parent == items[None][i-1].parent]
    lens = [len(o.ls_sorted()) for o in items[None]]
    print(f"{what}: {n} clips of {min(lens)}-{max(lens)} frames; mean frame file: " +
          ', '.join(f"{'full' if s is None else s}: {frames_bytes(t)/1024:.1f} KB" for s, t in trees.items()))
    print(f"bs={bs}, num_workers={num_workers}, torch threads={threads}, {'wall' if clock is time.perf_counter else 'CPU'} time, "
          "validation loaders (center crop, first-N frames)\n")
    rows = []
    for size, seq_len in ((64, 5), (128, 8)):
        kw = dict(bs=bs, image_size=size, seq_len=seq_len, val_idxs=val, num_workers=num_workers)
        dls = {'tutorial (PIL, full-size frames)': tutorial_get_action_dataloaders(items[None], **kw).valid,
               f'ucf_seq (frames extracted at {size})': get_action_dataloaders(items[size], sample='first', aug=False, **kw).valid,
               'ucf_seq (full-size frames, DCT-scaled decode)': get_action_dataloaders(items[None], sample='first', aug=False, **kw).valid}
        if other: dls[f'ucf_seq of {compare} (frames at {size})'] = other.get_action_dataloaders(items[size], sample='first', aug=False, **kw).valid
        (xt, yt), (xo, yo), (xf, yf), *xy_other = (dl.one_batch() for dl in dls.values())  # also warms caches
        xt, xo, xf = map(as_clips, (xt, xo, xf))
        for x, y in xy_other:  # normalized units: 0.1 is about 6 levels of 0-255 (decoder options differ by 1-2)
            assert (as_clips(x).float() - xo).abs().mean() < 0.1 and (y == yo).all(), 'the compared version reads other frames'
        assert xt.shape == xo.shape == xf.shape == (bs, seq_len, 3, size, size), (xt.shape, xo.shape, xf.shape)
        assert (yt == yo).all() and (yt == yf).all()
        std = torch.tensor(imagenet_stats[1]).view(1, 1, 3, 1, 1)
        diff = {k: (((a - xt)*std).abs().mean()*255).item() for k, a in (('pre-resized', xo), ('full-size', xf))}
        # pre-resized frames went through two JPEG encodings and the fast decoder (measured on the real clips at 64 px:
        # 5.2 levels); a flipped clip differs by 13-100, frames three later by 2-5.5 (so this checks crops, not timing)
        assert max(diff.values()) < 8, f"pipelines disagree: mean abs diff {diff} (0-255 scale)"
        # "loader": what the DataLoader produces before the batch transforms (on a GPU machine those run on the GPU);
        # "+ batch tfms": also IntToFloatTensor/Normalize (tutorial) or ClipNormalize (ucf_seq) on this CPU
        bare = {k: dl.new(after_batch=Pipeline([])) for k, dl in dls.items()}
        speeds = {(k, m): [] for k in dls for m in ('loader', 'full')}
        for _ in range(reps):
            for k in dls:
                speeds[k, 'loader'].append(clips_per_s(bare[k], min_time, clock))
                speeds[k, 'full'].append(clips_per_s(dls[k], min_time, clock))
        med = {km: statistics.median(v) for km, v in speeds.items()}
        tut = next(iter(dls))
        for k in dls:
            rows.append(f"| {size} px x {seq_len} | {k} | {med[k, 'loader']:,.0f} | **{med[k, 'loader']/med[tut, 'loader']:.1f}x** "
                        f"| {med[k, 'full']:,.0f} | {med[k, 'full']/med[tut, 'full']:.1f}x |")
        print(f"{size}x{seq_len}: mean abs pixel difference from the tutorial's batch: " +
              ', '.join(f"{k} {v:.2f}" for k, v in diff.items()) + " (0-255)")
        print('  clips/s per rep:', {f'{k[:12]}.. {m}': [round(s) for s in v] for (k, m), v in speeds.items()})
        if other:
            for m in ('loader', 'full'):
                r = sorted(a/b for a, b in zip(speeds[list(dls)[1], m], speeds[list(dls)[-1], m]))
                print(f'  {m}: this version / the compared one, rep by rep: median {statistics.median(r):.3f}, '
                      f'middle half {r[len(r)//4]:.3f}-{r[(3*len(r))//4]:.3f}')
    print("\n| setting | pipeline | loader clips/s | vs tutorial | + batch tfms on CPU, clips/s | vs tutorial |",
          "| --- | --- | ---: | ---: | ---: | ---: |", *rows, sep='\n')
