"""What the benchmarks that run inside Odoo share: their command line and the database they open.

python bench/<script>.py -c /path/to/odoo.conf -d aia_bench [options of the script]
"""

import argparse
import contextlib
import statistics


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
