"""tap.py — a few lines of TAP for the packaging checks written in Python.

Each check is a function that raises Failure (or AssertionError) to fail,
Skip to skip, or Todo to report a known gap as a TAP TODO (meson counts it
as an expected failure, so it shows in the log without failing the run).
"""
import sys
import traceback


class Failure(Exception):
    pass


class Skip(Exception):
    pass


class Todo(Exception):
    pass


def run(checks):
    """Runs (name, function) pairs; exits 0 unless a check failed."""
    print('1..%d' % len(checks))
    failed = 0
    for number, (name, check) in enumerate(checks, 1):
        try:
            check()
            print('ok %d %s' % (number, name))
        except Skip as e:
            print('ok %d %s # SKIP %s' % (number, name, e))
        except Todo as e:
            print('not ok %d %s # TODO %s' % (number, name, str(e).splitlines()[0]))
            for line in str(e).splitlines()[1:]:
                print('# ' + line)
        except Exception as e:
            failed += 1
            print('not ok %d %s' % (number, name))
            expected = isinstance(e, (Failure, AssertionError)) and str(e)
            for line in (str(e) if expected else traceback.format_exc()).splitlines():
                print('# ' + line)
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


def check(condition, message):
    if not condition:
        raise Failure(message)
