"""What the benchmarks that run inside Odoo share: their command line and the database they open.

python bench/<script>.py -c /path/to/odoo.conf -d aia_bench [options of the script]
"""

import argparse
import contextlib
import statistics
import time


def median_ms(samples):
    return statistics.median(samples) * 1000


def command_line(doc):
    """The script's parser with the options every such benchmark takes; add its own, then parse."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("-c", "--config", required=True, help="odoo.conf of the database")
    parser.add_argument("-d", "--database", required=True)
    return parser


@contextlib.contextmanager
def superuser_env(args):
    """A superuser environment on ``args.database``, committed when the block ends without an
    error. Import Odoo's addons inside the block: the configuration sets their path."""
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database])
    with Registry(args.database).cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def interleaved(cases, runs):
    """Run each of ``cases`` ({name: function(index)}) once per index, in turn, so that all see
    the same load. Returns {name: {"seconds": [...], "queries": [...], "result": the last one}},
    queries counted on every cursor (Odoo's global counter)."""
    import odoo.sql_db

    measured = {name: {"seconds": [], "queries": [], "result": None} for name in cases}
    for index in range(runs):
        for name, case in cases.items():
            before = odoo.sql_db.sql_counter
            started = time.perf_counter()
            measured[name]["result"] = case(index)
            measured[name]["seconds"].append(time.perf_counter() - started)
            measured[name]["queries"].append(odoo.sql_db.sql_counter - before)
    return measured


def print_overhead(baseline, measured, added, per=1):
    """The Markdown table of the medians of ``baseline`` and ``measured`` (each a label and what
    :func:`interleaved` measured of it), their ratio, and what ``measured`` adds (``added``, its
    label) over the baseline, divided by ``per``."""
    (base_label, base), (label, figures) = baseline, measured
    base_ms, ms = median_ms(base["seconds"]), median_ms(figures["seconds"])
    base_q, count = statistics.median(base["queries"]), statistics.median(figures["queries"])
    print("| measure | time (ms) | queries | ratio |")
    print("|---|---|---|---|")
    print(f"| {base_label} | {base_ms:.1f} | {base_q:g} | 1.00x |")
    print(f"| {label} | {ms:.1f} | {count:g} | {ms / base_ms:.2f}x |")
    print(f"| {added} | {(ms - base_ms) / per:.1f} | {(count - base_q) / per:g} | |")
