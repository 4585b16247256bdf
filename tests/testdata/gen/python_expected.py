"""Turns inputs.json into golden files with Python's own json.dumps and hashlib.

This is the byte contract: json.dumps(value, sort_keys=True,
separators=(",", ":"), ensure_ascii=False) encoded as UTF-8, and SHA-256 of
{"events": trace} for traces. Run it after make_inputs.ts.
"""
import hashlib
import json
import pathlib

here = pathlib.Path(__file__).parent
data = json.loads((here / "inputs.json").read_text(encoding="utf-8"))


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


values = [{"input": json.dumps(v, ensure_ascii=False), "expected": canonical(v)} for v in data["values"]]
traces = []
for case in data["traces"]:
    text = canonical({"events": case["trace"]})
    traces.append({
        "name": case["name"],
        "trace": case["trace"],
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    })

(here.parent / "canonical_json_python.json").write_text(
    json.dumps(values, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
(here.parent / "trace_hashes_python.json").write_text(
    json.dumps(traces, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(f"wrote {len(values)} canonical cases and {len(traces)} trace hashes")
