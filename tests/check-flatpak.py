#!/usr/bin/env python3
"""check-flatpak.py — the Flatpak manifest can be built as it stands.

No network here, so flatpak-builder cannot run; this checks what would
make it fail or make the sandbox wider than needed: the manifest parses,
names the GNOME runtime at a version with GTK >= 4.8, builds OpenBLAS
before the app and the app last with meson from this tree; every local
source exists and every remote one has a URL and a sha256; the meson
options it passes exist; the Fashion-MNIST folder it configures is where
its module installs the files; finish-args are only display, GPU, IPC
and read-only Pictures.

usage: check-flatpak.py SRCDIR MANIFEST APP-ID COMMAND
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

SRCDIR, MANIFEST, APP_ID, COMMAND = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(MANIFEST))
# GNOME 43 was the first runtime with GTK 4.8.
OLDEST_RUNTIME = 43
ALLOWED_ARGS = {'--share=ipc', '--socket=wayland', '--socket=fallback-x11', '--device=dri',
                '--filesystem=xdg-pictures:ro'}
REQUIRED_ARGS = {'--share=ipc', '--socket=wayland', '--socket=fallback-x11',
                 '--filesystem=xdg-pictures:ro'}

manifest = None


def check_parses():
    global manifest
    with open(MANIFEST, encoding='utf-8') as f:
        try:
            manifest = json.load(f)
        except json.JSONDecodeError as e:
            raise tap.Failure('not JSON: %s' % e)
    tap.check(isinstance(manifest, dict), 'the manifest is not an object')


def needs_manifest(check):
    def wrapped():
        if manifest is None:
            raise tap.Skip('the manifest did not parse')
        check()
    return wrapped


def modules():
    """Every module, nested ones included, in build order."""
    def walk(mods):
        for m in mods:
            tap.check(isinstance(m, dict), 'module %r is not inline (files are not checked)' % m)
            yield from walk(m.get('modules', []))
            yield m
    return list(walk(manifest.get('modules', [])))


def check_app():
    tap.check(manifest.get('id', manifest.get('app-id')) == APP_ID, 'id is not ' + APP_ID)
    tap.check(manifest.get('command') == COMMAND, 'command is not ' + COMMAND)
    tap.check(manifest.get('runtime') == 'org.gnome.Platform', 'runtime is not org.gnome.Platform')
    tap.check(manifest.get('sdk') == 'org.gnome.Sdk', 'sdk is not org.gnome.Sdk')
    version = str(manifest.get('runtime-version', ''))
    tap.check(re.fullmatch(r'\d+', version) and int(version) >= OLDEST_RUNTIME,
              'runtime-version %r: a released GNOME runtime >= %d' % (version, OLDEST_RUNTIME))


def check_finish_args():
    args = manifest.get('finish-args', [])
    extra = [a for a in args if a not in ALLOWED_ARGS]
    tap.check(not extra, 'finish-args wider than needed: ' + ' '.join(extra))
    missing = sorted(REQUIRED_ARGS - set(args))
    tap.check(not missing, 'finish-args lack: ' + ' '.join(missing))


def check_sources():
    problems = []
    for m in modules():
        sources = m.get('sources', [])
        tap.check(sources, 'module %s has no sources' % m.get('name'))
        for s in sources:
            kind = s.get('type')
            where = '%s: %s source' % (m.get('name'), kind)
            if 'url' in s:
                if not re.match(r'https?://[^/]+/', s['url']):
                    problems.append('%s: bad url %r' % (where, s['url']))
                if not re.fullmatch(r'[0-9a-f]{64}', s.get('sha256', '')):
                    problems.append('%s %s: no sha256' % (where, s['url']))
            elif 'path' in s:
                path = os.path.normpath(os.path.join(HERE, s['path']))
                exists = os.path.isdir(path) if kind == 'dir' else os.path.isfile(path)
                if not exists:
                    problems.append('%s: %s does not exist' % (where, s['path']))
            elif kind == 'git':
                if not (s.get('commit') or s.get('tag')):
                    problems.append('%s: a git source must pin a commit or tag' % where)
            elif kind not in ('shell', 'script'):
                problems.append('%s: neither url nor path' % where)
    tap.check(not problems, '\n'.join(problems))


def check_order():
    mods = modules()
    names = [m.get('name') for m in mods]
    tap.check('openblas' in names, 'OpenBLAS is not built (the GNOME runtime lacks it)')
    app = mods[-1]
    tap.check(app.get('buildsystem') == 'meson', 'the app, last, is not built with meson')
    tap.check(names.index('openblas') < len(mods) - 1, 'OpenBLAS must come before the app')
    dirs = [s for s in app.get('sources', []) if s.get('type') == 'dir']
    tap.check(len(dirs) == 1, 'the app must build from this tree (one dir source)')
    tree = os.path.normpath(os.path.join(HERE, dirs[0]['path']))
    tap.check(os.path.samefile(tree, SRCDIR), 'the app builds from %s, not this tree' % tree)


def meson_options():
    with open(os.path.join(SRCDIR, 'meson_options.txt'), encoding='utf-8') as f:
        return set(re.findall(r"option\s*\(\s*'([\w-]+)'", f.read()))


def check_options():
    app = modules()[-1]
    known = meson_options()
    builtin = {'buildtype', 'prefix', 'libdir', 'optimization', 'debug', 'b_lto', 'b_ndebug',
               'warning_level', 'werror'}
    given = [re.match(r'-D([\w-]+)=', o) for o in app.get('config-opts', [])]
    tap.check(all(given), 'config-opts must all be -Dname=value')
    unknown = [g.group(1) for g in given if g.group(1) not in known | builtin]
    tap.check(not unknown, 'config-opts name options meson does not have: ' + ' '.join(unknown))


def check_fashion_mnist():
    app = modules()[-1]
    opts = dict(o[2:].split('=', 1) for o in app.get('config-opts', []) if o.startswith('-D'))
    folder = opts.get('fashion_mnist_dir')
    tap.check(folder and folder.startswith('/app/'),
              'the app must read Fashion-MNIST from /app (the host /usr is not visible)')
    installs = ' '.join(c for m in modules() for c in m.get('build-commands', []))
    tap.check(folder in installs, 'no module installs Fashion-MNIST into ' + folder)
    for name in ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'):
        tap.check(any(s.get('url', '').endswith('/' + name)
                      for m in modules() for s in m.get('sources', [])),
                  'no source fetches ' + name)


tap.run([
    ('the manifest parses as JSON', check_parses),
    ('id, command and GNOME runtime', needs_manifest(check_app)),
    ('finish-args are only what the app needs', needs_manifest(check_finish_args)),
    ('every source exists or is pinned by sha256', needs_manifest(check_sources)),
    ('OpenBLAS is built first, the app last with meson', needs_manifest(check_order)),
    ('config-opts are options of this project', needs_manifest(check_options)),
    ('the built-in collection is installed where the app looks', needs_manifest(check_fashion_mnist)),
])
