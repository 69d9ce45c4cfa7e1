"""Build a local Demucs model repo holding one randomly initialised HTDemucs.

    python -m sfa_sidecar.separation.tiny_model OUTDIR [--name tiny] [--full-size] [--seed 0]

The repo works both with our op (``repo=OUTDIR, model=NAME``) and with the demucs CLI
(``python -m demucs --repo OUTDIR -n NAME``): ``{sig}.th`` holds ``{klass, args, kwargs, state}``
and ``{NAME}.yaml`` says ``models: [sig]``. The tiny model (channels 4, no DConv; nfft 4096 and
depth 4 kept, since shrinking them makes it slower;
3.9 s segment) is for tests; ``--full-size`` builds the real
htdemucs architecture (~42M parameters), same compute as the published model, for benchmarks.
Weights are random: the stems are noise-like, the compute path is the real one.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from fractions import Fraction
from pathlib import Path

SOURCES = ["drums", "bass", "other", "vocals"]

# The published htdemucs (955717e8) hyper-parameters.
FULL_KWARGS = dict(
    sources=SOURCES, audio_channels=2, samplerate=44100, segment=Fraction(39, 5),
    channels=48, growth=2, nfft=4096, depth=4, cac=True, rewrite=True,
    dconv_mode=3, dconv_depth=2, dconv_comp=8, dconv_init=1e-3,
    bottom_channels=512, t_layers=5, t_hidden_scale=4.0, t_heads=8,
    norm_starts=4, norm_groups=4, multi_freqs=[], multi_freqs_depth=3,
    freq_emb=0.2, emb_scale=10, emb_smooth=True, kernel_size=8, stride=4,
    time_stride=2, context=1, context_enc=0, wiener_iters=0, end_iters=0,
)
# Tiny: a 3.9 s training segment (each chunk is padded to it) halves the work per chunk.
TINY_KWARGS = dict(FULL_KWARGS, channels=4, dconv_mode=0, bottom_channels=0, t_layers=1, t_heads=4,
                   t_hidden_scale=2.0, segment=Fraction(39, 10))


def build(outdir: str | Path, name: str = "tiny", full_size: bool = False, seed: int = 0) -> Path:
    """Write ``{sig}.th`` and ``{name}.yaml`` into outdir; return the .th path."""
    import torch  # noqa: PLC0415
    from demucs.htdemucs import HTDemucs  # noqa: PLC0415

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    kwargs = dict(FULL_KWARGS if full_size else TINY_KWARGS)
    torch.manual_seed(seed)
    model = HTDemucs(**kwargs)
    if not full_size:
        # Random init at 'rescale=0.1' gives near-silent outputs through 4 tiny layers; scale the
        # weights up a little so that the stems carry signal and parity checks mean something.
        with torch.no_grad():
            for p in model.parameters():
                if p.dim() > 1:
                    p.mul_(2.0)
    package = {"klass": HTDemucs, "args": [], "kwargs": kwargs,
               "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    buf = io.BytesIO()
    torch.save(package, buf)
    data = buf.getvalue()
    sig = hashlib.sha256(data).hexdigest()[:8]
    for old in out.glob("*.th"):
        if old.stem == sig:
            old.unlink()
    th_path = out / f"{sig}.th"
    th_path.write_bytes(data)
    (out / f"{name}.yaml").write_text(f"models: ['{sig}']\n")
    return th_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sfa_sidecar.separation.tiny_model", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--name", default="tiny")
    parser.add_argument("--full-size", action="store_true", help="the full htdemucs architecture (benchmarks)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = build(args.outdir, args.name, args.full_size, args.seed)
    print(f"wrote {path} and {Path(args.outdir) / (args.name + '.yaml')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
