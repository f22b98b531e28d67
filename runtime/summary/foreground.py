"""How much of a fixed camera's view differs from the scene it usually shows: the live activity signal.

A camera owner's "something happened" is something in view that is not part of the
scene: a person, a car, a hand, an object moved. A per-pixel background model
(running mean and variance of a small grey image, the classic adaptive background of
Stauffer-Grimson and of every NVR's motion gate) says where the frame departs from the
scene, and it keeps saying so while a person stands still, where frame differencing
falls silent. Three choices make it hold up on real footage:

- a pixel is foreground only when it departs by several of its own standard
  deviations, so places that always move (leaves, water, a flickering screen) learn a
  wide spread and stop counting;
- auto exposure is undone first: a camera's exposure and contrast act on the whole view
  as one affine map of the grey levels, so where the frame departs from the background by
  more than `min_gain_step` in contrast, the background is mapped onto the frame by an
  affine fit of the two images' grey-level quantiles (robust to a person or a car, who
  move a few quantiles a little, and to a shaking view, which keeps its distribution),
  and it is compared with its bright end clipped where the frame
  saturates (a brighter exposure clips a bright wall at white); on a frame whose exposure
  changed, where the scene itself is near black or white is no evidence (a colour channel
  clips before the grey level does and bends the map there). Then the global
  brightness shift (what is left of exposure, a cloud) is removed as the median
  difference over the frame. Without this, every exposure hunt of a quiet camera lit up
  its bright and dark areas as foreground (13 false highlights in 4 hours);
- background pixels adapt; foreground pixels never drift toward what covers them
  (a slow drift leaves a person-shaped ghost when a long-standing person leaves), but
  a pixel that has stayed foreground and unchanged for `absorb_s` joins the scene at
  once, so a parked car or a moved cup stops counting while a person who shifts even
  a little does not;
- when most of the view departs at once (a cut to another camera view, the lights
  going on), that is a new scene, not something in it: the model starts over from
  that frame;
- a camera owner's motion masks (a burned-in clock, a street, a screen) are left out
  of every share and mean: the view is what lies outside them;
- for its first `warmup_s` after it starts or starts over (a new epoch, a cut) the model
  has not yet seen the scene move, and a camera that sways from its first frame moves every
  edge of the view by a pixel or so, far more than `initial_sigma` allows there: without a
  warm-up a shaking camera opened a highlight in its first seconds. The score and what the
  model learns stay as they are, but during the warm-up a frame whose foreground scores 0.5
  (presence or moving presence) may start a highlight (`may_start`) only when its
  foreground *outside the range the background spans over each pixel's 3x3 neighbourhood*
  still scores 0.5 (one analysis pixel is 5 of a 640-px substream): a view shifted by up to
  a pixel stays inside that range, a person walking in does not, and is announced as fast
  as later. Scoring the warm-up by that stricter rule instead cost busy scenes whose subject
  moves from the first frame (their scores fell, and the moving subject was learnt as the
  scene's own spread). Sensor noise needs nothing of the kind: averaged down to 128 px, even
  the strongest the stream builder makes stays far below `initial_sigma`.

The score is the share of the view that is foreground, squashed to [0, 1]. Beside it:

- `moving`: the share of the view that is foreground *and* changed since the last sampled
  frame, squashed. Presence says *something is there*, moving says *it is moving now*;
  where something is always in view (a hand holding a box, a mouse in an arena) only the
  second tells the stand-out moments from the rest;
- `cut`: this frame started a new scene (see above). Several cuts a minute mean edited
  video, where every shot is too short for a background to settle and the camera moves;
- `steady`: the frame difference after undoing the global shift between the two frames
  (phase correlation, the textbook camera-motion compensation), squashed: what moves
  against the background when the camera pans or drifts;
- `motion`: the plain frame difference (mean absolute change of the grey image since the
  last sampled frame, squashed), the teacher signal of the activity training recipe.

Plain numpy on a frame about 128 pixels wide: about a millisecond per frame on a 2-core VM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgsum.runtime.summary.regions import Point, rasterise


@dataclass(frozen=True)
class ForegroundSettings:
    """The background model's constants (one set for every camera; see the module docstring)."""

    width: int = 128  # analysis width in pixels; the height follows the aspect ratio
    k_sigma: float = 3.0  # a pixel departs when |diff| > k_sigma * its spread ...
    min_diff: float = 10.0  # ... and by at least this many grey levels (of 255)
    adapt_s: float = 8.0  # time constant of the background where nothing is in front of it
    absorb_s: float = 30.0  # a pixel foreground and unchanged this long joins the scene (a parked car)
    still_diff: float = 6.0  # frame-to-frame change (grey levels) under which a foreground pixel counts as unchanged
    initial_sigma: float = 8.0  # spread assumed before the model has seen the scene move
    warmup_s: float = 5.0  # this long after a (re)start only foreground beyond its 3x3 range may start a highlight
    min_sigma: float = 2.5  # compression noise: no pixel is trusted closer than this
    exposure_gain: bool = True  # undo a global contrast change (auto exposure) before comparing
    min_gain_step: float = 0.05  # ... when the fitted contrast departs from 1 by at least this
    max_misfit: float = 4.0  # ... and the map fits every usable quantile within this many grey levels
    max_gain_step: float = 2.0  # ... by at most this factor either way (more is a new scene's business)
    well_exposed: tuple[float, float] = (10.0, 235.0)  # grey levels a fit trusts (no clipping near them)
    half_share: float = 0.01  # the foreground share that scores 0.5
    new_scene_share: float = 0.6  # this much of the view departing at once is a new scene
    motion_scale: float = 4.0  # a mean frame difference of this many grey levels scores 1 - 1/e
    moving_half_share: float = 0.003  # the share of the view foreground and changing that scores `moving` 0.5
    steady_scale: float = 8.0  # a camera-compensated mean difference of this many grey levels scores 1 - 1/e
    max_shift: int = 16  # the largest camera shift (analysis pixels per sampled frame) compensated


# percentiles whose pairs (background, frame) fit the exposure map: the view's body, 5 % to 95 %, and its top end
EXPOSURE_QUANTILES = (*range(5, 100, 5), 99.5)
EXPOSURE_FRACTIONS = np.true_divide(EXPOSURE_QUANTILES, 100)
SATURATION_MARGIN = 10.0  # grey levels above the well-exposed range where a frame counts as saturating


def grey_small(rgb: np.ndarray, width: int) -> np.ndarray:
    """Luma (BT.601) of an RGB frame, area-averaged down to `width` px wide (aspect kept), float32."""
    grey = rgb[..., 0] * np.float32(0.299) + rgb[..., 1] * np.float32(0.587) + rgb[..., 2] * np.float32(0.114)
    h, w = grey.shape
    out_w = min(width, w)
    out_h = max(1, min(h, round(h * out_w / w)))
    # Bin starts: each output pixel averages the input pixels from its start to the next one's.
    rows = np.floor(np.arange(out_h) * (h / out_h)).astype(np.intp)
    cols = np.floor(np.arange(out_w) * (w / out_w)).astype(np.intp)
    sums = np.add.reduceat(np.add.reduceat(grey, rows, axis=0), cols, axis=1)
    sizes = np.diff(np.append(rows, h))[:, None] * np.diff(np.append(cols, w))[None, :]
    return (sums / sizes).astype(np.float32)


class ForegroundModel:
    """One stream's background; `update(rgb)` returns the frame's foreground share and score."""

    def __init__(
        self, fps: float, settings: ForegroundSettings | None = None, masks: Sequence[Sequence[Point]] = ()
    ) -> None:
        self.settings = settings or ForegroundSettings()
        self.fps = fps
        self.masks = [list(m) for m in masks]  # motion masks (relative polygons): their area never counts
        self._keep: np.ndarray | None = None  # True where the view counts, at the analysis size last seen
        self._mean: np.ndarray | None = None
        self._var: np.ndarray | None = None
        self._last: np.ndarray | None = None
        self._last_spectrum: np.ndarray | None = None  # `_spectrum(self._last)`, kept for the next frame's `steady`
        self._still: np.ndarray | None = None  # frames each pixel has been foreground and unchanged
        self._age = 0  # frames seen since the model (re)started
        self.share = 0.0
        self.motion = 0.0  # the last frame's difference from the one before, squashed to [0, 1]
        self.moving = 0.0  # the last frame's foreground that changed since the one before, squashed to [0, 1]
        self.moving_share = 0.0  # ... the share of the view it covers, before squashing
        self.steady = 0.0  # the last frame's camera-compensated difference from the one before, squashed
        self.cut = False  # the last frame started a new scene
        self.may_start = True  # the last frame's foreground may start a highlight (see the warm-up above)
        self.mask: np.ndarray | None = None  # the last frame's foreground pixels (analysis resolution)
        self.changed: np.ndarray | None = None  # ... of them, those that changed since the frame before

    def reset(self) -> None:
        """Forget the scene (a reconnect may bring another view)."""
        self._mean = self._var = self._last = self._last_spectrum = self._still = self.mask = self.changed = None
        self.share = self.motion = self.moving = self.moving_share = self.steady = 0.0
        self.cut = False
        self._age = 0
        self.may_start = True

    def _keep_for(self, shape: tuple[int, ...]) -> np.ndarray | None:
        """Where the view counts at this analysis size (None without masks: everywhere)."""
        if not self.masks:
            return None
        if self._keep is None or self._keep.shape != shape:
            self._keep = ~rasterise(self.masks, (shape[0], shape[1]))
        return self._keep

    def update(self, rgb: np.ndarray) -> float:
        """Take the next sampled frame; return its score in [0, 1] (0 on the first frame)."""
        return self.update_grey(grey_small(rgb, self.settings.width))

    def update_grey(self, grey: np.ndarray) -> float:
        """`update` on a frame already reduced by `grey_small` (float32, analysis width)."""
        s = self.settings
        self.cut = False
        if self._mean is None or self._mean.shape != grey.shape:
            self._mean = grey.copy()  # updated in place below; the caller keeps its frame
            self._var = np.full_like(grey, s.initial_sigma**2)
            self._last = grey
            self._still = np.zeros(grey.shape, np.int32)
            self.mask = np.zeros(grey.shape, bool)
            self.changed = np.zeros(grey.shape, bool)
            self.share = 0.0
            self._age = 1
            self.may_start = True  # nothing departs yet
            return 0.0
        keep = self._keep_for(grey.shape)
        spectrum = _spectrum(grey)
        if self._last_spectrum is None:
            self._last_spectrum = _spectrum(self._last)
        shift = _view_shift(spectrum, self._last_spectrum, grey.shape, s.max_shift)
        seen, trusted = self._mean, None
        if s.exposure_gain:
            seen, trusted = self._follow_exposure(grey, keep, moved=shift != (0, 0))
        diff = grey - seen
        diff -= np.median(diff if keep is None else diff[keep])  # global brightness shift
        spread = np.sqrt(np.maximum(self._var, s.min_sigma**2))
        raw = (np.abs(diff) > s.k_sigma * spread) & (np.abs(diff) > s.min_diff)
        if trusted is not None:
            raw &= trusted  # the exposure changed: near black or white its map bends, no evidence there
        mask = _majority3(raw)  # isolated pixels are noise, not objects
        if keep is not None:
            mask &= keep
        if _share(mask, keep) >= s.new_scene_share:
            self.reset()
            score = self.update_grey(grey)
            self.cut = True
            return score
        self.mask = mask
        self.share = _share(mask, keep)
        change = np.abs(grey - self._last)
        self.motion = float(1.0 - np.exp(-_mean(change, keep) / s.motion_scale))
        unchanged = change < s.still_diff
        self.changed = mask & ~unchanged
        self.moving_share = _share(self.changed, keep)
        self.moving = share_score(self.moving_share, s.moving_half_share)
        self.may_start = self._age >= s.warmup_s * self.fps or self._convincing(diff, spread, keep, unchanged)
        self._age += 1
        steady = _aligned_difference(grey, self._last, shift)
        self.steady = float(1.0 - np.exp(-steady / s.steady_scale))
        self._last, self._last_spectrum = grey, spectrum
        self._still = np.where(mask & unchanged, self._still + 1, 0)
        absorbed = self._still >= s.absorb_s * self.fps
        fast = 1.0 - np.exp(-1.0 / (s.adapt_s * self.fps))
        rate = np.where(mask, 0.0, fast).astype(np.float32)
        self._mean += rate * diff
        # the spread learns only where the frame is background: a person must not widen it
        self._var += rate * (diff * diff - self._var)
        if absorbed.any():
            self._mean[absorbed] = grey[absorbed] - (grey - self._mean - diff)[absorbed]
            self._still[absorbed] = 0
        return share_score(self.share, s.half_share)

    def _follow_exposure(
        self, grey: np.ndarray, keep: np.ndarray | None, moved: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Map the background (and its spread) onto the frame's exposure; return it as the frame can show it (its
        bright end clipped where the frame saturates) and, when the exposure changed, where the comparison can be
        trusted: where the scene is well exposed. Near black or white a colour channel clips before the grey level
        does and bends the map; something dark or bright in front of a well-exposed scene still counts.

        The map matches the two images' grey-level distributions, quantile by quantile, not pixel by pixel: a
        shaking or drifting view keeps its distribution while its pixels move, and a pixel-wise fit would read
        the misalignment as lost contrast. Quantiles near black or white are left out (clipping bends them).
        `moved`: the view shifted since the last frame (a pan, a handheld camera), which brings new content into
        view; then the fit keeps every quantile (see `_fit_exposure`).
        """
        s = self.settings
        assert self._mean is not None and self._var is not None
        lo, hi = s.well_exposed
        frame_hi = hi + SATURATION_MARGIN  # the frame may brighten past the fit's range before it clips
        scene = keep
        if self.mask is not None:
            background = ~self.mask if keep is None else keep & ~self.mask
            if background.sum() >= 0.5 * grey.size:  # else most of the view departs: its last foreground says nothing
                scene = background
        was = exposure_quantiles(self._mean if scene is None else self._mean[scene])
        now = exposure_quantiles(grey if scene is None else grey[scene])
        usable = (was > lo) & (was < hi) & (now > lo) & (now < frame_hi)
        trusted = None
        if usable.sum() >= 6 and was[usable][-1] - was[usable][0] >= 8.0:
            gain, offset, misfit = _fit_exposure(was[usable], now[usable], leave_out=not moved)
            # a global exposure change moves every quantile by one map; something entering the view does not
            if abs(gain - 1.0) >= s.min_gain_step and misfit <= s.max_misfit:
                gain = float(np.clip(gain, 1.0 / s.max_gain_step, s.max_gain_step))
                self._mean *= gain
                self._mean += offset
                self._var *= gain * gain
                trusted = (self._mean > lo) & (self._mean < hi)
        white = float(now[-1])
        return (np.minimum(self._mean, white) if white >= frame_hi else self._mean), trusted

    def _convincing(
        self, diff: np.ndarray, spread: np.ndarray, keep: np.ndarray | None, unchanged: np.ndarray
    ) -> bool:
        """During the warm-up: does the foreground outside the background's 3x3 range score 0.5 (presence or
        moving presence), or does the foreground score less than that anyway (it starts nothing then)? A view
        shifted by up to a pixel stays inside that range."""
        s = self.settings
        assert self.mask is not None
        if self.share < s.half_share and self.moving_share < s.moving_half_share:
            return True
        beyond = _outside_neighbourhood(self._mean + diff, self._mean)
        raw = (np.abs(beyond) > s.k_sigma * spread) & (np.abs(beyond) > s.min_diff)
        strict = _majority3(raw) & self.mask
        return _share(strict, keep) >= s.half_share or _share(strict & ~unchanged, keep) >= s.moving_half_share


def _outside_neighbourhood(value: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """How far each pixel of `value` lies outside the range of `mean` over its 3x3 neighbourhood (0 inside it)."""
    padded = np.pad(mean, 1, mode="edge")
    h, w = mean.shape
    shifts = [padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    return value - np.clip(value, np.minimum.reduce(shifts), np.maximum.reduce(shifts))


def _share(mask: np.ndarray, keep: np.ndarray | None) -> float:
    """The share of the view (outside the motion masks) that `mask` covers."""
    if keep is None:
        return float(mask.mean())
    visible = int(keep.sum())
    return float(mask.sum() / visible) if visible else 0.0


def _mean(values: np.ndarray, keep: np.ndarray | None) -> float:
    """The mean of `values` over the view outside the motion masks."""
    if keep is None:
        return float(values.mean())
    return float(values[keep].mean()) if keep.any() else 0.0


def share_score(share: float, half_share: float) -> float:
    """A foreground share squashed to [0, 1]: `half_share` of the view scores 0.5."""
    return float(share / (share + half_share)) if share > 0 else 0.0


def steady_difference(grey: np.ndarray, last: np.ndarray, max_shift: int) -> float:
    """Mean absolute difference of two grey frames after undoing the whole-frame shift between them.

    The shift is the peak of their phase correlation (whole pixels); a peak farther than
    `max_shift` is not a camera move the frames can be aligned by, so the frames are
    compared as they are. Only the overlap of the aligned frames counts.
    """
    return _aligned_difference(grey, last, _view_shift(_spectrum(grey), _spectrum(last), grey.shape, max_shift))


def _spectrum(grey: np.ndarray) -> np.ndarray:
    """The frame's half spectrum as phase correlation takes it (mean removed); a model keeps the last frame's."""
    return np.fft.rfft2(grey - grey.mean())


def _view_shift(
    spectrum: np.ndarray, last_spectrum: np.ndarray, shape: tuple[int, ...], max_shift: int
) -> tuple[int, int]:
    """The whole-view shift (dy, dx) since the last frame, in analysis pixels: the peak of the two `_spectrum`s'
    phase correlation; (0, 0) beyond `max_shift` (no camera move the frames can be aligned by)."""
    cross = spectrum * np.conj(last_spectrum)
    cross /= np.abs(cross) + 1e-9
    peak = np.unravel_index(int(np.argmax(np.fft.irfft2(cross, s=shape))), shape)
    dy, dx = (int(p) if p <= n // 2 else int(p) - n for p, n in zip(peak, shape, strict=True))
    if max(abs(dy), abs(dx)) > max_shift:
        return 0, 0
    return dy, dx


def _aligned_difference(grey: np.ndarray, last: np.ndarray, shift: tuple[int, int]) -> float:
    """`steady_difference` of two frames `shift` (`_view_shift`) apart."""
    dy, dx = shift
    h, w = grey.shape
    now = grey[max(0, dy) : h + min(0, dy), max(0, dx) : w + min(0, dx)]
    before = last[max(0, -dy) : h + min(0, -dy), max(0, -dx) : w + min(0, -dx)]
    return float(np.abs(now - before).mean())


def exposure_quantiles(values: np.ndarray) -> np.ndarray:
    """`np.percentile(values, EXPOSURE_QUANTILES)`, bit for bit (its linear method; no NaN here), without the
    general machinery around its partition, which was half its cost on a 128-px frame. It runs twice a frame."""
    flat = values.ravel()
    last = flat.size - 1
    virtual = last * EXPOSURE_FRACTIONS
    below = np.floor(virtual)
    lo = np.minimum(below.astype(np.intp), last)
    hi = np.minimum(lo + 1, last)
    ordered = np.partition(flat, np.unique(np.concatenate(([0, last], lo, hi))))
    a, b = ordered[lo], ordered[hi]
    t = virtual - below
    step = b - a
    out = a + step * t
    np.subtract(b, step * (1 - t), out=out, where=t >= 0.5)  # numpy's lerp: exact at both ends
    return out


def _fit_exposure(was: np.ndarray, now: np.ndarray, leave_out: bool = True) -> tuple[float, float, float]:
    """The affine map of background quantiles onto frame quantiles, and its largest misfit, the worst quantile
    left out once (`leave_out`). A quantile that falls in a gap between a scene's tones (a dark floor and a
    bright wall) jumps with a little sensor noise or shake; alone it refused the map of a whole exposure hunt.
    An exposure change moves every quantile by the map; a person entering the view moves several off it. A
    view that moved (a pan) brings new content in, and one quantile off the map is reason enough to refuse it:
    a map fitted past it lowered a handheld clip's foreground where its moments were."""
    gain, offset = _line(was, now)
    if not leave_out:
        return gain, offset, float(np.abs(now - (gain * was + offset)).max())
    residual = np.abs(now - (gain * was + offset))
    keep = np.arange(len(was)) != int(np.argmax(residual))
    gain, offset = _line(was[keep], now[keep])
    return gain, offset, float(np.abs(now[keep] - (gain * was[keep] + offset)).max())


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The least-squares line through (x, y): gain and offset (`np.polyfit(x, y, 1)` without its general solver,
    a fifth of the exposure map's cost per frame)."""
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    dx = x - x.mean()
    gain = float(dx @ (y - y.mean()) / (dx @ dx))
    return gain, float(y.mean() - gain * x.mean())


def _majority3(mask: np.ndarray) -> np.ndarray:
    """Keep a pixel when at least 5 of its 3x3 neighbourhood are set (a cheap opening)."""
    padded = np.pad(mask.astype(np.uint8), 1)
    h, w = mask.shape
    total = sum(padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3))
    return total >= 5
