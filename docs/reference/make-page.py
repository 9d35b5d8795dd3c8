#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pages of the API reference made from files that have another home,
so that each says a thing once:

  make-page.py title TITLE IN OUT   IN with gi-docgen's "Title:" header
                                    (docs/protocol.md stays plain Markdown)
  make-page.py dbus IN OUT          the D-Bus API, from the comments of the
                                    interface XML (data/org.signalbox.Signalbox1.xml)
"""

import re
import sys
import textwrap
import xml.etree.ElementTree as ET


def title(name, source, output):
    with open(source, encoding='utf-8') as f:
        text = f.read()
    # Our own title replaces the file's first heading.
    text = re.sub(r'\A# .*\n+', '', text)
    with open(output, 'w', encoding='utf-8') as f:
        f.write(f'Title: {name}\n\n{text}')


def comments_before(source):
    """{(interface, element tag, name): comment text} from the XML's
    comments, which precede what they describe as `Name: text` or
    `Name:` and a block."""
    with open(source, encoding='utf-8') as f:
        text = f.read()
    found = {}
    interface = None
    pattern = re.compile(r'<!--((?:(?!-->).)*)-->\s*<(interface|property|method|signal)\s+name="([^"]+)"', re.S)
    for comment, tag, name in pattern.findall(text):
        body = textwrap.dedent(comment).strip()
        body = re.sub(r'^' + re.escape(name) + r':\s*', '', body)
        if tag == 'interface':
            interface = name
        found[(interface, tag, name)] = body
    return found


def describe(body):
    """(summary, {arg: text}) of a comment: @arg lines apart."""
    args = {}
    rest = []
    current = None
    for line in body.splitlines():
        match = re.match(r'@(\w+):\s*(.*)', line.strip())
        if match:
            current = match.group(1)
            args[current] = match.group(2)
        elif current and line.startswith('  ') and line.strip():
            args[current] += ' ' + line.strip()
        else:
            current = None
            rest.append(line)
    return '\n'.join(rest).strip(), args


def dbus(source, output):
    comments = comments_before(source)
    tree = ET.parse(source)
    out = ['Title: D-Bus API', '',
           'The signalbox daemon publishes its state and controls on D-Bus, on the session',
           'bus by default (`--system` for the system bus), under the name',
           '`org.signalbox.Signalbox1`; an application publishes its own server the same',
           'way with [method@Signaling.Server.export_dbus]. The root object',
           '`/org/signalbox/Signalbox1` also implements',
           '`org.freedesktop.DBus.ObjectManager`: each client is an object under',
           '`/org/signalbox/Signalbox1/client/`, each room one under',
           '`/org/signalbox/Signalbox1/room/`. `signalboxctl` is a client of this API;',
           '`busctl` and `gdbus` work as well:', '',
           '```sh', 'busctl --user introspect org.signalbox.Signalbox1 /org/signalbox/Signalbox1', '```', '',
           'This page is made from the interface XML, installed as',
           '`DATADIR/dbus-1/interfaces/org.signalbox.Signalbox1.xml`.', '']
    for interface in tree.getroot().findall('interface'):
        name = interface.get('name')
        summary, _ = describe(comments.get((name, 'interface', name), ''))
        short = re.search(r'@short_description:\s*(.*)', comments.get((name, 'interface', name), ''))
        out += [f'## {name}', '']
        if short:
            out += [short.group(1), '']
        summary = re.sub(r'@short_description:.*\n?', '', summary).strip()
        if summary:
            out += [summary, '']
        properties = interface.findall('property')
        if properties:
            out += ['### Properties', '', '| name | type | access | description |', '| --- | --- | --- | --- |']
            for prop in properties:
                text = comments.get((name, 'property', prop.get('name')), '').replace('\n', ' ').replace('|', '\\|')
                out.append(f"| `{prop.get('name')}` | `{prop.get('type')}` | {prop.get('access')} | {text} |")
            out.append('')
        for kind, heading in (('method', 'Methods'), ('signal', 'Signals')):
            members = interface.findall(kind)
            if not members:
                continue
            out += [f'### {heading}', '']
            for member in members:
                summary, args = describe(comments.get((name, kind, member.get('name')), ''))
                signature = ', '.join(
                    f"{arg.get('direction', 'out') if kind == 'method' else ''} {arg.get('type')} {arg.get('name')}".strip()
                    for arg in member.findall('arg'))
                out += [f"#### {member.get('name')}", '', f"```\n{member.get('name')} ({signature})\n```", '']
                if summary:
                    out += [' '.join(summary.split()), '']
                for arg in member.findall('arg'):
                    if arg.get('name') in args:
                        out.append(f"- `{arg.get('name')}`: {args[arg.get('name')]}")
                if args:
                    out.append('')
    with open(output, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out))


if __name__ == '__main__':
    if sys.argv[1] == 'title':
        title(*sys.argv[2:5])
    elif sys.argv[1] == 'dbus':
        dbus(*sys.argv[2:4])
    else:
        sys.exit(__doc__)
