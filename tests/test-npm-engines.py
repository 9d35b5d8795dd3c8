#!/usr/bin/env python3
"""Every npm package the tests install accepts Debian 12's Node.js.

./run.sh test installs Debian's nodejs (18.19 in bookworm, 18.20 in its
security updates) where there is no node, and npm ci refuses a package
whose "engines" exclude it (engine-strict in tests/compat/.npmrc). A
machine with a newer node passes anyway, which is how playwright-core
1.64 (node >= 20) once reached main: this reads the lockfile instead.
"""
import json
import os
import re
import sys

DEBIAN_NODE = (18, 19, 0)


def parse_version(text):
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def satisfies(version, comparator):
    match = re.fullmatch(r"\s*(>=|<=|>|<|\^|~|=)?\s*v?([\d.x*]+)\s*", comparator)
    if not match:
        raise ValueError(f"unknown range {comparator!r}")
    op, text = match.group(1) or "=", match.group(2)
    if text in ("*", "x"):
        return True
    bound = parse_version(text)
    if op == ">=":
        return version >= bound
    if op == ">":
        return version > bound
    if op == "<=":
        return version <= bound
    if op == "<":
        return version < bound
    if op == "^":
        return version >= bound and version[0] == bound[0]
    if op == "~":
        return version >= bound and version[:2] == bound[:2]
    return version[: len(text.split("."))] == bound[: len(text.split("."))]


def range_accepts(version, spec):
    # "a || b" is any of; "a b" (space-separated comparators) is all of.
    for alternative in spec.split("||"):
        alternative = re.sub(r"(>=|<=|>|<|\^|~|=)\s+", r"\1", alternative.strip())
        if all(satisfies(version, c) for c in alternative.split()):
            return True
    return False


def main():
    lockfile = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat", "package-lock.json")
    with open(lockfile) as f:
        packages = json.load(f)["packages"]
    refused = []
    for name, package in packages.items():
        spec = (package.get("engines") or {}).get("node")
        if spec and not range_accepts(DEBIAN_NODE, spec):
            refused.append(f"{name or 'the project'} {package.get('version', '')} needs node {spec}")
    print(f"1..{len(packages)}")
    for index, name in enumerate(packages, 1):
        spec = (packages[name].get("engines") or {}).get("node")
        ok = not spec or range_accepts(DEBIAN_NODE, spec)
        print(f"{'ok' if ok else 'not ok'} {index} - {name or '.'} engines.node {spec or '(any)'}")
    if refused:
        print("# Debian 12's node 18 is refused by:", file=sys.stderr)
        for line in refused:
            print(f"#   {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
