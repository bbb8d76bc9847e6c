#!/usr/bin/env python3
"""check-manpage.py — likeness-cli(1) renders cleanly and stays complete.

groff (and man, when there) must render the built page without a warning.
Every command that `likeness-cli --help` lists needs a ".SS NAME" under
COMMANDS, every benchmark that `likeness-cli bench --help` lists a
".SS "bench NAME"" under BENCHMARKS, and every option their --help shows
must be described in that section (or under COLLECTION OPTIONS, for the
commands that take them). EXIT STATUS gives 0, 1 and 2, and ENVIRONMENT
every variable the programs read with g_getenv().

usage: check-manpage.py SRCDIR MANPAGE LIKENESS-CLI
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

SRCDIR, MANPAGE, CLI = sys.argv[1:4]
# English, from the built tree, whatever the caller's locale.
ENV = dict(os.environ, LC_ALL='C')
ENV.pop('LANGUAGE', None)
ENV.pop('LIKENESS_LOCALEDIR', None)


def sections():
    """{'NAME': text, ..., 'COMMANDS/scan': text, ...} from the troff source."""
    result, sh, ss, lines = {}, None, None, []

    def flush():
        if sh is not None:
            result[sh if ss is None else sh + '/' + ss] = '\n'.join(lines)

    with open(MANPAGE, encoding='utf-8') as f:
        for line in f:
            m = re.match(r'\.(SH|SS)\s+(.*)', line.rstrip('\n'))
            if m:
                flush()
                lines = []
                name = m.group(2).strip().strip('"')
                if m.group(1) == 'SH':
                    sh, ss = name, None
                else:
                    ss = name
            else:
                lines.append(line.rstrip('\n'))
    flush()
    return result


def plain(troff):
    """The words of troff source: escapes for minus and fonts removed."""
    text = troff.replace('\\-', '-').replace('\\&', '')
    return re.sub(r'\\f[BIRP]|\\f\(..', '', text)


SECTIONS = {k: plain(v) for k, v in sections().items()}


def cli(*args):
    run = subprocess.run([CLI] + list(args), capture_output=True, text=True, env=ENV)
    tap.check(run.returncode == 0, 'likeness-cli %s failed: %s' % (' '.join(args), run.stderr))
    return run.stdout


def listed(usage, heading):
    names, inside = [], False
    for line in usage.splitlines():
        if line == heading:
            inside = True
        elif inside and re.match(r'  \S', line):
            names.append(line.split()[0])
        elif inside:
            break
    return names


def options(help_text):
    found = re.findall(r'^\s+(?:-\w, )?(--[\w-]+)', help_text, re.M)
    return [o for o in found if not o.startswith('--help')]


def documented(option, text):
    return re.search(re.escape(option) + r'(?![\w-])', text) is not None


def check_groff():
    groff = shutil.which('groff')
    if groff is None:
        raise tap.Skip('groff is not installed')
    run = subprocess.run([groff, '-man', '-Tutf8', '-ww', '-z', MANPAGE],
                         capture_output=True, text=True)
    tap.check(run.returncode == 0 and not run.stderr, 'groff -ww:\n' + run.stderr)


def check_man():
    man = shutil.which('man')
    if man is None:
        raise tap.Skip('man is not installed')
    run = subprocess.run([man, '--warnings', '-l', MANPAGE], capture_output=True, text=True,
                         env=dict(ENV, MANWIDTH='80', MANPAGER='cat', PAGER='cat'))
    tap.check(run.returncode == 0 and not run.stderr, 'man --warnings -l:\n' + run.stderr)
    tap.check('EXIT STATUS' in run.stdout, 'man rendered no EXIT STATUS section')


def check_sections():
    wanted = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'COLLECTION OPTIONS',
              'EXIT STATUS', 'ENVIRONMENT', 'FILES']
    missing = [s for s in wanted if s not in SECTIONS]
    tap.check(not missing, 'missing sections: ' + ', '.join(missing))


def check_section(section, what, args):
    def check():
        key = section + '/' + what
        tap.check(key in SECTIONS, 'no ".SS %s" under %s' % (what, section))
        text = SECTIONS[key]
        shared = SECTIONS.get('COLLECTION OPTIONS', '') if 'COLLECTION OPTIONS' in text else ''
        undocumented = [o for o in options(cli(*args)) if not documented(o, text + shared)]
        tap.check(not undocumented, '%s: options not described: %s'
                  % (what, ' '.join(undocumented)))
    return check


def check_exit_status():
    text = SECTIONS.get('EXIT STATUS', '')
    for code in ('0', '1', '2'):
        tap.check(re.search(r'^\.B %s$' % code, text, re.M), 'EXIT STATUS does not give %s'
                  % code)


def check_environment():
    used = set()
    for top in ('src',):
        for root, _, files in os.walk(os.path.join(SRCDIR, top)):
            for name in files:
                if name.endswith('.c'):
                    with open(os.path.join(root, name), encoding='utf-8') as f:
                        used.update(re.findall(r'g_getenv \("(\w+)"\)', f.read()))
    text = SECTIONS.get('ENVIRONMENT', '')
    missing = sorted(v for v in used if v not in text)
    tap.check(not missing, 'ENVIRONMENT does not describe: ' + ' '.join(missing))


checks = [
    ('groff renders it without warnings', check_groff),
    ('man renders it without warnings', check_man),
    ('it has the usual sections', check_sections),
]
for command in listed(cli('--help'), 'Commands:'):
    checks.append(('command %s has its section and options' % command,
                   check_section('COMMANDS', command, [command, '--help'])))
for bench in listed(cli('bench', '--help'), 'Benchmarks:'):
    checks.append(('benchmark %s has its section and options' % bench,
                   check_section('BENCHMARKS', 'bench ' + bench, ['bench', bench, '--help'])))
checks += [
    ('EXIT STATUS gives 0, 1 and 2', check_exit_status),
    ('ENVIRONMENT lists every variable read', check_environment),
]
tap.run(checks)
