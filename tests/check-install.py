#!/usr/bin/env python3
"""check-install.py — `meson install` puts everything under the prefix.

Installs the build into a fresh temporary DESTDIR (never the system, never
a rebuild) and checks that the binaries, desktop file, metainfo, icons,
GSettings schema, every catalogue of LINGUAS and the man page are there,
that nothing lands outside the prefix, that the build folder is left as it
was, and that the installed CLI runs and reads the installed Korean
catalogue.

usage: check-install.py SRCDIR BUILDDIR MESON PREFIX BINDIR DATADIR MANDIR LOCALEDIR APP-ID
                        BINARY...
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

(SRCDIR, BUILDDIR, MESON, PREFIX, BINDIR, DATADIR, MANDIR, LOCALEDIR,
 APP_ID) = sys.argv[1:10]
BINARIES = sys.argv[10:]


def under_prefix(path):
    """@path (absolute, or relative to the prefix) inside DESTDIR."""
    full = path if os.path.isabs(path) else os.path.join(PREFIX, path)
    return os.path.join(DESTDIR, full.lstrip('/'))


def linguas():
    with open(os.path.join(SRCDIR, 'po', 'LINGUAS'), encoding='utf-8') as f:
        return [w for line in f if not line.startswith('#') for w in line.split()]


def build_tree_state():
    """Size and mtime of every file of the build folder but meson's logs."""
    state = {}
    for root, dirs, files in os.walk(BUILDDIR):
        dirs[:] = [d for d in dirs if os.path.join(root, d) != os.path.join(BUILDDIR, 'meson-logs')]
        for name in files:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            state[path] = (st.st_size, st.st_mtime_ns)
    return state


DESTDIR = tempfile.mkdtemp(prefix='likeness-destdir-')
BIN = under_prefix(BINDIR)
SHARE = under_prefix(DATADIR)
EXPECTED = [os.path.join(BIN, b) for b in BINARIES] + [
    os.path.join(SHARE, 'applications', APP_ID + '.desktop'),
    os.path.join(SHARE, 'metainfo', APP_ID + '.metainfo.xml'),
    os.path.join(SHARE, 'icons', 'hicolor', 'scalable', 'apps', APP_ID + '.svg'),
    os.path.join(SHARE, 'icons', 'hicolor', 'symbolic', 'apps', APP_ID + '-symbolic.svg'),
    os.path.join(SHARE, 'glib-2.0', 'schemas', APP_ID + '.gschema.xml'),
    os.path.join(under_prefix(MANDIR), 'man1', 'likeness-cli.1'),
] + [os.path.join(under_prefix(LOCALEDIR), lang, 'LC_MESSAGES', 'likeness.mo')
     for lang in linguas()]
installed = False


def check_install():
    global installed
    before = build_tree_state()
    run = subprocess.run([MESON, 'install', '-C', BUILDDIR, '--destdir', DESTDIR,
                          '--no-rebuild', '--quiet'], capture_output=True, text=True)
    tap.check(run.returncode == 0, 'meson install failed:\n' + run.stdout + run.stderr)
    installed = True
    after = build_tree_state()
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    tap.check(not changed, 'installing changed the build folder:\n' + '\n'.join(changed[:20]))


def needs_install(check):
    def wrapped():
        if not installed:
            raise tap.Skip('meson install failed')
        check()
    return wrapped


def check_files():
    missing = [os.path.relpath(p, DESTDIR) for p in EXPECTED
               if not (os.path.isfile(p) and os.path.getsize(p) > 0)]
    tap.check(not missing, 'not installed:\n' + '\n'.join(missing))
    not_exec = [b for b in BINARIES if not os.access(os.path.join(BIN, b), os.X_OK)]
    tap.check(not not_exec, 'not executable: ' + ' '.join(not_exec))


def check_inside_prefix():
    prefix = under_prefix('.').rstrip('/.') + os.sep
    outside = []
    for root, _, files in os.walk(DESTDIR):
        outside += [os.path.join(root, f) for f in files
                    if not os.path.join(root, f).startswith(prefix)]
    tap.check(not outside, 'installed outside the prefix:\n' + '\n'.join(outside))


def installed_cli(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in ('LANGUAGE', 'LIKENESS_LOCALEDIR')}
    base['LC_ALL'] = 'C'
    base.update(env)
    run = subprocess.run([os.path.join(BIN, 'likeness-cli')] + list(args),
                         capture_output=True, text=True, env=base)
    tap.check(run.returncode == 0, 'installed likeness-cli %s failed:\n%s'
              % (' '.join(args), run.stderr))
    return run.stdout


def check_cli_runs():
    version = installed_cli('--version')
    tap.check(version.startswith('likeness-cli '), 'unexpected --version: %r' % version)


def check_catalogue():
    if 'ko' not in linguas():
        raise tap.Skip('no Korean catalogue')
    # The installed binary looks in the real prefix; point it at DESTDIR's.
    text = installed_cli('--help', LC_ALL='C.UTF-8', LANGUAGE='ko',
                         LIKENESS_LOCALEDIR=under_prefix(LOCALEDIR))
    tap.check('명령:' in text, 'the installed ko catalogue did not translate --help:\n' + text)


def check_data():
    schemas = shutil.which('glib-compile-schemas')
    if schemas:
        run = subprocess.run([schemas, '--strict', '--dry-run',
                              os.path.join(SHARE, 'glib-2.0', 'schemas')],
                             capture_output=True, text=True)
        tap.check(run.returncode == 0, 'installed schema: ' + run.stderr)
    with open(os.path.join(SHARE, 'applications', APP_ID + '.desktop'), encoding='utf-8') as f:
        desktop = f.read()
    for lang in linguas():
        tap.check('Comment[%s]=' % lang in desktop, 'installed desktop file lacks ' + lang)
    with open(os.path.join(under_prefix(MANDIR), 'man1', 'likeness-cli.1'), encoding='utf-8') as f:
        man = f.read()
    tap.check('.TH LIKENESS-CLI 1' in man and not re.search(r'@[A-Z_]+@', man),
              'the installed man page is not configured')


try:
    tap.run([
        ('meson install into a DESTDIR leaves the build folder alone', check_install),
        ('every file is installed', needs_install(check_files)),
        ('nothing is installed outside the prefix', needs_install(check_inside_prefix)),
        ('the installed likeness-cli runs', needs_install(check_cli_runs)),
        ('the installed Korean catalogue is read', needs_install(check_catalogue)),
        ('installed schema, desktop file and man page', needs_install(check_data)),
    ])
finally:
    shutil.rmtree(DESTDIR, ignore_errors=True)
