#!/usr/bin/env python3
"""check-metainfo.py — the AppStream metainfo and the desktop file agree
with the tree and the build (appstreamcli and desktop-file-validate check
the formats; this checks the facts).

Screenshots are https://likeness.app/screenshots/NAME.png, published from
data/screenshots/NAME.png: each must exist there and be a real PNG of a
useful size, and every PNG there must be shown. The newest release is the
project's version; the launchable is the desktop file; the binaries it
provides are the ones the build installs; the icon it names exists; the
merged files carry the translations of LINGUAS.

usage: check-metainfo.py SRCDIR METAINFO DESKTOP VERSION BINARY...
"""
import configparser
import os
import re
import struct
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

SRCDIR, METAINFO, DESKTOP, VERSION = sys.argv[1:5]
BINARIES = sys.argv[5:]
SCREENSHOT_BASE = 'https://likeness.app/screenshots/'
SCREENSHOT_DIR = os.path.join(SRCDIR, 'data', 'screenshots')
XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'

root = ET.parse(METAINFO).getroot()
app_id = root.findtext('id')
desktop = configparser.RawConfigParser(interpolation=None, strict=False)
desktop.optionxform = str
desktop.read(DESKTOP, encoding='utf-8')
entry = desktop['Desktop Entry']


def png_size(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    tap.check(head[:8] == b'\x89PNG\r\n\x1a\n' and head[12:16] == b'IHDR', path + ' is not a PNG')
    return struct.unpack('>II', head[16:24])


def check_screenshots():
    shots = root.findall('screenshots/screenshot')
    tap.check(shots, 'no screenshot')
    defaults = [s for s in shots if s.get('type') == 'default']
    tap.check(len(defaults) == 1, 'exactly one screenshot must be the default')
    shown = set()
    for shot in shots:
        tap.check(shot.findtext('caption'), 'a screenshot has no caption')
        for image in shot.findall('image'):
            url = image.text.strip()
            tap.check(url.startswith(SCREENSHOT_BASE) and url.endswith('.png'),
                      '%s is not %sNAME.png' % (url, SCREENSHOT_BASE))
            name = url[len(SCREENSHOT_BASE):]
            path = os.path.join(SCREENSHOT_DIR, name)
            tap.check(os.path.isfile(path), '%s names data/screenshots/%s, which is missing'
                      % (url, name))
            width, height = png_size(path)
            # AppStream asks for at least 620×350 (it shows them scaled).
            tap.check(width >= 620 and height >= 350, '%s is only %d×%d' % (name, width, height))
            if image.get('width'):
                tap.check((int(image.get('width')), int(image.get('height'))) == (width, height),
                          '%s is %d×%d, the metainfo says %s×%s'
                          % (name, width, height, image.get('width'), image.get('height')))
            shown.add(name)
    unused = sorted(set(n for n in os.listdir(SCREENSHOT_DIR) if n.endswith('.png')) - shown)
    tap.check(not unused, 'screenshots no <screenshot> shows: ' + ' '.join(unused))


def check_release():
    releases = root.findall('releases/release')
    tap.check(releases, 'no release')
    tap.check(releases[0].get('version') == VERSION,
              'newest release is %s, the project is %s' % (releases[0].get('version'), VERSION))
    dates = [r.get('date') for r in releases]
    tap.check(all(re.fullmatch(r'\d{4}-\d{2}-\d{2}', d or '') for d in dates),
              'release dates must be YYYY-MM-DD')
    tap.check(dates == sorted(dates, reverse=True), 'releases must be listed newest first')
    tap.check(releases[0].find('description') is not None, 'the newest release has no notes')


def check_launchable():
    launchable = root.find("launchable[@type='desktop-id']")
    tap.check(launchable is not None, 'no desktop-id launchable')
    tap.check(launchable.text == os.path.basename(DESKTOP),
              'launchable %s, desktop file %s' % (launchable.text, os.path.basename(DESKTOP)))
    tap.check(app_id + '.desktop' == launchable.text, 'the desktop file is not named after the id')


def check_binaries():
    provided = sorted(b.text for b in root.findall('provides/binary'))
    tap.check(provided == sorted(BINARIES),
              'metainfo provides %s, the build installs %s' % (provided, sorted(BINARIES)))
    command = entry['Exec'].split()[0]
    tap.check(command in BINARIES, 'Exec=%s is not a binary the build installs' % command)


def check_icon():
    icon = entry['Icon']
    tap.check(icon == app_id, 'Icon=%s, the id is %s' % (icon, app_id))
    for context, suffix in (('scalable', ''), ('symbolic', '-symbolic')):
        path = os.path.join(SRCDIR, 'data', 'icons', 'hicolor', context, 'apps',
                            icon + suffix + '.svg')
        tap.check(os.path.isfile(path), 'missing ' + os.path.relpath(path, SRCDIR))


def check_content_rating():
    rating = root.find('content_rating')
    tap.check(rating is not None and rating.get('type', '').startswith('oars-'),
              'no OARS content rating')


def check_translations():
    with open(os.path.join(SRCDIR, 'po', 'LINGUAS'), encoding='utf-8') as f:
        langs = [w for line in f if not line.startswith('#') for w in line.split()]
    for lang in langs:
        summary = [e for e in root.findall('summary') if e.get(XML_LANG) == lang]
        tap.check(summary, 'the merged metainfo has no %s summary' % lang)
        tap.check(entry.get('Comment[%s]' % lang), 'the merged desktop file has no Comment[%s]'
                  % lang)
        keywords = entry.get('Keywords[%s]' % lang, '')
        tap.check(keywords.endswith(';'), 'Keywords[%s] must end with ";"' % lang)


tap.run([
    ('screenshots exist in data/screenshots and are shown', check_screenshots),
    ('newest release is the project version', check_release),
    ('launchable is the desktop file', check_launchable),
    ('provided binaries are the installed ones', check_binaries),
    ('the icon named exists in colour and symbolic', check_icon),
    ('content rating is OARS', check_content_rating),
    ('merged files carry every translation', check_translations),
])
