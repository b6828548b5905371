#!/usr/bin/env python3
"""Refresh the schema subset the event checkers read, from upstream checkouts.

    python3 schemas/refresh.py OCSF_SCHEMA_CHECKOUT ECS_CHECKOUT

OCSF: the class Device Inventory Info (events/discovery/inventory_info.json)
and the objects the events write (OBJECTS below), with what they `extends`
and the profiles they `$include`, and the dictionary trimmed to the
attributes those definitions name (all types kept). An event that writes an
object not listed fails the checker: add the object here and refresh. ECS: `generated/csv/fields.csv`, the rows of the field sets a machine
maps to. Both upstreams are Apache-2.0; their licence files are copied too.
"""
import csv
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CLASS = "events/discovery/inventory_info.json"
# The ECS field sets the ECS documents use (`host.*`, `agent.*`, ...) and the
# base fields (`@timestamp`, `message`, `labels`, `tags`).
# The OCSF objects the events write.
OBJECTS = ["metadata", "product", "device", "network_interface", "os", "group",
           "agent", "cloud", "account"]
ECS_FIELD_SETS = {"base", "agent", "cloud", "device", "event", "group", "host",
                  "observer", "os", "related", "ecs"}


def load(root, rel):
    with open(os.path.join(root, rel)) as f:
        return json.load(f)


def ocsf(src, dst):
    dictionary = load(src, "dictionary.json")
    objects = {}
    for name in os.listdir(os.path.join(src, "objects")):
        if name.endswith(".json"):
            objects[load(src, f"objects/{name}")["name"]] = f"objects/{name}"
    events = {}
    for folder, _, files in os.walk(os.path.join(src, "events")):
        for name in files:
            if name.endswith(".json"):
                rel = os.path.relpath(os.path.join(folder, name), src)
                events[load(src, rel)["name"]] = rel

    keep, attrs, todo = set(), set(), [CLASS] + [objects[o] for o in OBJECTS]
    while todo:
        rel = todo.pop()
        if rel in keep:
            continue
        keep.add(rel)
        d = load(src, rel)
        family = objects if rel.startswith("objects/") else events
        if d.get("extends"):
            todo.append(family[d["extends"]])
        for name, attr in d.get("attributes", {}).items():
            if name == "$include":
                todo.extend(attr if isinstance(attr, list) else [attr])
                continue
            attrs.add(name)

    shutil.rmtree(dst, ignore_errors=True)
    for rel in sorted(keep):
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copyfile(os.path.join(src, rel), os.path.join(dst, rel))
    dictionary["attributes"] = {k: v for k, v in dictionary["attributes"].items() if k in attrs}
    with open(os.path.join(dst, "dictionary.json"), "w") as f:
        json.dump(dictionary, f, indent=2, sort_keys=True)
        f.write("\n")
    for name in ["categories.json", "version.json", "LICENSE", "NOTICE"]:
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))


def ecs(src, dst):
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(src, "generated/csv/fields.csv"), newline="") as f:
        rows = list(csv.reader(f))
    with open(os.path.join(dst, "fields.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(rows[0])
        out.writerows(r for r in rows[1:] if r[2] in ECS_FIELD_SETS)
    shutil.copyfile(os.path.join(src, "LICENSE.txt"), os.path.join(dst, "LICENSE.txt"))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ocsf(sys.argv[1], os.path.join(HERE, "ocsf"))
    ecs(sys.argv[2], os.path.join(HERE, "ecs"))
