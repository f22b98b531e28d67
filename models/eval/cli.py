"""`vgsum eval [table|streaming|kts|graphs|validate|events|queries|recap]`: TVSum reports, footage benchmarks.

- table (default): random, gtscore, MLP, peer, VideoGraph K=0/K=5/unsupervised/title query, one run, one table;
- streaming: the K=5 model windowed (W = 16, 32 and the live window) with fusion, online shots and budget vs
  offline; every live setting defaults to the live runtime's (SummaryConfig);
- kts: our KTS shots against the pack's shots, and what they do to F-scores;
- graphs: per refinement step adjacency entropy and edge density for K = 0..8 on one fold;
- validate: a recipe (with --set changes) scored on validation videos held out of each fold's
  training keys, never its test keys: how recipes are chosen;
- events: highlights on real footage against hand-made events, beside motion and detector baselines
  (see vgsum.models.eval.events);
- queries: free-text queries on real footage against the hand-made events each names, per kind of query
  (class, synonym, sentence, colour, negative), on a dev and a held-out split (see vgsum.models.eval.queries);
- recap: `vgsum recap` on a recorded camera-day beside uniform, top-scored and truncated baselines
  (see vgsum.models.eval.recap).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vgsum.runtime.common.configfile import parse_config
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.summary.config import SummaryConfig

LIVE = SummaryConfig()  # the live runtime's defaults
# the streaming options, as the SummaryConfig keys they set
LIVE_OPTIONS = {"shot_cut": "--shot-cut", "shot_delay_s": "--shot-delay-s", "decision_delay_s": "--decision-delay-s"}


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def main(argv: list[str]) -> int:
    """Print the requested report."""
    from vgsum.models.eval.table import ALL_ROWS

    parser = argparse.ArgumentParser(prog="vgsum eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", nargs="?", default="table",
                        choices=["table", "streaming", "kts", "graphs", "validate", "events", "queries", "recap"])
    parser.add_argument("--rows", default=",".join(ALL_ROWS), help=f"comma-separated subset of {','.join(ALL_ROWS)}")
    parser.add_argument("--folds", type=_ints, default=None, help="fold indices (default: all; graphs: 0)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds for the seeded rows (default 3)")
    parser.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs (quick runs)")
    parser.add_argument("--split-file", default=None, help="split file name in the pack (default: disjoint folds)")
    parser.add_argument("--h5", type=Path, default=None, help="benchmark h5 (default: the TVSum pack)")
    parser.add_argument("--save-scores", type=Path, default=None, help="write DIR/<row>/fold<k>.json step scores")
    parser.add_argument("--windows", type=_ints, default=sorted({16, 32, LIVE.window}),
                        help=f"streaming: window lengths in steps (default 16, 32 and the live {LIVE.window})")
    parser.add_argument("--shot-cut", choices=["kts", "threshold"], default=None,
                        help=f"streaming: how online shots are cut (live default {LIVE.shot_cut}; threshold: a cut "
                        "the moment a step moves away from its shot's mean)")
    parser.add_argument("--shot-delay-s", type=float, default=None,
                        help=f"streaming: the KTS cut commits a boundary this long after it "
                        f"(live default {LIVE.shot_delay_s:g})")
    parser.add_argument("--decision-delay-s", type=float, default=None,
                        help=f"streaming: a shot is decided this long after it ends (live default "
                        f"{LIVE.decision_delay_s:g})")
    parser.add_argument("--max-k", type=int, default=8, help="graphs: largest K")
    parser.add_argument("--recipe", default="videograph_k5", help="validate: recipe name in configs/train")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="validate: change one recipe key (repeatable), e.g. videograph.max_distance=16")
    parser.add_argument("--clips", default=None,
                        help="events: comma-separated shared clip names (default: all 20); queries: comma-separated "
                        "query targets, clip names or built:<recipe> (default: every query set)")
    parser.add_argument("--truth", type=Path, default=None,
                        help="events: a ground-truth file in the shared format (default: ../shared/data/events)")
    parser.add_argument("--streams", default=None,
                        help="events: comma-separated built-stream recipes (default: all; 'none' for none)")
    parser.add_argument("--refiner", action="append", default=[], metavar="NAME=DIR[@ROW]",
                        help="events, queries: one more row, the live defaults with the refiner engines in DIR "
                        "(repeatable); queries: @ROW runs it on that query row's settings instead, e.g. @no-boost")
    parser.add_argument("--engines", type=Path, default=None,
                        help="events, queries: engine folder (default: the cache)")
    parser.add_argument("--save", type=Path, default=None, help="events, queries: write DIR/<row>/<clip>.json")
    parser.add_argument("--budget", default="3m", help="recap: the recap's length (default 3m)")
    parser.add_argument("--day", choices=["day", "busy"], default="day",
                        help="recap: the camera-day (each event twice) or the busy day (four times)")
    parser.add_argument("--quiet-s", type=float, default=None,
                        help="recap: build the camera-day with this much added quiet per camera (quick runs)")
    parser.add_argument("--camera-day", action="store_true",
                        help="events: false highlights per camera-day on the long nuisance streams (4 h each, "
                        "built into the cache on first use; default rows: vgsum, no shared clips)")
    parser.add_argument("--no-gate", action="store_true",
                        help="events: every live row with the camera's perception gate off (on by default)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.report == "recap":
        from vgsum.models.eval import recap

        return recap.main(args)
    if args.report == "events":
        from vgsum.models.eval import events

        if args.rows == ",".join(ALL_ROWS):
            args.rows = ",".join(events.CAMERA_DAY_ROWS if args.camera_day else events.ALL_ROWS)
        return events.main(args)
    if args.report == "queries":
        from vgsum.models.eval import queries

        if args.rows == ",".join(ALL_ROWS):
            args.rows = None  # every row this build can run
        return queries.main(args)
    chosen = {key: getattr(args, key) for key in LIVE_OPTIONS if getattr(args, key) is not None}
    live = parse_config(chosen, SummaryConfig, where=None, key_names=LIVE_OPTIONS)

    from vgsum.models.data.tvsum import DEFAULT_SPLIT_FILE, load_splits, load_videos, tvsum_h5, tvsum_splits

    split_file = args.split_file or DEFAULT_SPLIT_FILE
    videos = load_videos(args.h5 or tvsum_h5())
    splits = load_splits(tvsum_splits(split_file))
    folds = args.folds if args.folds is not None else (list(range(len(splits))) if args.report != "graphs" else [0])
    if any(not 0 <= f < len(splits) for f in folds):
        raise UserError(f"--folds: the split file has folds 0..{len(splits) - 1}")
    started = time.perf_counter()
    if args.report == "table":
        from vgsum.models.eval.table import format_table, run_table

        rows = [r.strip() for r in args.rows.split(",") if r.strip()]
        unknown = sorted(set(rows) - set(ALL_ROWS))
        if unknown:
            raise UserError(f"--rows: unknown {', '.join(unknown)}; one of {', '.join(ALL_ROWS)}")
        results = run_table(videos, splits, rows, folds, list(range(args.seeds)), args.epochs, args.save_scores,
                            progress=not args.no_progress)
        print(format_table(results, split_file))
    elif args.report == "streaming":
        from vgsum.models.eval.streaming import format_streaming, run_streaming

        rows = run_streaming(videos, splits, folds, args.windows, args.seeds, args.epochs, live)
        print(format_streaming(rows, live))
    elif args.report == "kts":
        from vgsum.models.eval.kts_compare import format_kts, run_kts_comparison

        print(format_kts(run_kts_comparison(videos)))
    elif args.report == "validate":
        from vgsum.models.eval.validation import HEADER, validate

        result = validate(videos, splits, args.recipe, args.overrides, folds, list(range(args.seeds)),
                          progress=not args.no_progress)
        print("\n".join([*HEADER, result.line()]))
    else:
        from vgsum.models.eval.graphs import format_graphs, run_graphs

        print(format_graphs(run_graphs(videos, splits, folds[0], args.max_k, args.epochs)))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0
