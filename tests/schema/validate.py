#!/usr/bin/env python3
"""Validates lineage's JSON output against docs/schema/.

    python3 tests/schema/validate.py FILE...      # '-' reads standard input

Each FILE holds one JSON document or JSON lines (watch --json, record
--export, top --watch --json; .zst files are decompressed with zstd). Every
document is checked against the schema its "schema" key names:
"lineage.why/v1" -> docs/schema/lineage.why.v1.json. An unknown schema name,
a document without one, bad JSON or a document that does not match is an
error: one line each, naming the file (and line), the JSON path and the reason.

    python3 tests/schema/validate.py --collected DIR

--collected DIR validates what tests/schema/collect.sh kept while the
integration tests ran (N.out, with N.meta: lineage's exit status, where its
output begins, working directory, caller, arguments): every failure names
the file, the lineage command that printed it and its caller; an empty
output (an error: nothing on stdout) is counted, not checked. DIR is removed
when everything is valid. Exit 77 (ctest: skipped) without python3-jsonschema.

Options: --schema-dir DIR (default: docs/schema next to this script's
repository), --expect NAME (every document must be lineage.NAME/v1),
--pair NAME FILE (FILE's documents must be lineage.NAME/v1; repeatable, so
that one run checks many files), --quiet (print nothing when all pass).
Exit 0 when every document is valid, 1 when one is not, 2 on a usage error.
Needs python3-jsonschema (Debian 12: 4.10) for draft 2020-12.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover
    print("validate.py: needs python3-jsonschema >= 4 (apt-get install python3-jsonschema)", file=sys.stderr)
    sys.exit(77 if "--collected" in sys.argv else 2)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs", "schema")
NAME = re.compile(r"^lineage\.([a-z][a-z0-9-]*)/(v[0-9]+)$")


class Schemas:
    def __init__(self, directory):
        self.directory = directory
        self.cache = {}

    def validator(self, name):
        """The validator of schema NAME, or an error message."""
        if name in self.cache:
            return self.cache[name]
        m = NAME.match(name) if isinstance(name, str) else None
        if not m:
            result = "unknown schema name %s" % json.dumps(name)
        else:
            path = os.path.join(self.directory, "lineage.%s.%s.json" % (m.group(1), m.group(2)))
            if not os.path.exists(path):
                result = "unknown schema %s (no %s in %s)" % (name, os.path.basename(path), self.directory)
            else:
                with open(path, encoding="utf-8") as f:
                    schema = json.load(f)
                Draft202012Validator.check_schema(schema)
                result = Draft202012Validator(schema)
        self.cache[name] = result
        return result


def json_path(parts):
    out = "$"
    for p in parts:
        out += "[%d]" % p if isinstance(p, int) else "." + p if re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", p) \
            else "[%s]" % json.dumps(p)
    return out


def short(value, limit=80):
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def deepest(error):
    """The most specific error: for oneOf/anyOf (why's one report or
    "results"), the first error of the branch that came closest (fewest
    errors), else jsonschema's best match."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches = {}
        for e in error.context:
            branches.setdefault(e.relative_schema_path[0], []).append(e)
        closest = min(branches.values(), key=len)
        return deepest(sorted(closest, key=lambda e: list(e.absolute_path))[0])
    best = jsonschema.exceptions.best_match([error])
    return best if best is not None else error


def describe(error):
    e = deepest(error)
    reason = e.message
    if len(reason) > 300:
        reason = reason[:297] + "..."
    return "%s: %s" % (json_path(e.absolute_path), reason)


def read_text(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".zst") or data[:4] == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE, check=True).stdout
    return data


def documents(text):
    """(line number or None, parsed or exception) for a document or JSON lines."""
    stripped = text.strip()
    if not stripped:
        return [(None, ValueError("empty: no JSON document"))]
    try:
        return [(None, json.loads(stripped))]
    except ValueError as whole:
        if "\n" not in stripped:
            return [(None, whole)]
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except ValueError as e:
            out.append((n, e))
    return out


def check_file(path, schemas, expect, counts, offset=0, say=print):
    failed = 0
    try:
        raw = read_text(path)[offset:]
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, subprocess.CalledProcessError) as e:
        say("%s: cannot read: %s" % (path, e))
        return 1
    for line, d in documents(text):
        where = path if line is None else "%s:%d" % (path, line)
        if isinstance(d, Exception):
            say("%s: not JSON: %s" % (where, d))
            failed += 1
            continue
        if not isinstance(d, dict) or "schema" not in d:
            say("%s: $: no \"schema\" key: not a lineage document" % where)
            failed += 1
            continue
        name = d["schema"]
        if expect and name != "lineage.%s/v1" % expect:
            say("%s: $.schema: %s, expected lineage.%s/v1" % (where, short(name), expect))
            failed += 1
            continue
        v = schemas.validator(name)
        if isinstance(v, str):
            say("%s: $.schema: %s" % (where, v))
            failed += 1
            continue
        errors = sorted(v.iter_errors(d), key=lambda e: list(e.absolute_path))
        for e in errors[:10]:
            say("%s: %s: %s" % (where, name, describe(e)))
        if len(errors) > 10:
            say("%s: %s: ... and %d more errors" % (where, name, len(errors) - 10))
        failed += bool(errors)
        counts[name] = counts.get(name, 0) + 1
    return failed


def check_collected(directory, schemas, counts):
    """Validates what collect.sh kept: (documents failed, outputs, empty)."""
    failed = outputs = empty = 0
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".meta"))
    except OSError as e:
        print("%s: cannot read: %s" % (directory, e))
        return 1, 0, 0
    for name in names:
        base = os.path.join(directory, name[:-len(".meta")])
        try:
            with open(base + ".meta", "rb") as f:
                fields = f.read().decode("utf-8", "replace").split("\0")
            status, offset, cwd, caller = fields[:4]
            args = fields[4:-1]
            size = os.path.getsize(base + ".out")
        except (OSError, ValueError) as e:
            print("%s: cannot read: %s" % (base, e))
            failed += 1
            continue
        offset = int(offset) if offset.isdigit() and int(offset) <= size else 0
        outputs += 1
        if size == offset:
            empty += 1
            continue
        lines = []
        failed += check_file(base + ".out", schemas, None, counts, offset, lines.append)
        if lines:
            command = " ".join(json.dumps(a) if not re.match(r"^[\w./:,=@+-]+$", a) else a for a in args)
            for line in lines:
                print(line)
            how = "a stream, from byte %d" % offset if status == "stream" else "exit %s" % status
            print("    printed by: lineage %s (%s) in %s" % (command, how, cwd))
            print("    called by:  %s" % caller[:300])
    return failed, outputs, empty


def main():
    ap = argparse.ArgumentParser(description="Validate lineage JSON output against docs/schema/.")
    ap.add_argument("files", nargs="*", metavar="FILE")
    ap.add_argument("--pair", nargs=2, action="append", default=[], metavar=("NAME", "FILE"),
                    help="FILE must hold lineage.NAME/v1 documents")
    ap.add_argument("--schema-dir", default=DEFAULT_DIR)
    ap.add_argument("--expect", metavar="NAME", help="every document must be lineage.NAME/v1")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--collected", metavar="DIR", help="what tests/schema/collect.sh kept")
    a = ap.parse_args()
    schemas = Schemas(a.schema_dir)
    counts = {}
    failed = 0
    if not a.files and not a.pair and not a.collected:
        ap.error("no FILE")
    if a.collected:
        if not os.path.isdir(a.collected):
            print("validate.py: %s: no such directory (the json_outputs_setup test makes it)" % a.collected,
                  file=sys.stderr)
            return 1
        bad, outputs, empty = check_collected(a.collected, schemas, counts)
        failed += bad
        total = sum(counts.values())
        print("validate.py: %d lineage runs with JSON output kept in %s: %d printed nothing, "
              "%d documents checked (%s), %d invalid" %
              (outputs, a.collected, empty, total,
               ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items())) or "none", failed))
        if not failed:
            shutil.rmtree(a.collected, ignore_errors=True)
        return 1 if failed else 0
    for path in a.files:
        failed += check_file(path, schemas, a.expect, counts)
    for name, path in a.pair:
        failed += check_file(path, schemas, name, counts)
    if not a.quiet or failed:
        total = sum(counts.values())
        what = ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items())) or "none"
        print("validate.py: %d document%s checked (%s), %d invalid" %
              (total, "" if total == 1 else "s", what, failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
