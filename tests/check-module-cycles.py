#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails when the library's modules include each other in a cycle.

A module is a .c file of src/libsignaling (any of its layer folders)
with its headers:
signaling-router.c, signaling-router.h and signaling-router-private.h
are the module "router". Module A depends on module B when A's .c or
one of A's headers includes one of B's headers. Headers with no .c
(signaling-types.h, generated ones) are leaves and cannot close a
cycle. The router must not reach back into the server that wires it,
nor a dialect into the server that accepts it: the layering in
docs/design.md only holds while this graph stays acyclic.
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"(signaling-[a-z0-9-]+)\.h"', re.M)


def module_of(stem):
    """signaling-router-private -> router"""
    name = stem[len('signaling-'):]
    if name.endswith('-private'):
        name = name[:-len('-private')]
    return name


def library_files(src):
    """Every signaling-*.c and .h below src, as (name, path)."""
    for folder, _, names in os.walk(src):
        for name in sorted(names):
            if name.startswith('signaling-') and name.endswith(('.c', '.h')):
                yield name, os.path.join(folder, name)


def build_graph(src):
    files = sorted(library_files(src))
    modules = {module_of(f[:-2]) for f, _ in files if f.endswith('.c')}
    graph = {m: set() for m in modules}
    for f, path in files:
        owner = module_of(f[:-2])
        if owner not in modules:
            continue
        with open(path, encoding='utf-8') as fp:
            text = fp.read()
        for stem in INCLUDE.findall(text):
            dep = module_of(stem)
            if dep in modules and dep != owner:
                graph[owner].add(dep)
    return graph


def find_cycles(graph):
    """Tarjan's strongly connected components of more than one module."""
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


# The relay and the dialects sit below the server that wires them: none
# of them may reach it, even without a cycle.
BELOW_SERVER = ['router', 'native-connection', 'socketio-connection',
                'client', 'room', 'message', 'connection']


def reaches(graph, start, goal):
    seen, todo = set(), [start]
    while todo:
        v = todo.pop()
        if v == goal:
            return True
        if v in seen:
            continue
        seen.add(v)
        todo.extend(graph.get(v, ()))
    return False


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'libsignaling')
    graph = build_graph(src)
    cycles = find_cycles(graph)
    failed = False
    print('1..2')
    if cycles:
        for scc in cycles:
            edges = ['%s -> %s' % (a, b) for a in scc for b in sorted(graph[a]) if b in scc]
            print('# include cycle among: ' + ', '.join(scc))
            for e in edges:
                print('#   ' + e)
        print('not ok 1 - the modules of src/libsignaling include each other in a cycle')
        failed = True
    else:
        print('ok 1 - no include cycle among %d modules' % len(graph))

    upward = [m for m in BELOW_SERVER if m in graph and reaches(graph, m, 'server')]
    if upward:
        print('not ok 2 - %s reach the server' % ', '.join(upward))
        failed = True
    else:
        print('ok 2 - the router and the dialects do not reach the server')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
