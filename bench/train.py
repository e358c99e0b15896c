"""Training speed on a GPU: clips/s of each model at the tutorial's settings, what limits it, and the tutorial's
pipeline against `ucf_seq`'s, in the same run.

    python bench/train.py [--workers 16] [--repeat 8] [--models simple,lstm,timesformer] [--json out.json]

Run from the repository root on a CUDA machine (on a CPU it runs too, slowly: `--quick` for a smoke test). It writes
UCF101-format clips with `ucf_seq.synth` (320x240 MPEG-4 AVI), extracts them with `ucf_seq.frames` twice (full size
for the tutorial's loader, short side 64 for `ucf_seq`'s), and at the tutorial's settings (batch 32, 5 frames of
64 px, mixed precision, ImageNet resnet34 encoders without their weights, which changes nothing in speed) measures:

- **GPU**: training steps on a batch already on the GPU, so no loader: fp16 mixed precision as fastai's `to_fp16`
  (autocast and a gradient scaler), then with channels_last memory and with `torch.compile`;
- **loader**: batches of a `DataLoader` with `--workers` processes, moved to the GPU with their batch transforms;
- **fit**: `Learner.fit` end to end, fp16, each pipeline with the same model.

Epochs are made long (the clip list repeated `--repeat` times) so that worker start-up does not count, and each
rate is measured over the batches after the first `--skip`. Results are recorded in BENCHMARKS.md.
"""
import json, sys, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
warnings.filterwarnings('ignore', category=SyntaxWarning)
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))        # bench/loader.py: the tutorial's pipeline
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # this checkout's ucf_seq
import torch, torch.nn.functional as F
from fastcore.script import call_parse
from fastai.vision.all import *
from ucf_seq.synth import make_ucf101_sample
from ucf_seq.frames import videos2frames
from ucf_seq.data import get_action_dataloaders, get_instances
from ucf_seq.baseline import SimpleModel, simple_splitter
from ucf_seq.lstm import RNNModel, rnnmodel_splitter
from ucf_seq.timesformer import TimeSformerModel
from loader import tutorial_get_action_dataloaders

def make_model(name, n_out, size, seq_len):
    "The model `name` at the tutorial's settings, without pretrained weights."
    if name == 'simple': return SimpleModel(resnet34, n_out, pretrained=False)
    if name == 'lstm': return RNNModel(resnet34, n_out, pretrained=False)
    return TimeSformerModel(n_out, image_size=size, num_frames=seq_len)

def sync():
    if torch.cuda.is_available(): torch.cuda.synchronize()

def gpu_rate(model, bs, seq_len, size, steps, channels_last=False, compile=False, mode=None) -> float:
    "Training clips/s on one batch already on the device, fp16 autocast + gradient scaler as fastai's `to_fp16`."
    dev = default_device()
    x = torch.randn(bs, seq_len, size, size, 3, device=dev).permute(0, 1, 4, 2, 3)  # (B,T,C,H,W) viewed, NHWC memory
    x = x if channels_last else x.contiguous()
    y = torch.randint(0, 4, (bs,), device=dev)
    model = model.to(dev, memory_format=torch.channels_last) if channels_last else model.to(dev)
    fwd = torch.compile(model, mode=mode) if compile else model
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    scaler = torch.amp.GradScaler(enabled=dev.type == 'cuda')
    def step():
        with torch.autocast(dev.type, dtype=torch.float16, enabled=dev.type == 'cuda'): loss = F.cross_entropy(fwd(x), y)
        opt.zero_grad(set_to_none=True); scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
    for _ in range(5): step()  # warm-up (and compilation)
    sync(); t = time.perf_counter()
    for _ in range(steps): step()
    sync(); return steps*bs/(time.perf_counter() - t)

def loader_rate(dl, skip) -> float:
    "Clips/s delivered by `dl` (with its batch transforms, on its device) after its first `skip` batches."
    n, t = 0, None
    for i, (xb, yb) in enumerate(dl):
        if i == skip: sync(); t = time.perf_counter()
        elif i > skip: n += len(yb)
    sync(); return n/(time.perf_counter() - t)

class BatchClock(Callback):
    "Wall time of the training batches after the first `skip`."
    order = 100
    def __init__(self, skip): self.skip, self.n, self.t0 = skip, 0, None
    def after_batch(self):
        if not self.training: return
        if self.iter == self.skip: sync(); self.t0 = time.perf_counter()
        elif self.iter > self.skip: self.n += find_bs(self.yb)
    def after_epoch(self): sync(); self.rate = self.n/(time.perf_counter() - self.t0)

OPTS = dict(fastai=Adam,  # fastai's default: a Python loop over the parameters
            fused=partial(OptimWrapper, opt=torch.optim.AdamW, fused=True))  # PyTorch's fused AdamW, wrapped by fastai

def fit_rate(dls, model, splitter, skip, opt='fastai') -> float:
    "Training clips/s of `Learner.fit` for one epoch, fp16 on a GPU, with optimizer `opt` (a key of `OPTS`)."
    learn = Learner(dls, model, metrics=accuracy, splitter=splitter, cbs=BatchClock(skip), opt_func=OPTS[opt])
    if torch.cuda.is_available(): learn = learn.to_fp16()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)
    return learn.batch_clock.rate

def long_split(n_items, repeat, bs):
    "A splitter for the clip list repeated `repeat` times: every copy trains but one batch's worth, which validates."
    n = n_items*repeat
    return lambda items: (L(range(n - bs)), L(range(n - bs, n)))

@call_parse
def main(
    dest:str='/tmp/ucf_seq_train_bench', # Folder for the clips and frames (reused if there)
    models:str='simple,lstm,timesformer', # Models to time
    bs:int=32, # Batch size (the tutorial's: 32)
    size:int=64, # Side of the frames (the tutorial's: 64)
    seq_len:int=5, # Frames per clip (the tutorial's: 5)
    workers:int=None, # DataLoader processes; default one per CPU
    repeat:int=8, # Repeat the clip list this many times, for long epochs
    skip:int=20, # Batches not timed at the start of a pass (worker start-up, cuDNN autotuning)
    steps:int=30, # Timed steps for the GPU-only rates
    variants:str='fp16,channels_last,compile', # GPU-only variants: fp16, channels_last, compile, cudagraphs (compile's reduce-overhead)
    opts:str='fastai', # Optimizers for the fit rates: fastai (its Adam), fused (PyTorch's fused AdamW in `OptimWrapper`)
    quick:bool=False, # A smoke test: few clips, short passes
    json_out:str=None, # Also write the results to this JSON file
):
    "Time training of each model on a GPU, with and without the loader, for the tutorial's pipeline and ucf_seq's."
    workers = ifnone(workers, defaults.cpus)
    if quick: repeat, skip, steps = 1, 2, 3
    dev = default_device()
    print(f"device: {torch.cuda.get_device_name() if dev.type == 'cuda' else 'CPU'}, torch {torch.__version__}, "
          f"{defaults.cpus} CPUs, {workers} loader workers; bs={bs}, {seq_len} frames of {size} px")
    t = time.time()
    root = make_ucf101_sample(Path(dest), groups=range(1, 26), clips_per_group=(2, 2) if quick else (4, 5), n_frames=(60, 90))
    full, small = Path(dest)/'frames-full', Path(dest)/f'frames-{size}'
    videos2frames(root/'UCF101', full, progress=False)
    videos2frames(root/'UCF101', small, size=size, progress=False)
    items_full, items_small = get_instances(full), get_instances(small)
    print(f"{len(items_small)} clips of 60-90 frames (320x240), repeated {repeat}x per epoch; data ready in {time.time()-t:.0f}s")
    kw = dict(bs=bs, image_size=size, seq_len=seq_len, num_workers=workers, device=dev)
    ours = get_action_dataloaders(items_small*repeat, splitter=long_split(len(items_small), repeat, bs), **kw)
    n = len(items_full)*repeat
    tut = tutorial_get_action_dataloaders(items_full*repeat, val_idxs=list(range(n - bs, n)), **kw)
    res = dict(device=str(torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'), torch=torch.__version__,
               cpus=defaults.cpus, workers=workers, bs=bs, size=size, seq_len=seq_len, loader={}, models={})
    for k, dls in (('tutorial', tut), ('ucf_seq', ours)):
        res['loader'][k] = loader_rate(dls.train, skip)
        print(f"loader, {k}: {res['loader'][k]:,.0f} clips/s", flush=True)
    for name in models.split(','):
        r = res['models'][name] = {}
        for v in variants.split(','):
            if v == 'channels_last' and name == 'timesformer': continue  # no convolutions
            try: r[v] = gpu_rate(make_model(name, 4, size, seq_len), bs, seq_len, size, steps, channels_last=v == 'channels_last',
                                 compile=v in ('compile', 'cudagraphs'), mode='reduce-overhead' if v == 'cudagraphs' else None)
            except Exception as e: r[v] = f'{type(e).__name__}: {str(e)[:200]}'
            print(f"{name}, GPU only, {v}: {r[v] if isinstance(r[v], str) else f'{r[v]:,.0f} clips/s'}", flush=True)
        split = dict(simple=simple_splitter, lstm=rnnmodel_splitter).get(name, trainable_params)
        for o in opts.split(','):
            for k, dls in (('tutorial', tut), ('ucf_seq', ours)):
                r[f'fit, {k}, {o}'] = fit_rate(dls, make_model(name, len(dls.vocab), size, seq_len), split, skip, o)
                print(f"{name}, fit with the {k} pipeline, {o} optimizer: {r[f'fit, {k}, {o}']:,.0f} clips/s", flush=True)
    vs, os_ = variants.split(','), opts.split(',')
    print(f"\n| model | GPU only: {' | '.join(vs)} | " + ' | '.join(f'fit, {k}, {o}' for o in os_ for k in ('tutorial', 'ucf_seq')) + ' |',
          '| --- |' + ' ---: |'*(len(vs) + 2*len(os_)), sep='\n')
    fmt = lambda v: '-' if v is None else v if isinstance(v, str) else f'{v:,.0f}'
    for name, r in res['models'].items():
        print(f"| {name} | " + ' | '.join(fmt(r.get(v)) for v in vs) + ' | ' +
              ' | '.join(fmt(r[f'fit, {k}, {o}']) for o in os_ for k in ('tutorial', 'ucf_seq')) + ' |')
    print(f"\nloader alone (clips/s, {workers} workers, batch transforms on the device): tutorial {res['loader']['tutorial']:,.0f}, "
          f"ucf_seq {res['loader']['ucf_seq']:,.0f} ({res['loader']['ucf_seq']/res['loader']['tutorial']:.1f}x)")
    if json_out: Path(json_out).write_text(json.dumps(res, indent=1))
