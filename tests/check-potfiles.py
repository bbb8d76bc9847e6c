#!/usr/bin/env python3
"""check-potfiles.py — po/ stays true as files are added.

Fails when a source, .ui or data file with translatable strings is missing
from po/POTFILES.in, when POTFILES.in names a file that is gone, when
xgettext cannot read a string (a format macro such as G_GSIZE_FORMAT
inside _() cuts the msgid short), or when a catalogue of LINGUAS does not
compile cleanly. Strings of the sources that a catalogue does not
translate yet are a TODO: `ninja -C build likeness-update-po`, then
translate what comes out untranslated or fuzzy.

usage: check-potfiles.py SRCDIR XGETTEXT MSGFMT
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

SRCDIR, XGETTEXT, MSGFMT = sys.argv[1:4]
PO = os.path.join(SRCDIR, 'po')
SCANNED = ('src', 'ui', 'data', 'resources')

# What meson's i18n.gettext(preset: 'glib') passes to xgettext.
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format',
    '--flag=g_printf:1:c-format', '--flag=g_fprintf:2:c-format',
    '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]

C_CALL = re.compile(r'(?<![\w])(?:_|N_|C_|NC_|Q_|g_dgettext|g_dngettext|g_dcgettext|'
                    r'g_dpgettext2?|ngettext|dngettext|dgettext|gettext)\s*\(')
C_COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
C_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def listed():
    with open(os.path.join(PO, 'POTFILES.in'), encoding='utf-8') as f:
        return [line.strip() for line in f
                if line.strip() and not line.lstrip().startswith('#')]


def has_strings(path):
    with open(os.path.join(SRCDIR, path), encoding='utf-8', errors='replace') as f:
        text = f.read()
    if path.endswith(('.c', '.h')):
        # Calls inside comments or string literals do not count.
        code = C_STRING.sub('""', C_COMMENT.sub(' ', text))
        return C_CALL.search(code) is not None
    if path.endswith('.ui'):
        return 'translatable="yes"' in text
    if path.endswith(('.desktop.in', '.metainfo.xml.in', '.appdata.xml.in')):
        return True
    if path.endswith('.gschema.xml'):
        return 'gettext-domain' in text and ('<summary' in text or '<description' in text)
    return False


def source_files():
    for top in SCANNED:
        for root, dirs, files in os.walk(os.path.join(SRCDIR, top)):
            dirs.sort()
            for name in sorted(files):
                path = os.path.relpath(os.path.join(root, name), SRCDIR)
                if has_strings(path):
                    yield path


def check_complete():
    names = set(listed())
    missing = [p for p in source_files() if p not in names]
    tap.check(not missing, 'add these files to po/POTFILES.in:\n' + '\n'.join(missing))


def check_exist():
    gone = [p for p in listed() if not os.path.isfile(os.path.join(SRCDIR, p))]
    tap.check(not gone, 'po/POTFILES.in names files that do not exist:\n' + '\n'.join(gone))


def check_unique():
    seen, twice = set(), []
    for p in listed():
        if p in seen:
            twice.append(p)
        seen.add(p)
    tap.check(not twice, 'listed more than once in po/POTFILES.in:\n' + '\n'.join(twice))


POT = os.path.join(tempfile.mkdtemp(prefix='likeness-pot-'), 'likeness.pot')


def check_xgettext():
    files = [p for p in listed() if os.path.isfile(os.path.join(SRCDIR, p))]
    run = subprocess.run([XGETTEXT, '--package-name=likeness', '-o', POT] + XGETTEXT_ARGS + files,
                         cwd=SRCDIR, capture_output=True, text=True)
    tap.check(run.returncode == 0, 'xgettext failed:\n' + run.stderr)
    warnings = [line for line in run.stderr.splitlines() if 'warning' in line]
    tap.check(not warnings, 'xgettext warnings (a msgid it cannot read whole is never '
              'translated; use %zu, %" PRIu64 " etc. instead of GLib format macros):\n'
              + '\n'.join(warnings))


def unquote(s):
    s = s.strip()[1:-1]
    return re.sub(r'\\(.)', lambda m: {'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)), s)


def po_entries(path):
    """(msgid, translated) for each message of a PO or POT file."""
    entries, cur, key = [], None, None

    def flush():
        if cur and cur.get('msgid'):
            done = any(v for k, v in cur.items() if k.startswith('msgstr'))
            entries.append((cur['msgid'], done and not cur['fuzzy']))

    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                flush()
                cur = None
                continue
            if cur is None:
                cur = {'fuzzy': False}
            if line.startswith('#~'):
                cur['obsolete'] = True
                continue
            if line.startswith('#,') and 'fuzzy' in line:
                cur['fuzzy'] = True
            if line.startswith('#') or cur.get('obsolete'):
                continue
            m = re.match(r'(msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
            if m:
                key = m.group(1)
                cur[key] = unquote(m.group(2))
            else:
                cur[key] += unquote(line)
    flush()
    return entries


def linguas():
    with open(os.path.join(PO, 'LINGUAS'), encoding='utf-8') as f:
        return [w for line in f if not line.startswith('#') for w in line.split()]


def check_linguas():
    langs = linguas()
    tap.check(langs, 'po/LINGUAS is empty')
    missing = [lang for lang in langs if not os.path.isfile(os.path.join(PO, lang + '.po'))]
    tap.check(not missing, 'LINGUAS names languages without a .po: ' + ' '.join(missing))
    orphans = [n for n in os.listdir(PO) if n.endswith('.po') and n[:-3] not in langs]
    tap.check(not orphans, 'catalogues missing from LINGUAS: ' + ' '.join(orphans))


def check_compiles(lang):
    def check():
        run = subprocess.run([MSGFMT, '--check', '--statistics', '-o', os.devnull,
                              os.path.join(PO, lang + '.po')], capture_output=True, text=True)
        tap.check(run.returncode == 0, 'msgfmt --check failed:\n' + run.stderr)
    return check


def check_translated(lang):
    def check():
        if not os.path.isfile(POT):
            raise tap.Skip('no template (xgettext failed)')
        done = {msgid for msgid, ok in po_entries(os.path.join(PO, lang + '.po')) if ok}
        todo = [msgid for msgid, _ in po_entries(POT) if msgid not in done]
        if todo:
            raise tap.Todo('%d string(s) not translated in %s.po yet: run `ninja -C build '
                           'likeness-update-po` and translate the new and fuzzy ones\n' %
                           (len(todo), lang) + '\n'.join(repr(t) for t in todo[:20]))
    return check


checks = [
    ('POTFILES.in lists every file with translatable strings', check_complete),
    ('POTFILES.in names only existing files', check_exist),
    ('POTFILES.in names each file once', check_unique),
    ('xgettext reads every string whole', check_xgettext),
    ('LINGUAS matches the catalogues in po/', check_linguas),
]
for lang in linguas():
    checks.append(('%s.po compiles with msgfmt --check' % lang, check_compiles(lang)))
    checks.append(('%s.po translates every string of the sources' % lang, check_translated(lang)))
tap.run(checks)
