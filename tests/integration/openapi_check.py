#!/usr/bin/python3
"""Checks real admin API answers against admin/openapi.json.

    openapi_check.py OPENAPI.json LOG [--coverage]

LOG has one answer per line, as tests/integration/admin_lib.sh's api()
writes it: METHOD PATH STATUS CONTENT-TYPE BODY-FILE. Each answer must be
documented for its operation (the status among the operation's responses,
or a 405 with the Error body for a method the path does not have), and its
body must validate against the documented schema (python3-jsonschema;
OpenAPI's "nullable" is turned into a JSON Schema null type first). The
document itself is checked too: every $ref resolves and every schema is a
valid schema. With --coverage, every operation must have had one of its
2xx answers checked. Prints one line per problem and a summary; exit 1 when
anything is wrong.
"""
import copy
import json
import re
import sys

import jsonschema

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


def to_jsonschema(node):
    """OpenAPI 3.0 schema objects -> JSON Schema (nullable -> type null)."""
    if isinstance(node, list):
        return [to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_jsonschema(v) for k, v in node.items() if k not in ("example", "nullable")}
    if node.get("nullable"):
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


def resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def all_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from all_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from all_refs(v)


def template_regex(path):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    coverage = "--coverage" in sys.argv
    doc = json.load(open(args[0]))
    problems = []

    # The document: references resolve, schemas are schemas.
    for ref in set(all_refs(doc)):
        try:
            resolve(doc, ref)
        except (KeyError, AssertionError):
            problems.append("openapi: $ref %s does not resolve" % ref)
    assert doc.get("openapi", "").startswith("3.0"), "not an OpenAPI 3.0 document"
    jdoc = copy.deepcopy(doc)
    jdoc["components"]["schemas"] = to_jsonschema(doc["components"]["schemas"])
    validator_cls = jsonschema.Draft7Validator
    for name, schema in jdoc["components"]["schemas"].items():
        try:
            validator_cls.check_schema(schema)
        except jsonschema.SchemaError as e:
            problems.append("openapi: schema %s: %s" % (name, e.message))

    templates = [(template_regex(p), p) for p in doc["paths"]]
    checked = 0
    covered = set()
    for lineno, line in enumerate(open(args[1]), 1):
        method, path, status, ctype, body_file = line.rstrip("\n").split(" ", 4)
        path = path.split("?", 1)[0]
        head = method == "HEAD"
        if head:
            method = "GET"  # GET's answer without the body
        where = "%s %s -> %s" % (method, path, status)
        match = [p for rx, p in templates if rx.match(path)]
        if not match:
            if status not in ("401", "404"):
                problems.append("%s: no such path in the document" % where)
            schema_ref = "#/components/schemas/Error"
            op_key = None
        else:
            item = doc["paths"][match[0]]
            op = item.get(method.lower())
            if op is None:
                if status != "405":
                    problems.append("%s: method not documented" % where)
                schema_ref, op_key = "#/components/schemas/Error", None
            else:
                op_key = (method.lower(), match[0])
                resp = op["responses"].get(status) or op["responses"].get("default")
                if resp is None:
                    problems.append("%s: status not documented (has %s)" %
                                    (where, ", ".join(sorted(op["responses"]))))
                    continue
                if "$ref" in resp:
                    resp = resolve(doc, resp["$ref"])
                if head:
                    checked += 1  # only the status is there to check
                    continue
                content = resp.get("content")
                if not content:
                    body = open(body_file, "rb").read()
                    if body:
                        problems.append("%s: a body where none is documented" % where)
                    checked += 1
                    if status.startswith("2"):
                        covered.add(op_key)
                    continue
                mtype = ctype.split(";")[0].strip()
                if mtype not in content:
                    problems.append("%s: Content-Type %s, documented %s" %
                                    (where, mtype, ", ".join(content)))
                    continue
                schema = content[mtype]["schema"]
                if mtype != "application/json":
                    checked += 1
                    if status.startswith("2"):
                        covered.add(op_key)
                    continue
                schema_ref = schema.get("$ref")
                if not schema_ref:
                    schema_ref = None
                    direct = to_jsonschema(schema)
        try:
            body = json.load(open(body_file))
        except ValueError as e:
            problems.append("%s: body is not JSON: %s" % (where, e))
            continue
        if schema_ref:
            schema = {"$ref": schema_ref}
        else:
            schema = direct
        resolver = jsonschema.RefResolver.from_schema(jdoc)
        v = validator_cls(schema, resolver=resolver)
        errors = sorted(v.iter_errors(body), key=lambda e: list(e.path))
        for e in errors[:3]:
            problems.append("%s: %s at /%s" % (where, e.message, "/".join(map(str, e.path))))
        if not errors:
            checked += 1
            if op_key and status.startswith("2"):
                covered.add(op_key)

    if coverage:
        for p, item in doc["paths"].items():
            for m in METHODS:
                if m in item and (m, p) not in covered:
                    problems.append("coverage: no 2xx answer of %s %s was checked" % (m.upper(), p))
    for p in problems:
        print(p)
    print("%d answers match admin/openapi.json, %d problems" % (checked, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
